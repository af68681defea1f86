"""The Jira source: which issues to read, mapping issues to ticket rows, one transaction per page.

Cursor (stream "issues"): the `updated` time (UTC ISO) of the last issue of the last committed page.
Each run searches `(<jql>) AND updated >= "<cursor - overlap>" ORDER BY updated ASC, key ASC` asking only
for `updated` (no bodies), then fetches full bodies (fields, changelog, comments) only for issues whose
`updated` differs from the stored ticket. A rerun with nothing new therefore fetches no issue bodies;
the overlap re-scans the last minutes because the search is eventually consistent. Every page of
issues is written in one transaction together with the cursor (a `collectors.driver.Page`), so a
crash, kill -9 or an exhausted 429 retry leaves whole pages only, and the rerun continues after the last
committed page: no gap (ascending `updated` order) and no duplicate (upserts by natural key).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from collectors.checklists import adf_text, checklist_of, newly_ticked
from collectors.driver import Page, Run, RunResult, run_source
from collectors.http import Recorder
from collectors.jira.client import JiraClient, parse_jira_time
from collectors.runs import CollectError
from collectors.tickets import utc_parts, write_tickets
from db.models import Ticket, TicketStatus
from db.upsert import upsert
from engagement.config import JiraSource

STREAM = "issues"
BODY_FIELDS = ("summary,issuetype,labels,status,reporter,assignee,creator,created,updated,resolutiondate,"
               "issuelinks,subtasks,parent,description,comment")
_ORDER_BY = re.compile(r"\s+order\s+by\s+.*$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class JiraCollectResult:
    source_name: str
    run_id: int
    issues_seen: int
    issues_fetched: int
    cursor: str | None


def actor(user: dict | None) -> dict[str, Any]:
    """Identity columns of a Jira user: name, email (often hidden), account id, bot (accountType app).
    Server/DC users have no accountId: their `key` (or `name`) stands in for it."""
    if not user:
        return {"name": None, "email": None, "jira_id": None, "bot": False}
    account = user.get("accountId") or user.get("key") or user.get("name") or None
    return {"name": user.get("displayName") or None, "email": user.get("emailAddress") or None,
            "jira_id": account, "bot": user.get("accountType") == "app"}


def _prefixed(prefix: str, who: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}_name": who["name"], f"{prefix}_email": who["email"], f"{prefix}_jira_id": who["jira_id"],
            f"{prefix}_login": None, f"{prefix}_bot": who["bot"]}


def _links(fields: dict) -> list[dict]:
    links = []
    for link in fields.get("issuelinks") or []:
        kind = (link.get("type") or {}).get("name")
        for direction in ("outward", "inward"):
            other = link.get(f"{direction}Issue")
            if other and other.get("key"):
                links.append({"type": kind, "direction": direction, "key": other["key"]})
    for sub in fields.get("subtasks") or []:
        if sub.get("key"):
            links.append({"type": "subtask", "direction": "outward", "key": sub["key"]})
    return links


def _severity(fields: dict, field_name: str | None) -> str | None:
    if not field_name:
        return None
    value = fields.get(field_name)
    if isinstance(value, dict):
        value = value.get("value") or value.get("name")
    return str(value) if value not in (None, "") else None


def issue_rows(source_id: int, issue: dict, histories: list[dict], comments: list[dict],
               statuses: dict[str, tuple[str, str | None]], base_url: str,
               severity_field: str | None = None) -> tuple[dict, list[dict], list[dict]]:
    """Rows for one issue: its ticket, its events (status, assignee, label, comment, checklist ticks)
    and its checklist items. Status categories come from status ids (`statuses`: id -> (name, category))."""
    key = issue.get("key")
    fields = issue.get("fields") or {}
    if not key or not isinstance(fields, dict):
        raise ValueError(f"expected an issue with 'key' and 'fields', got keys {sorted(issue)[:8]}")
    status = fields.get("status") or {}
    status_id = str(status["id"]) if status.get("id") is not None else None
    category = (status.get("statusCategory") or {}).get("key") or statuses.get(status_id or "", (None, None))[1]
    # Without `created` (a restricted field list) the first known time stands in: updated.
    created, created_tz = utc_parts(parse_jira_time(fields.get("created") or fields.get("updated")))
    if created is None:
        raise ValueError("expected fields.created or fields.updated (a time like 2021-01-25T21:49:52.514+0800)")
    description = fields.get("description")
    ticket = {
        "source_id": source_id, "key": key, "tracker_id": str(issue.get("id")) if issue.get("id") else None,
        "url": f"{base_url.rstrip('/')}/browse/{key}", "type": (fields.get("issuetype") or {}).get("name"),
        "title": fields.get("summary") or "", "labels": "\n".join(fields.get("labels") or []),
        "status_id": status_id, "status_name": status.get("name"), "status_category": category,
        **_prefixed("reporter", actor(fields.get("reporter") or fields.get("creator"))),
        **_prefixed("assignee", actor(fields.get("assignee"))),
        "created_at": created, "created_tz_minutes": created_tz,
        "updated_at": utc_parts(parse_jira_time(fields.get("updated")))[0],
        "resolved_at": utc_parts(parse_jira_time(fields.get("resolutiondate")))[0],
        "links": json.dumps(_links(fields)), "parent_key": (fields.get("parent") or {}).get("key"),
        "description": adf_text(description).strip() if isinstance(description, dict) else description,
        "severity": _severity(fields, severity_field),
    }
    events: list[dict] = []
    ticks: dict[str, dict] = {}
    for history in histories:
        when, tz = utc_parts(parse_jira_time(history.get("created")))
        if when is None:
            continue
        author = history.get("author")
        who = actor(author)
        base = {"source_id": source_id, "ticket_key": key, "at": when, "tz_minutes": tz,
                "actor_name": who["name"], "actor_email": who["email"], "actor_login": None,
                "actor_jira_id": who["jira_id"], "actor_bot": who["bot"], "actor_system": not author,
                "from_id": None, "from_name": None, "from_category": None, "to_id": None, "to_name": None,
                "to_category": None, "body": None}
        for index, item in enumerate(history.get("items") or []):
            field = (item.get("fieldId") or item.get("field") or "").lower()
            event_id = f"h{history.get('id')}:{index}"
            if field == "status":
                events.append({**base, "event_id": event_id, "kind": "status",
                               "from_id": item.get("from"), "from_name": item.get("fromString"),
                               "from_category": statuses.get(str(item.get("from")), (None, None))[1],
                               "to_id": item.get("to"), "to_name": item.get("toString"),
                               "to_category": statuses.get(str(item.get("to")), (None, None))[1]})
            elif field == "assignee":
                events.append({**base, "event_id": event_id, "kind": "assignee",
                               "from_id": item.get("from"), "from_name": item.get("fromString"),
                               "to_id": item.get("to"), "to_name": item.get("toString")})
            elif field == "labels":
                events.append({**base, "event_id": event_id, "kind": "label",
                               "from_name": item.get("fromString"), "to_name": item.get("toString")})
            elif field == "description":
                for n, text in enumerate(newly_ticked(item.get("fromString"), item.get("toString"))):
                    events.append({**base, "event_id": f"{event_id}:{n}", "kind": "checklist", "to_name": text})
                    ticks[text] = {"checked_at": when, "checked_by_name": who["name"],
                                   "checked_by_jira_id": who["jira_id"]}
    for comment in comments:
        when, tz = utc_parts(parse_jira_time(comment.get("created")))
        if when is None or comment.get("id") is None:
            continue
        who = actor(comment.get("author"))
        body = comment.get("body")
        events.append({"source_id": source_id, "ticket_key": key, "event_id": f"c{comment['id']}", "kind": "comment",
                       "at": when, "tz_minutes": tz, "actor_name": who["name"], "actor_email": who["email"],
                       "actor_login": None, "actor_jira_id": who["jira_id"], "actor_bot": who["bot"],
                       "actor_system": False, "from_id": None, "from_name": None, "from_category": None,
                       "to_id": None, "to_name": None, "to_category": None,
                       "body": adf_text(body).strip() if isinstance(body, dict) else body})
    items = []
    for entry in checklist_of(description):
        tick = ticks.get(entry.text) if entry.checked else None
        items.append({"source_id": source_id, "ticket_key": key, "position": entry.position, "level": entry.level,
                      "text": entry.text, "checked": entry.checked,
                      "checked_at": tick["checked_at"] if tick else None,
                      "checked_by_name": tick["checked_by_name"] if tick else None, "checked_by_login": None,
                      "checked_by_jira_id": tick["checked_by_jira_id"] if tick else None})
    return ticket, events, items


def search_jql(jql: str, since: dt.datetime | None, timezone: str) -> str:
    """The configured JQL (its ORDER BY dropped), limited to `updated >= since` in the Jira user's zone."""
    base = _ORDER_BY.sub("", jql).strip()
    clause = f"({base})" if base else ""
    if since is not None:
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        local = since.replace(tzinfo=dt.UTC).astimezone(zone)
        bound = f'updated >= "{local:%Y/%m/%d %H:%M}"'
        clause = f"{clause} AND {bound}" if clause else bound
    return f"{clause} ORDER BY updated ASC, key ASC".strip()


def _stored_updated(conn: Connection, source_id: int, keys: Iterable[str]) -> dict[str, dt.datetime | None]:
    keys = list(keys)
    if not keys:
        return {}
    rows = conn.execute(select(Ticket.key, Ticket.updated_at).where(Ticket.source_id == source_id,
                                                                    Ticket.key.in_(keys))).all()
    return {k: u for k, u in rows}


def credentials(source: JiraSource) -> tuple[str | None, str | None]:
    """(email, token) from the environment variables the engagement file names."""
    token = os.environ.get(source.token_env) if source.token_env else None
    email = os.environ.get(source.email_env) if source.email_env else None
    if source.email_env and not email:
        raise CollectError(f"Jira {source.base_url}: environment variable {source.email_env} (email_env) is not set")
    if source.token_env and not token and email:
        raise CollectError(f"Jira {source.base_url}: environment variable {source.token_env} (token_env) is not set")
    return email, token


class JiraTicketSource:
    """One configured Jira query, for collectors/driver.py (see the module docstring)."""

    kind = "jira"
    main_stream = STREAM

    def __init__(self, source: JiraSource, *, severity_field: str | None = None, client: JiraClient | None = None,
                 replay: str | Path | None = None, recorder: Recorder | None = None):
        self.config, self.client, self.severity_field = source, client, severity_field
        self.name = source.display_name
        self.key = f"{source.base_url.rstrip('/')}?jql={source.jql}"
        self.label = f"jira {self.name}"
        self._own_client = client is None
        self._replay, self._recorder = replay, recorder
        self.fetched = 0

    @property
    def secrets(self) -> tuple[str, ...]:
        return self.client.secrets if self.client else ()

    def open(self) -> None:
        if self.client is None:
            src = self.config
            replaying = self._replay is not None or src.base_url.startswith("replay:")
            email, token = (None, None) if replaying else credentials(src)
            self.client = JiraClient(src.base_url, api=src.api, email=email, token=token, replay=self._replay,
                                     recorder=self._recorder)
        self.links_base = self.client.base_url if self.config.base_url.startswith("replay:") else self.config.base_url
        self.key = f"{self.links_base.rstrip('/')}?jql={self.config.jql}"

    def close(self) -> None:
        if self._own_client and self.client is not None:
            self.client.close()

    def pages(self, run: Run) -> Iterator[Page]:
        client, source, source_id = self.client, self.config, run.source_id
        statuses = {str(s["id"]): (s.get("name") or "", (s.get("statusCategory") or {}).get("key"))
                    for s in client.statuses() if isinstance(s, dict) and s.get("id") is not None}
        status_rows = [{"source_id": source_id, "status_id": k, "name": v[0], "category": v[1]}
                       for k, v in statuses.items()]
        yield Page(write=lambda conn: upsert(conn, TicketStatus.__table__, status_rows, key=["source_id", "status_id"],
                                             update=["name", "category"]))
        cursor = run.cursor(STREAM)
        since = None
        if cursor:
            since = dt.datetime.fromisoformat(cursor) - dt.timedelta(minutes=source.overlap_minutes)
        jql = search_jql(source.jql, since, client.user_timezone() if since else "UTC")
        for page in client.search(jql, "updated", source.page_size):
            try:
                light = {i["key"]: utc_parts(parse_jira_time((i.get("fields") or {}).get("updated")))[0]
                         for i in page.issues if i.get("key")}
            except (TypeError, AttributeError, ValueError) as exc:
                raise CollectError(f"Jira {source.base_url} search: an issue of an unexpected shape ({exc})") from None
            with run.engine.connect() as conn:
                stored = _stored_updated(conn, source_id, light)
            changed = [k for k, u in light.items() if k not in stored or stored[k] != u]
            tickets, events, items = [], [], []
            for i in range(0, len(changed), source.page_size):
                part = changed[i:i + source.page_size]
                keys = ", ".join(f'"{k}"' for k in part)
                for body_page in client.search(f"key in ({keys})", BODY_FIELDS, source.page_size, "changelog"):
                    for issue in body_page.issues:
                        try:
                            ref = issue.get("id") or issue["key"]
                            fields = issue.get("fields") or {}
                            histories = client.changelog(ref, issue.get("changelog"))
                            comments = client.comments(ref, fields.get("comment"))
                            t, e, c = issue_rows(source_id, issue, histories, comments, statuses, self.links_base,
                                                 self.severity_field)
                        except (ValueError, KeyError, TypeError, AttributeError) as exc:
                            raise CollectError(f"Jira {source.base_url} issue {_key_of(issue)}: {exc}") from None
                        tickets.append(t)
                        events.extend(e)
                        items.extend(c)
            self.fetched += len(tickets)
            updated = [u for u in light.values() if u is not None]
            moves = {}
            if updated:
                newest = max(updated)
                if cursor is None or newest.isoformat() > cursor:
                    cursor = newest.isoformat()
                moves[STREAM] = cursor
            yield Page(write=lambda conn, a=tickets, b=events, c=items: write_tickets(conn, source_id, a, b, c),
                       cursors=moves, seen=len(light), written=len(tickets))

    def summary(self, result: RunResult) -> str:
        return (f"jira {self.name}: {result.items_seen} issues seen, {self.fetched} fetched, "
                f"cursor {result.cursor_after}")


def _key_of(issue) -> str:
    return str(issue.get("key")) if isinstance(issue, dict) else f"({type(issue).__name__})"


def collect_jira(engine: Engine, source: JiraSource, *, severity_field: str | None = None,
                 client: JiraClient | None = None, replay_path: Path | None = None,
                 recorder: Recorder | None = None, wait: bool = True) -> JiraCollectResult:
    """Collect one Jira source incrementally; see the module docstring."""
    src = JiraTicketSource(source, severity_field=severity_field, client=client, replay=replay_path,
                           recorder=recorder)
    result = run_source(engine, src, wait=wait, progress=False)
    return JiraCollectResult(src.name, result.run_id, result.items_seen, src.fetched, result.cursor_after)
