"""The GitHub Issues source: issues (not pull requests) by `since=` cursor, comments, timeline, checklists.

Cursor (stream "issues" of the GitHub source): the `updated_at` of the newest issue of the last committed
page. Each run lists `/issues?state=all&sort=updated&direction=asc&since=<cursor - overlap>`; comments and
the timeline are fetched only for issues whose `updated_at` differs from the stored ticket, and each
page is written in one transaction with the cursor (one `collectors.driver.Page`; see
collectors/jira/source.py for why that resumes with no gap and no duplicate). Ticket key: `#<number>`;
status: open (category new) / closed (done).
Timeline events kept: assigned/unassigned, labeled/unlabeled, closed/reopened, with actors. Checklist:
task-list items of the current body (REST does not say who ticked them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from collectors.checklists import parse_markdown_checklist
from collectors.driver import Page, Run, RunResult, run_source
from collectors.github.client import GitHubClient
from collectors.http import Recorder
from collectors.runs import CollectError
from collectors.tickets import write_tickets
from collectors.times import parse_time, utc_parts
from db.models import Ticket
from engagement.config import GitHubSource

STREAM = "issues"
OVERLAP = dt.timedelta(minutes=5)
STATE = {"open": ("open", "new"), "closed": ("closed", "done")}


@dataclass(frozen=True)
class GitHubIssuesResult:
    source_name: str
    run_id: int
    issues_seen: int
    issues_fetched: int
    cursor: str | None


def parse_github_time(value: str | None) -> dt.datetime | None:
    return parse_time(value)


def gh_actor(user: dict | None) -> dict[str, Any]:
    """login, display name and bot flag (type "Bot") of a GitHub user; a deleted account is null."""
    if not user:
        return {"login": None, "name": None, "bot": False}
    return {"login": user.get("login"), "name": user.get("name") or user.get("login"),
            "bot": user.get("type") == "Bot"}


def is_pull_request(item: dict) -> bool:
    return "pull_request" in item


def issue_ticket(source_id: int, item: dict) -> dict | None:
    """The ticket row of one issue document; None for documents without number/created_at (id-only stubs)."""
    if item.get("number") is None or not item.get("created_at"):
        return None
    created, tz = utc_parts(parse_github_time(item["created_at"]))
    state = STATE.get(item.get("state") or "open", ("open", "new"))
    reporter, assignee = gh_actor(item.get("user")), gh_actor(item.get("assignee"))
    labels = [lb.get("name") if isinstance(lb, dict) else str(lb) for lb in item.get("labels") or []]
    return {
        "source_id": source_id, "key": f"#{item['number']}", "tracker_id": str(item["number"]),
        "url": item.get("html_url"), "type": "pull request" if is_pull_request(item) else "issue",
        "title": item.get("title") or "", "labels": "\n".join(x for x in labels if x),
        "status_id": state[0], "status_name": item.get("state_reason") or state[0], "status_category": state[1],
        "reporter_name": reporter["name"], "reporter_email": None, "reporter_login": reporter["login"],
        "reporter_jira_id": None, "reporter_bot": reporter["bot"],
        "assignee_name": assignee["name"], "assignee_email": None, "assignee_login": assignee["login"],
        "assignee_jira_id": None, "assignee_bot": assignee["bot"],
        "created_at": created, "created_tz_minutes": tz,
        "updated_at": utc_parts(parse_github_time(item.get("updated_at")))[0],
        "resolved_at": utc_parts(parse_github_time(item.get("closed_at")))[0],
        "links": "[]", "parent_key": None, "description": item.get("body"), "severity": None,
    }


def _event(source_id: int, key: str, event_id: str, kind: str, at: str, who: dict, **extra) -> dict:
    when, tz = utc_parts(parse_github_time(at))
    row = {"source_id": source_id, "ticket_key": key, "event_id": event_id, "kind": kind, "at": when,
           "tz_minutes": tz, "actor_name": who["name"], "actor_email": None, "actor_login": who["login"],
           "actor_jira_id": None, "actor_bot": who["bot"], "actor_system": False, "from_id": None,
           "from_name": None, "from_category": None, "to_id": None, "to_name": None, "to_category": None,
           "body": None}
    row.update(extra)
    return row


def timeline_events(source_id: int, key: str, timeline: list[dict]) -> list[dict]:
    """Status, assignee and label events of an issue's timeline (or events list), with actors."""
    rows = []
    for ev in timeline:
        kind, at = ev.get("event"), ev.get("created_at")
        if not at or ev.get("id") is None:
            continue
        who = gh_actor(ev.get("actor"))
        eid = f"e{ev['id']}"
        if kind == "closed":
            rows.append(_event(source_id, key, eid, "status", at, who, from_id="open", from_name="open",
                               from_category="new", to_id="closed", to_name="closed", to_category="done"))
        elif kind == "reopened":
            rows.append(_event(source_id, key, eid, "status", at, who, from_id="closed", from_name="closed",
                               from_category="done", to_id="open", to_name="open", to_category="new"))
        elif kind in ("assigned", "unassigned"):
            target = gh_actor(ev.get("assignee"))
            if kind == "assigned":
                rows.append(_event(source_id, key, eid, "assignee", at, who, to_id=target["login"],
                                   to_name=target["name"]))
            else:
                rows.append(_event(source_id, key, eid, "assignee", at, who, from_id=target["login"],
                                   from_name=target["name"]))
        elif kind in ("labeled", "unlabeled"):
            name = (ev.get("label") or {}).get("name")
            extra = {"to_name": name} if kind == "labeled" else {"from_name": name}
            rows.append(_event(source_id, key, eid, "label", at, who, **extra))
    return rows


def comment_events(source_id: int, key: str, comments: list[dict]) -> list[dict]:
    return [_event(source_id, key, f"c{c['id']}", "comment", c["created_at"], gh_actor(c.get("user")),
                   body=c.get("body")) for c in comments if c.get("id") is not None and c.get("created_at")]


def checklist_rows(source_id: int, key: str, body: str | None) -> list[dict]:
    return [{"source_id": source_id, "ticket_key": key, "position": e.position, "level": e.level, "text": e.text,
             "checked": e.checked, "checked_at": None, "checked_by_name": None, "checked_by_login": None,
             "checked_by_jira_id": None} for e in parse_markdown_checklist(body)]


class GitHubIssuesSource:
    """One repository's issues as tickets, for collectors/driver.py (see the module docstring)."""

    kind = "github"
    main_stream = STREAM

    def __init__(self, source: GitHubSource, *, client: GitHubClient | None = None,
                 replay: str | Path | None = None, recorder: Recorder | None = None, max_wait: float = 900.0):
        self.config, self.client = source, client
        self.name = source.repo
        self.key = source.repo
        self.label = f"github issues {source.repo}"
        self._own_client = client is None
        self._replay, self._recorder, self._max_wait = replay, recorder, max_wait
        self.fetched = 0
        self.cursor: str | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        return self.client.secrets if self.client else ()

    def open(self) -> None:
        if self.client is None:
            self.client = GitHubClient.from_env(self.config.base_url, self.config.token_env, replay=self._replay,
                                                recorder=self._recorder, max_wait=self._max_wait)

    def close(self) -> None:
        if self._own_client and self.client is not None:
            self.client.close()

    def pages(self, run: Run) -> Iterator[Page]:
        client, repo, source_id = self.client, self.config.repo, run.source_id
        cursor = self.cursor = run.cursor(STREAM)
        since = None
        if cursor:
            since = (dt.datetime.fromisoformat(cursor) - OVERLAP).strftime("%Y-%m-%dT%H:%M:%SZ")
        for page in client.issues(repo, since):
            issues = [i for i in page if not is_pull_request(i)]
            tickets = [t for t in (_mapped(issue_ticket, source_id, i) for i in issues) if t is not None]
            with run.engine.connect() as conn:
                stored = dict(conn.execute(select(Ticket.key, Ticket.updated_at).where(
                    Ticket.source_id == source_id, Ticket.key.in_([t["key"] for t in tickets]))).all())
            changed = [t for t in tickets if t["key"] not in stored or stored[t["key"]] != t["updated_at"]]
            events, items = [], []
            for t in changed:
                number = int(t["tracker_id"])
                events += _mapped(comment_events, source_id, t["key"], client.comments(repo, number))
                events += _mapped(timeline_events, source_id, t["key"], client.timeline(repo, number))
                items += checklist_rows(source_id, t["key"], t["description"])
            self.fetched += len(changed)
            page_times = [parse_github_time(i.get("updated_at")) for i in page if i.get("updated_at")]
            moves = {}
            if page_times:
                newest = utc_parts(max(page_times))[0].isoformat()
                if cursor is None or newest > cursor:
                    cursor = self.cursor = newest
                moves[STREAM] = cursor
            yield Page(write=lambda conn, a=changed, b=events, c=items: write_tickets(conn, source_id, a, b, c),
                       cursors=moves, seen=len(issues), written=len(changed))

    def summary(self, result: RunResult) -> str:
        return (f"github issues {self.name}: {result.items_seen} issues seen, {self.fetched} fetched, "
                f"cursor {result.cursor_after}")


def _mapped(fn, source_id: int, *args):
    """Rows from GitHub issue documents, or CollectError naming the unexpected shape."""
    try:
        return fn(source_id, *args)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise CollectError(f"GitHub issues: a document of an unexpected shape ({type(exc).__name__}: {exc})") \
            from None


def collect_github_issues(engine: Engine, source: GitHubSource, *, client: GitHubClient | None = None,
                          replay: str | Path | None = None, recorder: Recorder | None = None,
                          wait: bool = True) -> GitHubIssuesResult:
    """Collect one repository's issues incrementally; see the module docstring."""
    src = GitHubIssuesSource(source, client=client, replay=replay, recorder=recorder)
    result = run_source(engine, src, wait=wait, progress=False)
    return GitHubIssuesResult(src.name, result.run_id, result.items_seen, src.fetched, result.cursor_after)
