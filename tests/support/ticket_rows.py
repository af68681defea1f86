"""Compact builders of stored ticket rows (as collectors write them) for KPI tests."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.engine import Engine

from collectors.tickets import write_tickets
from db.runs import ensure_source

CATEGORY = {"1": ("Open", "new"), "3": ("In Progress", "indeterminate"), "5": ("Done", "done")}


def t(when: str) -> dt.datetime:
    """'2026-09-08 09:00' (UTC) -> naive UTC datetime as stored."""
    return dt.datetime.strptime(when, "%Y-%m-%d %H:%M")


class TicketBook:
    def __init__(self):
        self.tickets: list[dict] = []
        self.events: list[dict] = []
        self.items: list[dict] = []
        self._n = 0

    def ticket(self, key: str, created: str, labels: list[str], *, assignee: str | None = None, status: str = "1",
               links: list[str] = (), parent: str | None = None, description: str | None = None) -> None:
        name, category = CATEGORY[status]
        self.tickets.append({
            "source_id": 0, "key": key, "tracker_id": key, "url": f"https://jira.example/browse/{key}", "type": "Task",
            "title": f"title {key}", "labels": "\n".join(labels), "status_id": status, "status_name": name,
            "status_category": category, "reporter_name": None, "reporter_email": None, "reporter_login": None,
            "reporter_jira_id": None, "reporter_bot": False, "assignee_name": assignee, "assignee_email": None,
            "assignee_login": None, "assignee_jira_id": assignee and f"acc-{assignee.lower()}",
            "assignee_bot": False, "created_at": t(created), "created_tz_minutes": 0, "updated_at": t(created),
            "resolved_at": None, "links": json.dumps([{"type": "relates", "direction": "outward", "key": k}
                                                      for k in links]),
            "parent_key": parent, "description": description, "severity": None,
        })

    def event(self, key: str, when: str, kind: str, actor: str | None, *, frm: str | None = None,
              to: str | None = None, body: str | None = None, bot: bool = False) -> None:
        self._n += 1
        row = {"source_id": 0, "ticket_key": key, "event_id": f"e{self._n}", "kind": kind, "at": t(when),
               "tz_minutes": 0, "actor_name": actor, "actor_email": None, "actor_login": None,
               "actor_jira_id": actor and f"acc-{actor.lower()}", "actor_bot": bot, "actor_system": actor is None,
               "from_id": None, "from_name": None, "from_category": None, "to_id": None, "to_name": None,
               "to_category": None, "body": body}
        if kind == "status":
            row.update(from_id=frm, from_name=CATEGORY[frm][0], from_category=CATEGORY[frm][1], to_id=to,
                       to_name=CATEGORY[to][0], to_category=CATEGORY[to][1])
        elif kind == "assignee":
            row.update(from_id=frm and f"acc-{frm.lower()}", from_name=frm, to_id=to and f"acc-{to.lower()}",
                       to_name=to)
        elif kind == "checklist":
            row.update(to_name=to)
        self.events.append(row)

    def checklist(self, key: str, *checked: bool) -> None:
        for position, done in enumerate(checked):
            self.items.append({"source_id": 0, "ticket_key": key, "position": position, "level": 0,
                               "text": f"step {position + 1}", "checked": done, "checked_at": None,
                               "checked_by_name": None, "checked_by_login": None, "checked_by_jira_id": None})

    def store(self, engine: Engine, source_name: str = "jira") -> None:
        with engine.begin() as conn:
            sid = ensure_source(conn, "jira", f"https://jira.example?jql={source_name}", source_name)
            fix = [{**r, "source_id": sid} for r in self.tickets]
            write_tickets(conn, sid, fix, [{**r, "source_id": sid} for r in self.events],
                          [{**r, "source_id": sid} for r in self.items])
