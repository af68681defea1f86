"""KPI `runbook_completion` (SPEC §5).

A runbook execution is a ticket labelled `[runbooks].label` ("runbook") and `<name_prefix><name>`
("runbook:training" names the runbook "training"). Started = created; completed = its first transition
into a done-category status (a reopen does not undo it; with no recorded transition, a ticket done now
counts as completed at `resolved_at`). Executor = the assignee at completion. Checklist = the ticket's
task-list items, or, when it has none, its sub-tasks (checked = in a done-category status).
A **vendor intervention** is a status transition, comment or checklist tick on the execution, or a
done transition of one of its sub-tasks, by a vendor-side actor between start and completion (up to
now for an execution not yet completed). **Unprompted internal** = completed with an internal executor
and no vendor intervention.

Weekly rows (one per week with a start or a completion): `internal`/`vendor`/`unattributed`/`bots` =
executions completed that week by executor side; `started`, `completed`, `unprompted_internal`,
`items_checked`, `items_total` (of the executions completed that week);
**value = unprompted_internal / (internal + vendor)** (NaN when no attributed completion).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from engagement.config import EngagementConfig
from metrics.identity import attribute
from metrics.tickets import (
    TICKET_ID,
    assignee_at,
    attribute_at,
    label_lists,
    restore_times,
    week_series,
)

EXECUTION_COLUMNS = ["source_id", "repo", "key", "url", "title", "runbook", "labels", "created_at", "started_week",
                     "completed_at", "completed_week", "executor", "executor_person", "executor_side",
                     "items_checked", "items_total", "interventions", "vendor_interventions",
                     "unprompted_internal"]
WEEKLY_COLUMNS = ["week", "internal", "vendor", "unattributed", "bots", "started", "completed",
                  "unprompted_internal", "items_checked", "items_total", "value"]
INTERVENING_KINDS = {"status", "comment", "checklist"}


def runbook_executions(cfg: EngagementConfig, tickets: pd.DataFrame, events: pd.DataFrame,
                       items: pd.DataFrame, now: dt.datetime | None = None) -> pd.DataFrame:
    """One row per runbook execution with its executor, checklist counts and vendor interventions."""
    if tickets.empty:
        return pd.DataFrame(columns=EXECUTION_COLUMNS)
    labels = label_lists(tickets)
    label, prefix = cfg.runbooks.label.lower(), cfg.runbooks.name_prefix.lower()
    names = labels.map(lambda ls: next((x[len(prefix):] for x in ls if x.lower().startswith(prefix)
                                        and len(x) > len(prefix)), None))
    is_run = labels.map(lambda ls: label in {x.lower() for x in ls}) & names.notna()
    runs = tickets[is_run].copy()
    if runs.empty:
        return pd.DataFrame(columns=EXECUTION_COLUMNS)
    runs["runbook"] = names[is_run]
    runs["labels"] = labels[is_run]
    mine = events.merge(runs[TICKET_ID].rename(columns={"key": "ticket_key"}), on=["source_id", "ticket_key"])
    runs["completed_at"] = restore_times(runs, mine)
    executor = assignee_at(runs, mine, runs["completed_at"])
    sides = attribute_at(executor, cfg, runs["completed_at"])
    runs["executor"] = executor["name"].fillna(executor["login"]).fillna(executor["jira_id"])
    runs["executor_person"] = sides["person"]
    runs["executor_side"] = sides["side"]
    runs["started_week"] = week_series(runs["created_at"], cfg)
    runs["completed_week"] = week_series(runs["completed_at"], cfg)
    runs = runs.join(_checklist_counts(runs, tickets, items))
    runs["interventions"] = _interventions(cfg, runs, tickets, events, now)
    runs["vendor_interventions"] = runs["interventions"].map(len).astype("int64")
    runs["unprompted_internal"] = (runs["completed_at"].notna() & (runs["executor_side"] == "internal")
                                   & (runs["vendor_interventions"] == 0))
    return runs[EXECUTION_COLUMNS].sort_values(["created_at", "key"]).reset_index(drop=True)


def _checklist_counts(runs: pd.DataFrame, tickets: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"items_checked": 0, "items_total": 0}, index=runs.index)
    if len(items):
        counts = items.groupby(["source_id", "ticket_key"]).agg(items_total=("position", "size"),
                                                                 items_checked=("checked", "sum"))
        hit = runs.merge(counts, left_on=TICKET_ID, right_index=True, how="left")
        out["items_total"] = hit["items_total"].fillna(0).astype("int64").to_numpy()
        out["items_checked"] = hit["items_checked"].fillna(0).astype("int64").to_numpy()
    subs = tickets[tickets["parent_key"].notna()]
    if len(subs):
        per_parent = subs.assign(done=subs["status_category"] == "done").groupby(["source_id", "parent_key"]).agg(
            sub_total=("key", "size"), sub_done=("done", "sum"))
        hit = runs.merge(per_parent, left_on=TICKET_ID, right_index=True, how="left")
        use = (out["items_total"] == 0).to_numpy() & hit["sub_total"].notna().to_numpy()
        out.loc[use, "items_total"] = hit["sub_total"].to_numpy()[use].astype("int64")
        out.loc[use, "items_checked"] = hit["sub_done"].to_numpy()[use].astype("int64")
    return out.astype("int64")


def _interventions(cfg: EngagementConfig, runs: pd.DataFrame, tickets: pd.DataFrame, events: pd.DataFrame,
                   now: dt.datetime | None) -> pd.Series:
    """Per execution: the list of vendor-side actions between start and completion, each a dict
    (at, kind, ticket, person, detail)."""
    empty = pd.Series([[] for _ in range(len(runs))], index=runs.index, dtype=object)
    if events.empty:
        return empty
    subs = tickets[tickets["parent_key"].notna()][["source_id", "key", "parent_key"]]
    own = events[events["kind"].isin(INTERVENING_KINDS)].assign(parent=events["ticket_key"])
    sub_done = events[(events["kind"] == "status") & (events["to_category"] == "done")].merge(
        subs.rename(columns={"key": "ticket_key", "parent_key": "parent"}), on=["source_id", "ticket_key"])
    candidates = pd.concat([own, sub_done], ignore_index=True)
    windows = runs[["source_id", "key", "created_at", "completed_at"]].rename(columns={"key": "parent"})
    candidates = candidates.merge(windows, on=["source_id", "parent"])
    end = candidates["completed_at"].fillna(pd.Timestamp(now or dt.datetime.now(dt.UTC)))
    candidates = candidates[(candidates["at"] >= candidates["created_at"]) & (candidates["at"] <= end)]
    if candidates.empty:
        return empty
    attributed = attribute(candidates.reset_index(drop=True), cfg)
    vendor = attributed[attributed["side"] == "vendor"].sort_values("at")
    detail = np.where(vendor["kind"] == "comment", vendor["body"].fillna("").str.slice(0, 120),
                      np.where(vendor["kind"] == "status", "→ " + vendor["to_name"].fillna(""),
                               vendor["to_name"].fillna("")))
    vendor = vendor.assign(detail=detail, who=vendor["person"].fillna(vendor["name"]))
    lists = {k: [{"at": r.at, "kind": r.kind, "ticket": r.ticket_key, "person": r.who, "detail": r.detail}
                 for r in g.itertuples()] for k, g in vendor.groupby(["source_id", "parent"])}
    return pd.Series([lists.get((s, k), []) for s, k in zip(runs["source_id"], runs["key"], strict=True)],
                     index=runs.index, dtype=object)


def runbook_completion(executions: pd.DataFrame) -> pd.DataFrame:
    """Weekly rows of `runbook_completion` from `runbook_executions` (see the module docstring)."""
    if executions.empty:
        return pd.DataFrame(columns=WEEKLY_COLUMNS)
    started = executions.groupby("started_week").size().rename("started")
    done = executions[executions["completed_at"].notna()]
    by_side = pd.crosstab(done["completed_week"], done["executor_side"]) if len(done) else pd.DataFrame()
    by_side = by_side.reindex(columns=["internal", "vendor", "unattributed", "bot"], fill_value=0).rename(
        columns={"bot": "bots"})
    sums = done.groupby("completed_week").agg(completed=("key", "size"), unprompted_internal=(
        "unprompted_internal", "sum"), items_checked=("items_checked", "sum"), items_total=("items_total", "sum"))
    weeks = sorted(set(started.index) | set(sums.index))
    out = pd.DataFrame(index=pd.Index(weeks, name="week"))
    out = out.join(by_side).join(started).join(sums).fillna(0).astype("int64").reset_index()
    out["week"] = out["week"].astype("int64")
    attributed = out["internal"] + out["vendor"]
    out["value"] = (out["unprompted_internal"] / attributed.where(attributed > 0)).astype("float64")
    return out[WEEKLY_COLUMNS]
