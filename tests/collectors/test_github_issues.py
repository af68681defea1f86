"""GitHub Issues: task-list parsing, the collector against a local replay server (own fixtures), and every
GitHub issue sample in ../shared/api-samples parsed (skipped when absent)."""

from __future__ import annotations

import ast
import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from collectors.checklists import parse_markdown_checklist
from collectors.demo.jira_replay import ReplayServer
from collectors.github.client import GitHubClient
from collectors.github.issues_source import (
    collect_github_issues,
    comment_events,
    issue_ticket,
    timeline_events,
)
from collectors.runs import CollectError
from db.engine import make_engine
from db.models import ChecklistItem, Ticket, TicketEvent
from engagement.config import GitHubSource

SAMPLES = Path("/work/shared/api-samples")
csv.field_size_limit(10**9)


def test_task_list_items_nested_and_code_blocks_ignored():
    body = "\n".join([
        "Runbook:",
        "- [x] stop the trainer",
        "- [ ] snapshot the store",
        "  - [X] check free disk",
        "    * [ ] really nested",
        "  - [ ] second child",
        "1. [x] numbered item",
        "```sh",
        "- [ ] not an item (code)",
        "```",
        "~~~",
        "- [x] nor this",
        "~~~",
        "- [] malformed, not an item",
        "+ [ ] last",
    ])
    got = [(e.position, e.level, e.text, e.checked) for e in parse_markdown_checklist(body)]
    assert got == [(0, 0, "stop the trainer", True), (1, 0, "snapshot the store", False),
                   (2, 1, "check free disk", True), (3, 2, "really nested", False), (4, 1, "second child", False),
                   (5, 0, "numbered item", True), (6, 0, "last", False)]
    assert parse_markdown_checklist(None) == []


def _client(url: str, **kw) -> GitHubClient:
    return GitHubClient(url, None, seconds_between_requests=0, backoff_factor=0, **kw)


def _user(login: str, bot: bool = False) -> dict:
    return {"login": login, "id": hash(login) % 10000, "type": "Bot" if bot else "User"}


def _issue(n: int, updated: str, **kw) -> dict:
    return {"number": n, "id": 1000 + n, "html_url": f"https://github.com/o/r/issues/{n}", "title": f"issue {n}",
            "state": kw.get("state", "open"), "user": _user("iortiz"), "assignee": kw.get("assignee"),
            "labels": [{"name": x} for x in kw.get("labels", [])], "created_at": "2026-09-08T09:00:00Z",
            "updated_at": updated, "closed_at": kw.get("closed_at"), "body": kw.get("body"),
            **({"pull_request": {"url": "x"}} if kw.get("pr") else {})}


class GitHubRepo:
    """Serves /repos/o/r/issues two per page (Link next via /repositories/1 paths), comments, timelines."""

    def __init__(self, issues, comments, timelines):
        self.issues, self.comments, self.timelines = issues, comments, timelines
        self.faults: list = []

    def __call__(self, path, query):
        if self.faults:
            return self.faults.pop(0)
        if path in ("/repos/o/r/issues", "/repositories/1/issues"):
            since = query.get("since", "")
            chosen = sorted((i for i in self.issues if i["updated_at"] >= since), key=lambda i: i["updated_at"])
            page = int(query.get("page", 1))
            headers = {}
            if page * 2 < len(chosen):
                nxt = f"https://api.github.com/repositories/1/issues?since={since}&page={page + 1}"
                headers["Link"] = f'<{nxt}>; rel="next"'
            return 200, headers, chosen[(page - 1) * 2: page * 2]
        parts = path.split("/")
        if len(parts) == 7 and parts[5].isdigit():
            source = self.comments if parts[6] == "comments" else self.timelines
            return 200, {}, source.get(int(parts[5]), [])
        return 404, {}, {"message": "Not Found"}


def _repo() -> GitHubRepo:
    issues = [
        _issue(1, "2026-09-10T10:00:00Z", state="closed", closed_at="2026-09-10T10:00:00Z",
               labels=["runbook", "runbook:training"], assignee=_user("ivan-k"),
               body="- [x] a\n- [ ] b\n  - [x] c\n```\n- [x] code\n```"),
        _issue(2, "2026-09-11T10:00:00Z", pr=True),
        _issue(3, "2026-09-12T10:00:00Z"),
    ]
    comments = {1: [{"id": 501, "user": _user("mbianchi"), "created_at": "2026-09-09T10:00:00Z", "body": "hint"},
                    {"id": 502, "user": None, "created_at": "2026-09-09T11:00:00Z", "body": "from a ghost"}]}
    timelines = {1: [
        {"id": 601, "event": "assigned", "actor": _user("mbianchi"), "assignee": _user("ivan-k"),
         "created_at": "2026-09-08T09:05:00Z"},
        {"id": 602, "event": "labeled", "actor": _user("renovate[bot]", bot=True), "label": {"name": "runbook"},
         "created_at": "2026-09-08T09:06:00Z"},
        {"id": 603, "event": "closed", "actor": _user("ivan-k"), "created_at": "2026-09-09T12:00:00Z"},
        {"id": 604, "event": "reopened", "actor": None, "created_at": "2026-09-09T13:00:00Z"},
        {"id": 605, "event": "closed", "actor": _user("ivan-k"), "created_at": "2026-09-10T10:00:00Z"},
        {"event": "commented", "user": _user("mbianchi"), "created_at": "2026-09-09T10:00:00Z"},
        {"event": "cross-referenced", "created_at": "2026-09-09T10:00:00Z", "source": {}},
    ]}
    return GitHubRepo(issues, comments, timelines)


def test_github_issues_collector_stores_issues_not_prs_with_events_and_checklist(db_url):
    repo = _repo()
    with ReplayServer(repo) as server:
        engine = make_engine(db_url)
        client = GitHubClient(server.url, "ghp_secret", sleep=lambda s: None, seconds_between_requests=0)
        result = collect_github_issues(engine, GitHubSource(repo="o/r", base_url=server.url), client=client)
        assert "/repositories/1/issues" in server.paths()
    assert (result.issues_seen, result.issues_fetched) == (2, 2)
    with engine.connect() as conn:
        tickets = conn.execute(select(Ticket.key, Ticket.status_category, Ticket.assignee_login, Ticket.labels)
                               .order_by(Ticket.key)).all()
        events = pd.DataFrame([dict(r._mapping) for r in conn.execute(
            select(TicketEvent).where(TicketEvent.ticket_key == "#1").order_by(TicketEvent.at))])
        items = conn.execute(select(ChecklistItem.level, ChecklistItem.text, ChecklistItem.checked)
                             .order_by(ChecklistItem.position)).all()
    assert [tuple(t) for t in tickets] == [("#1", "done", "ivan-k", "runbook\nrunbook:training"),
                                           ("#3", "new", None, "")]
    events = events.astype(object).where(events.notna(), None)
    assert list(zip(events["kind"], events["actor_login"], events["to_category"], strict=True)) == [
        ("assignee", "mbianchi", None), ("label", "renovate[bot]", None), ("comment", "mbianchi", None),
        ("comment", None, None), ("status", "ivan-k", "done"), ("status", None, "new"),
        ("status", "ivan-k", "done")]
    assert bool(events.iloc[1]["actor_bot"]) is True
    assert [tuple(i) for i in items] == [(0, "a", True), (0, "b", False), (1, "c", True)]


def test_github_rerun_fetches_no_comments_or_timelines_and_rate_limits_are_waited(db_url):
    repo = _repo()
    slept: list[float] = []
    with ReplayServer(repo) as server:
        engine = make_engine(db_url)
        source = GitHubSource(repo="o/r", base_url=server.url)
        collect_github_issues(engine, source, client=_client(server.url, sleep=slept.append))
        server.requests.clear()
        repo.faults = [(429, {"Retry-After": "3"}, {"message": "You have exceeded a secondary rate limit"}),
                       (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "0"}, {"message": "API rate limit"})]
        client = _client(server.url, sleep=slept.append)
        again = collect_github_issues(engine, source, client=client)
        paths = server.paths()
        since = [q.get("since") for p, q, _ in server.requests if p == "/repos/o/r/issues"]
    assert again.issues_fetched == 0
    assert not [p for p in paths if p.endswith("/comments") or p.endswith("/timeline")]
    assert since[-1] == "2026-09-12T09:55:00Z"  # cursor minus the 5-minute overlap
    assert client.waits[:2] == [3.0, 1.0]  # Retry-After as told; a past reset: 1 s past it
    assert sum(slept) == pytest.approx(sum(client.waits))


# --- recorded samples -------------------------------------------------------------------------------------

def _pygithub(name: str) -> list[tuple[str, int, list, object]]:
    """(path?query, status, headers, body) of each exchange of a PyGithub ReplayData file."""
    lines = (SAMPLES / "pygithub-replaydata" / name).read_text(encoding="utf-8").split("\n")
    out, i = [], 0
    while i + 9 < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        path, status, headers, body = lines[i + 4], int(lines[i + 7]), ast.literal_eval(lines[i + 8]), lines[i + 9]
        out.append((path, status, headers, json.loads(body) if body.strip() else None))
        i += 10
    return out


PYGITHUB_ISSUE_FILES = ["Issue.setUp.txt", "Issue.testGetComments.txt", "Issue.testGetCommentsSince.txt",
                        "Issue.testGetEvents.txt", "Issue.testGetTimeline.txt", "Issue572.testIssueAsPullRequest.txt",
                        "IssueEvent.setUp.txt", "PaginatedList.testCustomPerPage.txt",
                        "PaginatedList.testGetThirdPage.txt", "PaginatedList.testIteration.txt",
                        "PullRequest.testGetIssueEvents.txt", "PullRequest.testGetIssueTimeline.txt",
                        "Repository.testGetIssues.txt", "Repository.testGetIssuesEvents.txt",
                        "Repository.testGetIssuesWithArguments.txt", "Repository.testGetIssuesWithTypeArgument.txt"]


ID_ONLY = {"PaginatedList.testIteration.txt", "PaginatedList.testCustomPerPage.txt"}


def _parse_issue_body(path: str, body) -> int:
    """Map one recorded response through the collector's row functions; returns rows produced."""
    p = path.split("?")[0].rstrip("/")
    docs = body if isinstance(body, list) else [body]
    if p.endswith("/comments"):
        return len(comment_events(1, "#1", docs))
    if p.endswith("/events") or p.endswith("/timeline") or "/issues/events/" in p:
        return len(timeline_events(1, "#1", docs))
    if "/issues" in p:
        return sum(1 for d in docs if issue_ticket(1, d) is not None)
    return 0


@pytest.mark.skipif(not (SAMPLES / "pygithub-replaydata").is_dir(), reason=f"API samples not present at {SAMPLES}")
@pytest.mark.parametrize("name", PYGITHUB_ISSUE_FILES)
def test_pygithub_issue_recordings_parse(name):
    produced = sum(_parse_issue_body(path, body) for path, status, _h, body in _pygithub(name)
                   if status == 200 and body is not None)
    if name in ID_ONLY:  # these recordings keep only the issue ids: stubs are recognised, not stored
        assert produced == 0
    else:
        assert produced > 0


@pytest.mark.skipif(not (SAMPLES / "pygithub-replaydata").is_dir(), reason=f"API samples not present at {SAMPLES}")
def test_recorded_issue_pages_are_followed_by_link_header():
    exchanges = {path: (status, dict(headers), body)
                 for path, status, headers, body in _pygithub("PaginatedList.testIteration.txt")}

    def handler(path, query):
        key = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        status, headers, body = exchanges[key]
        link = {k.lower(): v for k, v in headers.items()}.get("link")
        return status, ({"Link": link} if link else {}), body

    with ReplayServer(handler) as server:
        pages = list(_client(server.url).get_pages("/repos/openframeworks/openFrameworks/issues"))
    assert len(pages) == 14 and sum(map(len, pages)) == sum(len(b) for _s, _h, b in exchanges.values())


@pytest.mark.skipif(not (SAMPLES / "octokit-fixtures").is_dir(), reason=f"API samples not present at {SAMPLES}")
def test_octokit_paginated_issues_follow_repositories_id_links():
    fixture = json.loads((SAMPLES / "octokit-fixtures" / "paginate-issues.normalized-fixture.json").read_text())
    by_path = {f["path"]: f for f in fixture}

    def handler(path, query):
        key = path + "?" + "&".join(f"{k}={v}" for k, v in query.items())
        f = by_path[key]
        return f["status"], {k: v for k, v in f["headers"].items() if k.lower() == "link"}, f["response"]

    with ReplayServer(handler) as server:
        pages = list(_client(server.url).get_pages(
            "/repos/octokit-fixture-org/paginate-issues/issues", {"per_page": 3}))
    assert len(pages) == 5
    tickets = [issue_ticket(1, i) for page in pages for i in page]
    assert all(t is not None for t in tickets) and len(tickets) == sum(len(f["response"]) for f in fixture)


@pytest.mark.skipif(not (SAMPLES / "devlake-raw-tables").is_dir(), reason=f"API samples not present at {SAMPLES}")
def test_devlake_github_issues_comments_events_parse():
    def rows(name):
        with (SAMPLES / "devlake-raw-tables" / "github" / name).open(newline="", encoding="utf-8") as fh:
            return [json.loads(r["data"]) for r in csv.DictReader(fh)]

    issues = rows("_raw_github_api_issues.csv")
    tickets = [issue_ticket(1, i) for i in issues]
    assert all(t is not None for t in tickets)
    assert sum(t["type"] == "issue" for t in tickets) == sum("pull_request" not in i for i in issues)
    comments = rows("_raw_github_api_comments.csv")
    assert len(comment_events(1, "#1", comments)) == len(comments)
    events = rows("_raw_github_api_events.csv")
    kept = timeline_events(1, "#1", events)
    expected = sum(e["event"] in ("closed", "reopened", "assigned", "unassigned", "labeled", "unlabeled")
                   for e in events)
    assert len(kept) == expected


@pytest.mark.skipif(not (SAMPLES / "hub4j-github-api-wiremock").is_dir(), reason="API samples not present")
def test_hub4j_issue_event_files_parse():
    files = sorted((SAMPLES / "hub4j-github-api-wiremock" / "GHIssueEventTest").glob("*/__files/*issues*.json"))
    assert files
    for f in files:
        body = json.loads(f.read_text())
        name = f.name
        if "events" in name:
            timeline_events(1, "#1", body if isinstance(body, list) else [body])
        else:
            docs = body if isinstance(body, list) else [body]
            assert all(issue_ticket(1, d) is not None for d in docs), name


def test_github_resume_after_exhausted_rate_limit_has_no_gap_and_no_duplicates(db_url):
    repo = _repo()
    repo.issues += [_issue(n, f"2026-09-{10 + n}T10:00:00Z") for n in (4, 5, 6)]
    with ReplayServer(repo) as server:
        engine = make_engine(db_url)
        source = GitHubSource(repo="o/r", base_url=server.url)

        def limited(path, query):
            if path == "/repositories/1/issues" and query.get("page") == "2":
                return 403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "9999999999"}, {"message": "API rate"}
            return GitHubRepo.__call__(repo, path, query)

        server.handler = limited
        with pytest.raises(CollectError, match="rate limited"):
            collect_github_issues(engine, source, client=_client(server.url, max_wait=60))
        with engine.connect() as conn:
            assert conn.execute(select(Ticket.key).order_by(Ticket.key)).scalars().all() == ["#1"]  # page 1 only
        server.handler = repo
        collect_github_issues(engine, source, client=_client(server.url))
    with engine.connect() as conn:
        keys = conn.execute(select(Ticket.key).order_by(Ticket.key)).scalars().all()
        comments = conn.execute(select(TicketEvent.event_id).where(TicketEvent.kind == "comment")).scalars().all()
    assert keys == ["#1", "#3", "#4", "#5", "#6"]
    assert sorted(comments) == ["c501", "c502"]
