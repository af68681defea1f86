"""Every Jira sample in ../shared/api-samples parses: DevLake's raw Jira rows reassembled into search pages and
changelog pages served by the replay server, and the Jira Cloud OpenAPI examples. Skipped when absent."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select

from collectors.demo.jira_replay import JiraSite, ReplayServer
from collectors.jira.client import JiraClient
from collectors.jira.source import actor, collect_jira, issue_rows
from db.engine import make_engine
from db.models import Ticket, TicketEvent
from engagement.config import JiraSource
from tests.support.paths import SAMPLES

if not SAMPLES.is_dir():
    SAMPLES = Path("/work/shared/api-samples")
DEVLAKE = SAMPLES / "devlake-raw-tables" / "jira"
OPENAPI = SAMPLES / "jira-cloud-openapi" / "extracted-examples.json"
pytestmark = pytest.mark.skipif(not DEVLAKE.is_dir(), reason=f"API samples not present at {SAMPLES}")
csv.field_size_limit(10**9)


def _rows(name: str) -> list[dict]:
    with (DEVLAKE / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _data(name: str) -> list[dict]:
    return [json.loads(r["data"]) for r in _rows(name)]


def _source(url: str, api: str) -> JiraSource:
    return JiraSource(base_url=url, jql="project in (EE, K5, TEST)", api=api, token_env="NO_TOKEN", page_size=10)


@pytest.mark.parametrize("api", ["cloud", "server"])
def test_devlake_issues_collect_through_search_pages(db_url, api):
    issues = _data("_raw_jira_api_issues.csv") + _data("_raw_jira_api_issue_relationships.csv")
    by_key = {i["key"]: i for i in issues}
    statuses = _data("_raw_jira_api_status.csv")
    site = JiraSite(list(by_key.values()), statuses=statuses)
    with ReplayServer(site) as server:
        engine = make_engine(db_url)
        result = collect_jira(engine, _source(server.url, api),
                              client=JiraClient(server.url, api=api, token="t", sleep=lambda s: None))
    # Independently counted from the raw rows: status/assignee/label items of every history, and comments.
    expected_events = sum(1 for i in by_key.values() for h in (i.get("changelog") or {}).get("histories", [])
                          for it in h["items"] if (it.get("fieldId") or it["field"]).lower()
                          in ("status", "assignee", "labels"))
    expected_events += sum(len((i["fields"].get("comment") or {}).get("comments", [])) for i in by_key.values())
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Ticket)).scalar_one() == len(by_key)
        assert conn.execute(select(func.count()).select_from(TicketEvent)
                            .where(TicketEvent.kind != "checklist")).scalar_one() == expected_events
        ee1 = conn.execute(select(Ticket).where(Ticket.key == "EE-1")).one()
    assert result.issues_fetched == len(by_key)
    raw = by_key["EE-1"]["fields"]
    # Localised name kept as text; the category is the id's, from statusCategory.key.
    assert (ee1.status_id, ee1.status_name, ee1.status_category) == (
        raw["status"]["id"], raw["status"]["name"], raw["status"]["statusCategory"]["key"])
    assert ee1.assignee_jira_id == raw["assignee"]["accountId"]
    assert ee1.created_at.isoformat() == "2020-06-12T00:13:13.360000"  # +0800 -> UTC


def test_devlake_changelog_values_page_and_parse():
    values: dict[str, list[dict]] = defaultdict(list)
    updated: dict[str, str] = {}
    for row in _rows("_raw_jira_api_issue_changelogs.csv"):
        issue_id = row["url"].split("/issue/")[1].split("/")[0]
        values[issue_id].append(json.loads(row["data"]))
        updated[issue_id] = json.loads(row["input"])["update_time"]
    statuses = {str(s["id"]): (s["name"], s["statusCategory"]["key"]) for s in _data("_raw_jira_api_status.csv")}
    site = JiraSite([], changelogs=dict(values))
    with ReplayServer(site) as server:
        client = JiraClient(server.url, token="t", sleep=lambda s: None)
        for issue_id, recorded in values.items():
            # The inline changelog says more histories exist than it holds: the endpoint is paged.
            histories = client.changelog(issue_id, {"total": len(recorded), "histories": recorded[-1:]})
            assert [h["id"] for h in histories] == [h["id"] for h in recorded]
            envelope = {"id": issue_id, "key": f"X-{issue_id}", "fields": {"updated": updated[issue_id]}}
            _ticket, events, _items = issue_rows(1, envelope, histories, [], statuses, server.url)
            status_items = [it for h in recorded for it in h["items"] if it["field"] == "status"]
            status_events = [e for e in events if e["kind"] == "status"]
            assert len(status_events) == len(status_items)
            assert all(e["to_category"] == statuses[e["to_id"]][1] for e in status_events if e["to_id"] in statuses)
        assert len(server.paths("/rest/api/3/issue/13383/changelog")) == 1  # 100 values, one full page


def test_devlake_scrubbed_authors_and_app_users():
    users = _data("_raw_jira_api_users.csv")
    apps = [u for u in users if u.get("accountType") == "app"]
    assert apps and all(actor(u)["bot"] for u in apps)
    assert not any(actor(u)["bot"] for u in users if u.get("accountType") != "app")
    scrubbed = [h["author"] for h in (json.loads(r["data"]) for r in _rows("_raw_jira_api_issue_changelogs.csv"))
                if h.get("author") and not h["author"].get("accountId")]
    assert scrubbed and all(actor(a)["jira_id"] is None for a in scrubbed)


@pytest.mark.skipif(not OPENAPI.is_file(), reason=f"OpenAPI examples not present at {OPENAPI}")
@pytest.mark.parametrize("api", ["cloud", "server"])
def test_openapi_search_examples_parse(db_url, api):
    examples = json.loads(OPENAPI.read_text())

    def example(op: str) -> dict:
        return examples[op]["responses"]["200"]["examples"][0]

    search = example("GET /rest/api/3/search/jql" if api == "cloud" else "GET /rest/api/3/search")
    changelog = example("GET /rest/api/3/issue/{issueIdOrKey}/changelog")
    comments = example("GET /rest/api/3/issue/{issueIdOrKey}/comment")

    def handler(path, query):
        if path.endswith("/status") or path.endswith("/myself"):
            return 200, {}, [] if path.endswith("/status") else {"timeZone": "UTC"}
        if path.endswith("/changelog"):
            return 200, {}, changelog
        if path.endswith("/comment"):
            return 200, {}, comments
        return 200, {}, search

    with ReplayServer(handler) as server:
        engine = make_engine(db_url)
        source = JiraSource(base_url=server.url, jql="project = ED", api=api, token_env="NO_TOKEN")
        collect_jira(engine, source, client=JiraClient(server.url, api=api, token="t", sleep=lambda s: None))
    with engine.connect() as conn:
        keys = conn.execute(select(Ticket.key)).scalars().all()
    assert keys == [i["key"] for i in search["issues"]]
