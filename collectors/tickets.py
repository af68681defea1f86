"""Ticket rows shared by every ticket source (Jira, GitHub Issues): time parts, identities, page writes."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.engine import Connection

from collectors.times import utc_parts  # noqa: F401 - re-exported: the ticket sources import it from here
from db.models import ChecklistItem, Identity, Ticket, TicketEvent
from db.upsert import upsert

TICKET_UPDATE = [c.name for c in Ticket.__table__.columns if c.name not in ("source_id", "key")]
EVENT_UPDATE = [c.name for c in TicketEvent.__table__.columns if c.name not in ("source_id", "ticket_key",
                                                                                  "event_id")]


def _without_nul(rows: list[dict]) -> list[dict]:
    return [{k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in r.items()} for r in rows]


def identity_rows(tickets: list[dict], events: list[dict]) -> list[dict]:
    """Jira account ids and GitHub logins seen as reporters, assignees and event actors (for the People page)."""
    seen: dict[tuple[str, str], str | None] = {}
    for row, prefix in [(t, p) for t in tickets for p in ("reporter", "assignee")] + [(e, "actor") for e in events]:
        for kind, column in (("jira", f"{prefix}_jira_id"), ("github", f"{prefix}_login")):
            value = row.get(column)
            if value:
                seen.setdefault((kind, str(value).lower()), row.get(f"{prefix}_name"))
    return [{"kind": k, "value": v, "display_name": name} for (k, v), name in seen.items()]


def write_tickets(conn: Connection, source_id: int, tickets: list[dict], events: list[dict],
                  items: list[dict]) -> None:
    """Upsert tickets and events; replace each ticket's checklist (item positions follow the body).
    NUL characters (seen in real Jira titles) are dropped: PostgreSQL text cannot hold them."""
    tickets, events, items = (_without_nul(rows) for rows in (tickets, events, items))
    upsert(conn, Ticket.__table__, tickets, key=["source_id", "key"], update=TICKET_UPDATE)
    upsert(conn, TicketEvent.__table__, events, key=["source_id", "ticket_key", "event_id"], update=EVENT_UPDATE)
    upsert(conn, Identity.__table__, identity_rows(tickets, events), key=["kind", "value"])
    keys = [t["key"] for t in tickets]
    for i in range(0, len(keys), 500):
        conn.execute(delete(ChecklistItem).where(ChecklistItem.source_id == source_id,
                                                 ChecklistItem.ticket_key.in_(keys[i:i + 500])))
    if items:
        conn.execute(ChecklistItem.__table__.insert(), items)
