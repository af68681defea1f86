"""Milestone evaluation (SPEC §7): each `[[milestones]]` entry, week by week.

A criterion `{ metric, op, value, capability?, runbook?, side? }` holds in week W when the metric's week-W
value (read through metrics/criteria.py with the criterion's filters) compares true with `op` against
`value`; a week without a value (no activity) never satisfies it. A milestone is **met** from the first
week in which all its criteria hold together (the week first met; it stays met afterwards, even if a
figure drops later). Before that, in week W it is:
- **missed** when W is after its due week,
- **at risk** when it is due within one week (due_week - 1 <= W <= due_week),
- **pending** otherwise.
A milestone without criteria is never met by the figures (its state only follows the calendar).
Each criterion lists its evidence rows for a week (the KPI's own evidence rows: commits, PRs, reviews, runs, tickets).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engagement.config import Criterion, Milestone
from metrics.criteria import CRITERION_METRICS, Filters, value_at
from metrics.engagement import EngagementMetrics

OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}
STATES = ("met", "at risk", "pending", "missed")
STATE_COLUMNS = ["milestone", "title", "capability", "due_week", "week", "state", "met_week", "late",
                 "criteria_met", "criteria"]


def filters_of(c: Criterion) -> Filters:
    return Filters(c.capability, c.runbook, c.side)


def describe(c: Criterion) -> str:
    """e.g. 'internal_commits (capability=data) >= 4'."""
    f = filters_of(c).describe()
    target = int(c.value) if float(c.value).is_integer() else c.value
    return f"{c.metric}{f' ({f})' if f else ''} {c.op} {target}"


def criterion_values(m: EngagementMetrics, c: Criterion) -> pd.Series:
    """The criterion's metric value for every engagement week (NaN where the week has none). Computed once per
    (metric, filters) for a computation: the review, the board, acceptance and the pack ask many times."""
    key = ("criterion_values", c.metric, filters_of(c))
    memo = m.memo
    if key not in memo:
        series = CRITERION_METRICS[c.metric].values(m, filters_of(c))
        memo[key] = series[~series.index.duplicated()].reindex(m.weeks).astype("float64")
    return memo[key].copy()


def criterion_holds(m: EngagementMetrics, c: Criterion) -> pd.Series:
    values = criterion_values(m, c)
    return pd.Series(OPS[c.op](values.to_numpy(), c.value) & values.notna().to_numpy(), index=values.index)


def met_week(m: EngagementMetrics, milestone: Milestone) -> int | None:
    """The first week in which every criterion holds, None when there is none yet."""
    if not milestone.criteria or not m.weeks:
        return None
    together = np.logical_and.reduce([criterion_holds(m, c).to_numpy() for c in milestone.criteria])
    weeks = np.array(m.weeks)[together]
    return int(weeks[0]) if len(weeks) else None


def state_in_week(week: int, due_week: int, first_met: int | None) -> str:
    if first_met is not None and first_met <= week:
        return "met"
    if week > due_week:
        return "missed"
    if due_week - week <= 1:
        return "at risk"
    return "pending"


def milestone_states(m: EngagementMetrics) -> pd.DataFrame:
    """One row per (milestone, week): state, the week first met (when met by then), late (met after due),
    and how many criteria hold that week."""
    rows = []
    for ms in m.cfg.milestones:
        first = met_week(m, ms)
        holds = [criterion_holds(m, c) for c in ms.criteria]
        for week in m.weeks:
            state = state_in_week(week, ms.due_week, first)
            rows.append({
                "milestone": ms.id, "title": ms.title, "capability": ms.capability, "due_week": ms.due_week,
                "week": week, "state": state, "met_week": first if state == "met" else None,
                "late": state == "met" and first > ms.due_week,
                "criteria_met": int(sum(bool(h.get(week, False)) for h in holds)), "criteria": len(ms.criteria),
            })
    out = pd.DataFrame(rows, columns=STATE_COLUMNS)
    return out.astype({"met_week": "Int64"}) if len(out) else out


def state_table(m: EngagementMetrics) -> pd.DataFrame:
    """Milestone x week grid of states (what the hand-computed test tables look like)."""
    states = milestone_states(m)
    return states.pivot(index="milestone", columns="week", values="state") if len(states) else states


def milestone(m: EngagementMetrics, milestone_id: str) -> Milestone:
    for ms in m.cfg.milestones:
        if ms.id == milestone_id:
            return ms
    known = ", ".join(ms.id for ms in m.cfg.milestones) or "none configured"
    raise KeyError(f"unknown milestone {milestone_id!r} (milestones: {known})")


def criteria_table(m: EngagementMetrics, ms: Milestone, week: int) -> pd.DataFrame:
    """Each criterion of a milestone in one week: what it asks, the value, whether it holds, evidence rows."""
    rows = []
    for j, c in enumerate(ms.criteria):
        value = value_at(criterion_values(m, c), week)
        rows.append({"criterion": j + 1, "asks": describe(c), "metric": c.metric, "value": value,
                     "holds": bool(value == value and OPS[c.op](value, c.value)),
                     "evidence_rows": len(criterion_evidence(m, c, week))})
    return pd.DataFrame(rows, columns=["criterion", "asks", "metric", "value", "holds", "evidence_rows"])


def criterion_evidence(m: EngagementMetrics, c: Criterion, week: int) -> pd.DataFrame:
    """The rows that count for a criterion in a week (commits, PRs, runs, tickets), with links. Listed once per
    (metric, filters, week) for a computation: acceptance (the evidence documents) and the pack ask again."""
    key = ("criterion_evidence", c.metric, filters_of(c), int(week))
    memo = m.memo
    if key not in memo:
        memo[key] = CRITERION_METRICS[c.metric].evidence(m, filters_of(c), week).reset_index(drop=True)
    return memo[key].copy()


def evidence_week(m: EngagementMetrics, ms: Milestone, as_of: int | None = None) -> int | None:
    """The week whose evidence proves the milestone: the week first met; else the week `as_of` (or the
    latest week), so an unmet milestone still shows where it stands."""
    first = met_week(m, ms)
    if first is not None and (as_of is None or first <= as_of):
        return first
    if as_of is not None:
        return as_of
    return m.weeks[-1] if m.weeks else None


@dataclass(frozen=True)
class Proof:
    """A milestone's evidence as it stands: the document whose canonical JSON is signed and digested."""

    milestone: str
    met_week: int | None
    document: dict


def week_document(m: EngagementMetrics, ms: Milestone, week: int | None) -> dict:
    """{milestone, title, due_week, met_week, criteria: [{criterion, asks, week, value, holds, rows: [...]}]}: the
    milestone's criteria with their values and evidence rows in `week` (none when `week` is None)."""
    criteria = []
    for j, c in enumerate(ms.criteria):
        value = value_at(criterion_values(m, c), week) if week is not None else float("nan")
        rows = criterion_evidence(m, c, week) if week is not None else pd.DataFrame()
        criteria.append({"criterion": j + 1, "asks": describe(c), "week": week,
                         "value": None if value != value else value,
                         "holds": bool(value == value and OPS[c.op](value, c.value)),
                         "rows": rows.replace({np.nan: None}).to_dict("records")})
    return {"milestone": ms.id, "title": ms.title, "due_week": ms.due_week, "met_week": met_week(m, ms),
            "criteria": criteria}


def evidence_document(m: EngagementMetrics, ms: Milestone) -> Proof:
    """The `week_document` of the week first met (or the latest week when not met yet)."""
    doc = week_document(m, ms, evidence_week(m, ms))
    return Proof(ms.id, doc["met_week"], doc)
