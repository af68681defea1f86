"""Ticket rows as evidence and as ladder activity (SPEC §6: "tickets with its `ticket_labels`"), shared by the
ticket KPIs (runbook_completion, drill_outcome).

Ladder activity from tickets: a ticket carrying one of a capability's `ticket_labels` is one item of that
capability in the week it was completed (its first transition into a done-category status, as for runbooks and
drills), attributed to its assignee at completion (nobody assigned: unattributed). Open tickets are no activity
yet. Runbook executions and drills are tickets too: they count once.
"""

from __future__ import annotations

import pandas as pd

from metrics.facts import Facts
from metrics.kpis.base import empty_evidence, evidence_frame, iso


def labelled(frame: pd.DataFrame, labels: set[str] | None) -> pd.DataFrame:
    """Rows (with a `labels` list column) carrying one of `labels` (case-insensitive); all rows when None."""
    if labels is None or frame.empty:
        return frame
    return frame[frame["labels"].map(lambda ls: bool(labels & {x.lower() for x in ls}))]


def scoped(facts: Facts, frame: pd.DataFrame, capability: str | None) -> pd.DataFrame:
    """The rows of a ticket frame that belong to the capability (its ticket_labels); all rows for None."""
    if capability is None:
        return frame
    labels = facts.capability_labels(capability)
    return frame.iloc[0:0] if labels is None else labelled(frame, labels)


def ticket_activity(facts: Facts) -> pd.DataFrame:
    """Ladder items from tickets (see the module docstring)."""
    from metrics.tickets import assignee_at, attribute_at, label_lists, restore_times, week_series

    scopes = [(cap, labels) for cap, labels in facts.ticket_scopes() if cap is not None]
    if not facts.has_tickets or not scopes:
        return empty_evidence()
    tickets = facts.data.tickets.assign(labels=label_lists(facts.data.tickets))
    wanted = set().union(*(labels for _cap, labels in scopes))
    tickets = labelled(tickets, wanted)
    if tickets.empty:
        return empty_evidence()
    events = facts.ticket_events.merge(tickets[["source_id", "key"]].rename(columns={"key": "ticket_key"}),
                                       on=["source_id", "ticket_key"])
    done_at = restore_times(tickets, events)
    tickets = tickets[done_at.notna().to_numpy()]
    if tickets.empty:
        return empty_evidence()
    done_at = done_at[done_at.notna()]
    who = assignee_at(tickets, events, done_at)
    sides = attribute_at(who, facts.cfg, done_at)
    weeks = week_series(done_at, facts.cfg).astype("int64")
    parts = []
    for cap, labels in scopes:
        mine = labelled(tickets, labels)
        if mine.empty:
            continue
        idx = mine.index
        parts.append(evidence_frame(
            kind="ticket", id=mine["key"], url=mine["url"], at=iso(done_at[idx]),
            person=sides.loc[idx, "person"].fillna(who.loc[idx, "name"]), side=sides.loc[idx, "side"],
            title=mine["title"], repo=mine["repo"]).assign(capability=cap, week=weeks[idx].to_numpy()))
    return pd.concat(parts, ignore_index=True) if parts else empty_evidence()
