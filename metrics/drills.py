"""KPI `drill_outcome` (SPEC §5).

A drill is a ticket labelled `[drills].label` ("drill"). Its severity is its label that is a key of
`[drills].sla_minutes` (or, with `severity_field` set, that field's value). Restore = the first transition
into a done-category status (a reopen keeps the first and is shown as `reopened`). Within SLA when
restore − created ≤ the severity's minutes (no severity: not within). Primary responder = the assignee at
the first transition into an in-progress-category status (never in progress: the assignee at restore).
Postmortem present = a linked ticket labelled `postmortem_label` created no later than restore +
`postmortem_days`, or a URL containing "postmortem" in the description. Pass = within SLA and postmortem
present; internal pass = pass with an internal primary responder.

Weekly rows (one per week of restore): `internal`/`vendor`/`unattributed`/`bots` = drills restored that
week by responder side, `drills`, `passes`, `internal_passes`;
**value = internal_passes / (internal + vendor)**. A drill never restored has no row.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from engagement.config import EngagementConfig
from metrics.tickets import (
    TICKET_ID,
    assignee_at,
    attribute_at,
    first_transition,
    label_lists,
    restore_times,
    ticket_links,
    week_series,
)

DRILL_COLUMNS = ["source_id", "repo", "key", "url", "title", "labels", "severity", "sla_minutes", "created_at",
                 "restored_at", "minutes_to_restore", "within_sla", "reopened", "reopened_at", "responder",
                 "responder_person", "responder_side", "postmortem", "postmortem_present", "passed", "internal_pass",
                 "restored_week"]
WEEKLY_COLUMNS = ["week", "internal", "vendor", "unattributed", "bots", "drills", "passes", "internal_passes",
                  "value"]
POSTMORTEM_URL = re.compile(r"https?://\S*postmortem\S*", re.IGNORECASE)


def drills(cfg: EngagementConfig, tickets: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """One row per drill (restored or not) with restore time, SLA, responder, postmortem and pass."""
    if tickets.empty:
        return pd.DataFrame(columns=DRILL_COLUMNS)
    labels = label_lists(tickets)
    label = cfg.drills.label.lower()
    runs = tickets[labels.map(lambda ls: label in {x.lower() for x in ls})].copy()
    if runs.empty:
        return pd.DataFrame(columns=DRILL_COLUMNS)
    sla = {k.lower(): v for k, v in cfg.drills.sla_minutes.items()}
    if cfg.drills.severity_field:
        runs["severity"] = runs["severity"].map(lambda s: s.lower() if isinstance(s, str) and s.lower() in sla
                                                else None)
    else:
        runs["severity"] = labels[runs.index].map(lambda ls: next((x.lower() for x in ls if x.lower() in sla), None))
    runs["severity"] = runs["severity"].astype(object).where(runs["severity"].notna(), None)
    runs["sla_minutes"] = runs["severity"].map(sla)
    runs["labels"] = labels[runs.index]
    mine = events.merge(runs[TICKET_ID].rename(columns={"key": "ticket_key"}), on=["source_id", "ticket_key"])
    runs["restored_at"] = restore_times(runs, mine)
    minutes = (runs["restored_at"] - runs["created_at"]).dt.total_seconds() / 60
    runs["minutes_to_restore"] = minutes
    runs["within_sla"] = (minutes <= runs["sla_minutes"]).fillna(False).astype(bool)
    runs.loc[runs["restored_at"].isna(), "within_sla"] = False
    runs = runs.join(_reopens(runs, mine))
    started = runs[TICKET_ID].merge(first_transition(mine, "indeterminate"), on=TICKET_ID, how="left")
    responder_at = pd.Series(pd.to_datetime(started["at"].to_numpy(), utc=True), index=runs.index)
    responder_at = responder_at.fillna(runs["restored_at"])
    responder = assignee_at(runs, mine, responder_at)
    sides = attribute_at(responder, cfg, responder_at)
    runs["responder"] = responder["name"].fillna(responder["login"]).fillna(responder["jira_id"])
    runs["responder_person"] = sides["person"]
    runs["responder_side"] = sides["side"]
    runs["postmortem"] = _postmortems(cfg, runs, tickets)
    runs["postmortem_present"] = runs["postmortem"].notna()
    runs["passed"] = runs["within_sla"] & runs["postmortem_present"]
    runs["internal_pass"] = runs["passed"] & (runs["responder_side"] == "internal")
    runs["restored_week"] = week_series(runs["restored_at"], cfg)
    return runs[DRILL_COLUMNS].sort_values(["created_at", "key"]).reset_index(drop=True)


def _reopens(runs: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """reopened / reopened_at: the first transition out of a done-category status after the restore."""
    out = pd.DataFrame({"reopened": False, "reopened_at": pd.Series(pd.NaT, index=runs.index,
                                                                    dtype="datetime64[ns, UTC]")}, index=runs.index)
    leaving = events[(events["kind"] == "status") & (events["from_category"] == "done")
                     & (events["to_category"] != "done")]
    if leaving.empty:
        return out
    hit = runs[[*TICKET_ID, "restored_at"]].reset_index().merge(
        leaving.rename(columns={"ticket_key": "key"})[[*TICKET_ID, "at"]], on=TICKET_ID)
    hit = hit[hit["at"] > hit["restored_at"]].sort_values("at").groupby("index")["at"].first()
    out.loc[hit.index, "reopened"] = True
    out.loc[hit.index, "reopened_at"] = hit
    return out


def _postmortems(cfg: EngagementConfig, runs: pd.DataFrame, tickets: pd.DataFrame) -> pd.Series:
    """The postmortem of each drill: a linked ticket's key (labelled postmortem, created in time) or the
    postmortem URL in its description; None when neither."""
    label = cfg.drills.postmortem_label.lower()
    labels = label_lists(tickets)
    pm = tickets[labels.map(lambda ls: label in {x.lower() for x in ls})]
    pm_created = {(s, k): c for s, k, c in zip(pm["source_id"], pm["key"], pm["created_at"], strict=True)}
    # Links can be recorded on either side: index both directions.
    linked: dict[tuple, set] = {}
    for (s, k), links in zip(zip(tickets["source_id"], tickets["key"], strict=True), ticket_links(tickets),
                             strict=True):
        for link in links:
            linked.setdefault((s, k), set()).add(link.get("key"))
            linked.setdefault((s, link.get("key")), set()).add(k)
    deadline = runs["restored_at"] + pd.Timedelta(days=cfg.drills.postmortem_days)
    found = []
    for idx, drill in runs.iterrows():
        due = deadline.loc[idx]
        hits = sorted(k for k in linked.get((drill["source_id"], drill["key"]), set())
                      if (drill["source_id"], k) in pm_created and pd.notna(due)
                      and pm_created[(drill["source_id"], k)] <= due)
        text = drill.get("description")
        url = POSTMORTEM_URL.search(text if isinstance(text, str) else "")
        found.append(hits[0] if hits else (url.group(0) if url else None))
    return pd.Series(found, index=runs.index, dtype=object)


def drill_outcome(drill_rows: pd.DataFrame) -> pd.DataFrame:
    """Weekly rows of `drill_outcome` from `drills` (see the module docstring)."""
    done = drill_rows[drill_rows["restored_at"].notna()] if len(drill_rows) else drill_rows
    if done.empty:
        return pd.DataFrame(columns=WEEKLY_COLUMNS)
    done = done.assign(week=done["restored_week"].astype("int64"))
    by_side = pd.crosstab(done["week"], done["responder_side"]).reindex(
        columns=["internal", "vendor", "unattributed", "bot"], fill_value=0).rename(columns={"bot": "bots"})
    sums = done.groupby("week").agg(drills=("key", "size"), passes=("passed", "sum"),
                                    internal_passes=("internal_pass", "sum"))
    out = by_side.join(sums).fillna(0).astype("int64").rename_axis("week").reset_index()
    attributed = out["internal"] + out["vendor"]
    out["value"] = (out["internal_passes"] / attributed.where(attributed > 0)).astype("float64")
    out["week"] = out["week"].astype("int64")
    return out[WEEKLY_COLUMNS].assign(value=np.asarray(out["value"], dtype="float64"))
