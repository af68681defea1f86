"""Shared ticket facts for the runbook and drill KPIs: labels, first transitions, assignee at a time.

Status categories come from status ids (stored per event as from/to category), never from names.
The assignee at a time is the last assignee change at or before it; before the first change it is that
change's `from` (the assignee the ticket was created with); with no change at all, the current assignee.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from engagement.config import EngagementConfig
from engagement.weeks import local_dates, week_of
from metrics.identity import attribute

TICKET_ID = ["source_id", "key"]
IDENTITY = ["name", "email", "login", "jira_id", "source_bot"]


def label_lists(tickets: pd.DataFrame) -> pd.Series:
    """Each ticket's labels as a list (stored newline-separated)."""
    return tickets["labels"].fillna("").map(lambda s: [x for x in s.split("\n") if x])


def ticket_links(tickets: pd.DataFrame) -> pd.Series:
    return tickets["links"].fillna("[]").map(json.loads)


def first_transition(events: pd.DataFrame, category: str) -> pd.DataFrame:
    """(source_id, key, at) of each ticket's first status transition into `category`."""
    moves = events[(events["kind"] == "status") & (events["to_category"] == category)]
    first = moves.sort_values("at").groupby(["source_id", "ticket_key"], as_index=False)["at"].first()
    return first.rename(columns={"ticket_key": "key"})


def restore_times(tickets: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """First transition into a done-category status (a reopen keeps the first); tickets without a done
    transition in their history but resolved or done now fall back to `resolved_at`."""
    first = first_transition(events, "done")
    merged = tickets[TICKET_ID].merge(first, on=TICKET_ID, how="left")
    done_now = (tickets["status_category"] == "done").to_numpy() | tickets["resolved_at"].notna().to_numpy()
    fallback = tickets["resolved_at"].where(done_now)
    out = pd.to_datetime(pd.Series(merged["at"].to_numpy(), index=tickets.index), utc=True)
    # Both sides in one datetime unit (stored rows and test frames may differ), else fillna warns and will raise.
    return out.fillna(pd.to_datetime(fallback, utc=True).astype(out.dtype))


def assignee_at(tickets: pd.DataFrame, events: pd.DataFrame, when: pd.Series) -> pd.DataFrame:
    """Identity columns (name, email, login, jira_id, source_bot) of each ticket's assignee at `when`
    (aligned with `tickets`); all empty when nobody was assigned or `when` is missing."""
    changes = events[events["kind"] == "assignee"].sort_values("at")
    rows = []
    for idx, ticket in tickets.iterrows():
        at = when.loc[idx]
        mine = changes[(changes["source_id"] == ticket["source_id"]) & (changes["ticket_key"] == ticket["key"])]
        rows.append(_assignee_row(ticket, mine, at))
    return pd.DataFrame(rows, index=tickets.index, columns=IDENTITY)


def _assignee_row(ticket: pd.Series, changes: pd.DataFrame, at) -> dict:
    empty = {"name": None, "email": None, "login": None, "jira_id": None, "source_bot": False}
    if pd.isna(at):
        return empty
    if changes.empty:
        current = {"name": ticket.get("assignee_name"), "email": ticket.get("assignee_email"),
                   "login": ticket.get("assignee_login"), "jira_id": ticket.get("assignee_jira_id"),
                   "source_bot": bool(ticket.get("assignee_bot") or False)}
        return current
    before = changes[changes["at"] <= at]
    if len(before):
        account, name = before.iloc[-1]["to_id"], before.iloc[-1]["to_name"]
    else:
        account, name = changes.iloc[0]["from_id"], changes.iloc[0]["from_name"]
    if account is None and name is None:
        return empty
    # The current assignee's full identity (bot flag, email) when it is the same account.
    same = account is not None and account in (ticket.get("assignee_jira_id"), ticket.get("assignee_login"))
    if ticket.get("source_kind") == "github":
        out = {**empty, "login": account, "name": name}
    else:
        out = {**empty, "jira_id": account, "name": name}
    if same:
        out["email"] = ticket.get("assignee_email")
        out["source_bot"] = bool(ticket.get("assignee_bot") or False)
    return out


def attribute_at(frame: pd.DataFrame, cfg: EngagementConfig, at: pd.Series) -> pd.DataFrame:
    """attribute() for identity rows at given times; rows with no time get side None and week NaN."""
    out = frame.copy()
    out["at"] = pd.to_datetime(at, utc=True)
    known = out["at"].notna()
    result = pd.DataFrame(index=out.index, columns=["person", "side", "rule", "week"], dtype=object)
    if known.any():
        done = attribute(out[known], cfg)
        no_one = done[IDENTITY[:4]].isna().all(axis=1) & ~done["source_bot"].astype(bool)
        done.loc[no_one, "side"] = "unattributed"
        done.loc[no_one, "rule"] = "nobody assigned"
        result.loc[known, ["person", "side", "rule", "week"]] = done[["person", "side", "rule", "week"]].to_numpy()
    return result.astype(object).where(result.notna(), None)


def week_series(at: pd.Series, cfg: EngagementConfig) -> pd.Series:
    """Engagement week of UTC instants (NaN where missing)."""
    at = pd.to_datetime(at, utc=True)
    out = pd.Series(np.nan, index=at.index, dtype="float64")
    known = at.notna()
    if known.any():
        out[known] = week_of(local_dates(at[known], cfg.engagement.timezone), cfg.engagement.start).astype(float)
    return out


def empty_events() -> pd.DataFrame:
    cols = ["source_id", "source_kind", "ticket_key", "event_id", "kind", "at", "name", "email", "login", "jira_id",
            "source_bot", "from_id", "from_name", "from_category", "to_id", "to_name", "to_category", "body"]
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns, UTC]" if c == "at" else object) for c in cols})
