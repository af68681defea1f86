"""The Jira collector against a local replay server: paging, changelogs, rate limits, ids, resume."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest
from sqlalchemy import func, select

from collectors.demo.jira_replay import JiraSite, ReplayServer
from collectors.jira.client import JiraClient, parse_jira_time
from collectors.jira.source import collect_jira
from collectors.runs import CollectError
from db.engine import make_engine
from db.models import ChecklistItem, CollectionRun, Identity, Ticket, TicketEvent
from engagement.config import JiraSource
from tests.support.jira_fixtures import (
    STATUSES,
    assignee_item,
    comment,
    description_item,
    history,
    issue,
    status_item,
    user,
)
from tests.support.paths import ROOT

ANA = user("acc-ana", "Ana Internal")
VIC = user("acc-vic", "Vic Vendor", email="vic@acme.example")
BOT = user("acc-bot", "Automation for Jira", app=True)
GONE = user("acc-gone", "Former user", active=False)


def _issues(n: int) -> list[dict]:
    return [issue(f"OPS-{i}", 100 + i, created=f"2026-09-0{i}T09:00:00.000+0200",
                  updated=f"2026-09-0{i}T10:00:00.000+0200") for i in range(1, n + 1)]


def _source(url: str, **kw) -> JiraSource:
    return JiraSource(base_url=url, jql="project = OPS ORDER BY created", token_env="NO_SUCH_TOKEN_ENV", **kw)


def _client(url: str, api: str = "cloud", **kw) -> JiraClient:
    return JiraClient(url, api=api, token="s3cret-token", sleep=kw.pop("sleep", lambda s: None), backoff_factor=0,
                      **kw)


def _tickets(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(select(Ticket.key, Ticket.status_category, Ticket.assignee_jira_id)).all()
    return pd.DataFrame(rows, columns=["key", "category", "assignee"]).sort_values("key").reset_index(drop=True)


def _events(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(select(TicketEvent).order_by(TicketEvent.ticket_key, TicketEvent.event_id))
        return pd.DataFrame([dict(r._mapping) for r in result]) if result else pd.DataFrame()


def test_jira_timestamps_with_offsets_without_colon_parse():
    assert parse_jira_time("2021-01-25T21:49:52.514+0800") == dt.datetime(2021, 1, 25, 13, 49, 52, 514000,
                                                                          tzinfo=dt.UTC)
    assert parse_jira_time("2021-01-25T21:49:52Z").utcoffset() == dt.timedelta(0)
    with pytest.raises(ValueError, match="expected an ISO 8601 time like 2021-01-25T21:49:52.514"):
        parse_jira_time("yesterday")


def test_cloud_search_pages_by_next_page_token_until_is_last(db_url):
    site = JiraSite(_issues(5), statuses=STATUSES)
    with ReplayServer(site) as server:
        engine = make_engine(db_url)
        result = collect_jira(engine, _source(server.url, page_size=2), client=_client(server.url))
        tokens = [q.get("nextPageToken") for p, q, _ in server.requests
                  if p == "/rest/api/3/search/jql" and q["fields"] == "updated"]
    assert tokens == [None, "tok-2", "tok-4"]
    assert result.issues_seen == 5 and result.issues_fetched == 5
    assert list(_tickets(engine)["key"]) == ["OPS-1", "OPS-2", "OPS-3", "OPS-4", "OPS-5"]
    # The cursor is the newest `updated`, in UTC.
    assert result.cursor == "2026-09-05T08:00:00"


def test_server_search_pages_by_start_at(db_url):
    site = JiraSite(_issues(5), statuses=STATUSES)
    with ReplayServer(site) as server:
        engine = make_engine(db_url)
        collect_jira(engine, _source(server.url, api="server", page_size=2), client=_client(server.url, "server"))
        starts = [q["startAt"] for p, q, _ in server.requests if p == "/rest/api/2/search" and q["fields"] == "updated"]
    assert starts == ["0", "2", "4"]
    assert len(_tickets(engine)) == 5


def test_truncated_changelog_is_paged_and_categories_come_from_status_ids(db_url):
    # Five transitions, only the last two inline: the collector must page the changelog endpoint.
    full = [
        history(1, "2026-09-01T10:00:00.000+0800", ANA, status_item("1", "10070")),
        history(2, "2026-09-01T11:00:00.000+0800", ANA, status_item("10070", "1")),
        history(3, "2026-09-01T12:00:00.000+0800", None, status_item("1", "3")),  # no author: system
        history(4, "2026-09-01T13:00:00.000+0800", GONE, status_item("3", "10068")),
        history(5, "2026-09-01T14:00:00.000+0800", BOT, assignee_item(None, ANA)),
    ]
    doc = issue("OPS-1", 101, created="2026-09-01T09:00:00.000+0800", updated="2026-09-01T14:00:00.000+0800",
                status="10068", histories=full, assignee=ANA)
    site = JiraSite([doc], statuses=STATUSES, changelogs={"101": full}, inline_changelog_limit=2)
    with ReplayServer(site) as server:
        engine = make_engine(db_url)
        collect_jira(engine, _source(server.url), client=_client(server.url))
        assert server.paths("/rest/api/3/issue/101/changelog")
    ev = _events(engine)
    status = ev[ev["kind"] == "status"]
    assert list(status["to_category"]) == ["indeterminate", "new", "indeterminate", "done"]
    assert list(status["to_name"])[-1] == "已完成"
    assert list(status["at"].dt.hour) == [2, 3, 4, 5]  # +0800 to UTC
    assert list(status["actor_system"]) == [False, False, True, False]
    deleted = status.iloc[3]
    assert (deleted["actor_name"], deleted["actor_jira_id"]) == ("Former user", "acc-gone")
    assigned = ev[ev["kind"] == "assignee"].iloc[0]
    assert (assigned["to_id"], bool(assigned["actor_bot"])) == ("acc-ana", True)
    assert _tickets(engine).iloc[0]["category"] == "done"
    with engine.connect() as conn:
        ids = dict(conn.execute(select(Identity.value, Identity.display_name).where(Identity.kind == "jira")).all())
    assert ids == {"acc-ana": "Ana Internal", "acc-gone": "Former user", "acc-bot": "Automation for Jira"}


def test_comments_ticks_and_checklist_are_stored_with_their_authors(db_url):
    before = "Steps:\n- [ ] drain traffic\n- [ ] restore snapshot\n  - [ ] verify checksums"
    after = "Steps:\n- [x] drain traffic\n- [ ] restore snapshot\n  - [x] verify checksums"
    adf = {"type": "doc", "version": 1, "content": [{"type": "taskList", "content": [
        {"type": "taskItem", "attrs": {"state": "DONE"}, "content": [{"type": "text", "text": "drain traffic"}]},
        {"type": "taskItem", "attrs": {"state": "TODO"}, "content": [{"type": "text", "text": "restore snapshot"}]},
        {"type": "taskList", "content": [
            {"type": "taskItem", "attrs": {"state": "DONE"},
             "content": [{"type": "text", "text": "verify checksums"}]}]}]}]}
    doc = issue("OPS-7", 107, created="2026-09-01T09:00:00.000+0000", updated="2026-09-01T12:00:00.000+0000",
                histories=[history(9, "2026-09-01T11:00:00.000+0000", VIC, description_item(before, after))],
                comments=[comment(55, "2026-09-01T10:30:00.000+0000", VIC, "did you drain first?")],
                description=adf, labels=["runbook", "runbook:restore"])
    with ReplayServer(JiraSite([doc], statuses=STATUSES)) as server:
        engine = make_engine(db_url)
        collect_jira(engine, _source(server.url), client=_client(server.url))
    ev = _events(engine)
    assert list(zip(ev["kind"], ev["actor_jira_id"], ev["to_name"].fillna(ev["body"]), strict=True)) == [
        ("comment", "acc-vic", "did you drain first?"),
        ("checklist", "acc-vic", "drain traffic"),
        ("checklist", "acc-vic", "verify checksums"),
    ]
    with engine.connect() as conn:
        items = conn.execute(select(ChecklistItem.position, ChecklistItem.level, ChecklistItem.text,
                                    ChecklistItem.checked, ChecklistItem.checked_by_jira_id)
                             .order_by(ChecklistItem.position)).all()
    assert [tuple(i) for i in items] == [(0, 0, "drain traffic", True, "acc-vic"),
                                         (1, 0, "restore snapshot", False, None),
                                         (2, 1, "verify checksums", True, "acc-vic")]


def test_429_with_retry_after_and_iso_rate_limit_reset_is_waited_out(db_url):
    site = JiraSite(_issues(2), statuses=STATUSES)
    reset = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)).isoformat(timespec="milliseconds")
    site.faults = [
        (lambda p, q: p.endswith("/search/jql"), (429, {"Retry-After": "7"}, {"errorMessages": ["slow down"]})),
        (lambda p, q: p.endswith("/search/jql"), (429, {"X-RateLimit-Reset": reset}, {})),
        (lambda p, q: p.endswith("/search/jql"), (503, {"Retry-After": "2"}, "")),
    ]
    slept: list[float] = []
    with ReplayServer(site) as server:
        engine = make_engine(db_url)
        client = _client(server.url, sleep=slept.append)
        collect_jira(engine, _source(server.url), client=client)
    assert client.waits[0] == 7 and 20 < client.waits[1] <= 30 and client.waits[2] == 2
    assert sum(slept) == pytest.approx(sum(client.waits))  # each wait counted down through the injected sleep
    assert len(_tickets(engine)) == 2


def test_rerun_with_nothing_new_fetches_no_issue_bodies_and_changed_issue_only(db_url):
    docs = _issues(3)
    site = JiraSite(docs, statuses=STATUSES, timezone="Asia/Shanghai")
    with ReplayServer(site) as server:
        engine = make_engine(db_url)
        collect_jira(engine, _source(server.url), client=_client(server.url))
        server.requests.clear()
        again = collect_jira(engine, _source(server.url), client=_client(server.url))
        searches = [q for p, q, _ in server.requests if p.endswith("/search/jql")]
        assert again.issues_fetched == 0
        assert [q["fields"] for q in searches] == ["updated"]
        # The overlap (10 min) is expressed in the Jira user's zone (UTC+8): cursor 08:00Z -> 15:50 local.
        assert '"2026/09/03 15:50"' in searches[0]["jql"]
        assert searches[0]["jql"].startswith("(project = OPS) AND updated >=")
        docs[1]["fields"]["updated"] = "2026-09-10T10:00:00.000+0200"
        docs[1]["fields"]["summary"] = "renamed"
        server.requests.clear()
        third = collect_jira(engine, _source(server.url), client=_client(server.url))
        bodies = [q["jql"] for p, q, _ in server.requests if p.endswith("/search/jql") and q["fields"] != "updated"]
    assert third.issues_fetched == 1 and bodies == ['key in ("OPS-2")']
    with engine.connect() as conn:
        assert conn.execute(select(Ticket.title).where(Ticket.key == "OPS-2")).scalar_one() == "renamed"


def test_resume_after_exhausted_429_has_no_gap_and_no_duplicates(db_url):
    docs = _issues(6)
    for d in docs:
        d["fields"]["comment"] = {"comments": [comment(int(d["id"]), d["fields"]["created"], ANA, "hi")], "total": 1}
    site = JiraSite(docs, statuses=STATUSES)
    site.faults = [(lambda p, q: q.get("nextPageToken") == "tok-4" and q.get("fields") == "updated",
                    (429, {"Retry-After": "3600"}, {}))]
    with ReplayServer(site) as server:
        engine = make_engine(db_url)
        with pytest.raises(CollectError, match="rate limited for 3600 s .* more than --max-wait 60 s"):
            collect_jira(engine, _source(server.url, page_size=2), client=_client(server.url, max_wait=60))
        assert list(_tickets(engine)["key"]) == ["OPS-1", "OPS-2", "OPS-3", "OPS-4"]
        collect_jira(engine, _source(server.url, page_size=2), client=_client(server.url))
    assert list(_tickets(engine)["key"]) == [f"OPS-{i}" for i in range(1, 7)]
    assert len(_events(engine)) == 6  # one comment each, none twice
    with engine.connect() as conn:
        statuses = conn.execute(select(CollectionRun.status).order_by(CollectionRun.id)).scalars().all()
    assert statuses == ["failed", "success"]


def test_resume_after_kill_9_has_no_gap_and_no_duplicates(tmp_path, db_url):
    docs = _issues(6)
    site = JiraSite(docs, statuses=STATUSES)
    reached, release = threading.Event(), threading.Event()

    def block_third_page(path, query):
        if query.get("nextPageToken") == "tok-4" and query.get("fields") == "updated":
            reached.set()
            release.wait(30)
        return False

    site.faults = [(block_third_page, (500, {}, {}))]
    with ReplayServer(site) as server:
        config = tmp_path / "engagement.toml"
        config.write_text(f'[engagement]\nname = "t"\nstart = 2026-09-07\n[[sources.jira]]\nbase_url = "{server.url}"\n'
                          f'jql = "project = OPS ORDER BY created"\ntoken_env = "T_TOKEN"\npage_size = 2\n')
        env = {**os.environ, "T_TOKEN": "tok", "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-m", "collectors", "collect", "--config", str(config),
                                 "--db", db_url, "--quiet"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert reached.wait(60), proc.stderr.read() if proc.poll() is not None else "no third page request"
            time.sleep(0.2)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        finally:
            release.set()
        engine = make_engine(db_url)
        assert list(_tickets(engine)["key"]) == ["OPS-1", "OPS-2", "OPS-3", "OPS-4"]
        collect_jira(engine, _source(server.url, page_size=2), client=_client(server.url))
    assert list(_tickets(engine)["key"]) == [f"OPS-{i}" for i in range(1, 7)]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Ticket)).scalar_one() == 6
        statuses = conn.execute(select(CollectionRun.status).order_by(CollectionRun.id)).scalars().all()
    assert statuses == ["abandoned", "success"]


def test_errors_name_the_url_and_never_show_the_token(db_url):
    site = JiraSite([], statuses=STATUSES)
    site.faults = [(lambda p, q: p.endswith("/search/jql"), (401, {}, {"errorMessages": ["bad s3cret-token"]}))]
    with ReplayServer(site) as server:
        engine = make_engine(db_url)
        with pytest.raises(CollectError) as info:
            collect_jira(engine, _source(server.url), client=_client(server.url))
    message = str(info.value)
    assert "/rest/api/3/search/jql: HTTP 401" in message and "s3cret-token" not in message
    with engine.connect() as conn:
        error = conn.execute(select(CollectionRun.error)).scalar_one()
    assert "s3cret-token" not in error and "HTTP 401" in error
