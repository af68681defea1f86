"""Which metrics milestone criteria may name, how to read their weekly value and list their evidence (SPEC §7).

A criterion metric is either
- a **registered KPI** (metrics.kpis.REGISTRY): its value is the KPI's weekly row with the criterion's
  `capability` (none = the engagement-wide row); `side` reads that side's count instead of the value; its
  evidence is the KPI's own evidence rows for that week and capability (of that side when `side` is given),
  the very rows the KPI card and `python -m metrics evidence` show; or
- a **count** with its own reader, in the same evidence row shape: `internal_commits`, `internal_train_runs`,
  `runbook_executions_internal` (the counts of the SPEC §2 example).
`engagement.config` validates `[[milestones]] criteria` against `criterion_problems` (passed in by
metrics.engagement_file); `metrics.milestones` evaluates them through `CRITERION_METRICS`. A metric that is
neither is a configuration error. A new KPI needs no line here: registering it makes it a criterion metric.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from metrics.kpis import REGISTRY, KpiSpec
from metrics.kpis.base import empty_evidence, evidence_frame, iso

if TYPE_CHECKING:
    from metrics.engagement import EngagementMetrics

FILTERS = ("capability", "runbook", "side")


@dataclass(frozen=True)
class Filters:
    """A criterion's optional filters; None means "not filtered"."""

    capability: str | None = None
    runbook: str | None = None
    side: str | None = None

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in (("capability", self.capability), ("runbook", self.runbook),
                                          ("side", self.side)) if v]
        return ", ".join(parts)


ValueReader = Callable[["EngagementMetrics", Filters], pd.Series]  # -> value per week (index = week)
EvidenceReader = Callable[["EngagementMetrics", Filters, int], pd.DataFrame]


@dataclass(frozen=True)
class CriterionMetric:
    key: str
    label: str
    definition: str
    filters: frozenset[str]  # filters the metric accepts
    required: frozenset[str]  # filters the metric needs
    values: ValueReader
    evidence: EvidenceReader
    kpi: KpiSpec | None = None  # the KPI it reads, when it is one


def weekly_rows(m: EngagementMetrics, kpi: str, capability: str | None) -> pd.DataFrame:
    """The contract rows of one KPI for a capability (None = the engagement-wide rows)."""
    rows = m.weekly[m.weekly["kpi"] == kpi]
    return rows[rows["capability"].isna()] if capability is None else rows[rows["capability"] == capability]


def _kpi_metric(spec: KpiSpec) -> CriterionMetric:
    def values(m: EngagementMetrics, f: Filters) -> pd.Series:
        rows = weekly_rows(m, spec.key, f.capability).drop_duplicates("week")
        column = {"bot": "bots"}.get(f.side, f.side) if f.side else "value"
        return pd.Series(rows[column].to_numpy(dtype="float64"), index=rows["week"].astype("int64").to_numpy())

    def evidence(m: EngagementMetrics, f: Filters, week: int) -> pd.DataFrame:
        rows = spec.evidence(m.facts, week, f.capability)
        return rows[rows["side"] == f.side] if f.side else rows

    return CriterionMetric(spec.key, spec.label, spec.definition, spec.filters, spec.required, values, evidence, spec)


CRITERION_METRICS: dict[str, CriterionMetric] = {key: _kpi_metric(spec) for key, spec in REGISTRY.items()}


def criterion_metric(key: str) -> CriterionMetric:
    return CRITERION_METRICS[key]


def criterion_problems(metric: str, filters: Filters, capability_keys: list[str]) -> list[str]:
    """What is wrong with a criterion (metric key, filters), as 'expected ...' phrases; empty when usable."""
    spec = CRITERION_METRICS.get(metric)
    if spec is None:
        return [f"unknown metric {metric!r}: expected one of {', '.join(sorted(CRITERION_METRICS))}"]
    problems = []
    for name in FILTERS:
        value = getattr(filters, name)
        if value is not None and name not in spec.filters:
            accepted = ", ".join(sorted(spec.filters)) or "none"
            problems.append(f"metric {metric!r} takes no {name} filter (filters it takes: {accepted})")
    for name in sorted(spec.required):
        if getattr(filters, name) is None:
            problems.append(f"metric {metric!r} needs a {name} filter")
    if filters.capability is not None and filters.capability not in capability_keys:
        problems.append(f"unknown capability {filters.capability!r}: expected one of {', '.join(capability_keys)}")
    return problems


def value_at(series: pd.Series, week: int) -> float:
    """The value of a weekly series in `week`, NaN when the week has none."""
    return float(series.get(week, np.nan)) if len(series) else float("nan")


# --------------------------------------------------------------------------------------------------
# Counts (not weekly KPIs): the SPEC §2 example's, and internal commits
# --------------------------------------------------------------------------------------------------

def _weekly_count(m: EngagementMetrics, rows: pd.DataFrame, week_column: str = "week") -> pd.Series:
    counts = rows.groupby(week_column).size()
    counts.index = counts.index.astype("int64")
    return counts.reindex(m.weeks, fill_value=0).astype("float64")


def _internal_commits(m: EngagementMetrics, f: Filters) -> pd.Series:
    from metrics.kpis.internal_commit_share import commit_rows

    commits = commit_rows(m.facts, None, f.capability)
    return _weekly_count(m, commits[commits["side"] == "internal"])


def _internal_commit_evidence(m: EngagementMetrics, f: Filters, week: int) -> pd.DataFrame:
    from metrics.kpis.internal_commit_share import commit_evidence, commit_rows

    commits = commit_rows(m.facts, week, f.capability)
    return commit_evidence(m.facts, commits[commits["side"] == "internal"])


def internal_train_run_rows(m: EngagementMetrics, f: Filters, week: int | None = None) -> pd.DataFrame:
    """Run attempts of the `train` kind whose triggering actor is internal, scheduled runs left out (as for
    internal_train_share), of the capability's `ci_workflows` when f.capability is given."""
    from metrics.pipeline import run_capabilities

    runs = m.facts.github.runs
    if runs.empty or "kind" not in runs:
        return runs
    runs = runs[runs["kind"].eq("train") & runs["event"].ne("schedule") & runs["side"].eq("internal")]
    if f.capability is not None:
        pairs = run_capabilities(runs, m.cfg.capabilities)
        runs = runs.loc[pairs.loc[pairs["capability"] == f.capability, "row"].unique()]
    if week is not None:
        runs = runs[runs["week"] == week]
    return runs.sort_values(["created_at", "run_id", "run_attempt"])


def _internal_train_runs(m: EngagementMetrics, f: Filters) -> pd.Series:
    if m.facts.github.runs.empty:
        return pd.Series(dtype="float64")  # no CI runs collected: no value, no criterion holds
    return _weekly_count(m, internal_train_run_rows(m, f))


def _internal_train_run_evidence(m: EngagementMetrics, f: Filters, week: int) -> pd.DataFrame:
    from metrics.kpis.internal_train_share import run_evidence

    return run_evidence(internal_train_run_rows(m, f, week))


def internal_runbook_execution_rows(m: EngagementMetrics, f: Filters, week: int | None = None) -> pd.DataFrame:
    """Runbook executions completed (first done transition) with an internal executor at completion, of the
    runbook f.runbook (the `<name>` of its `runbook:<name>` label, case-insensitive) when given."""
    runs = m.facts.runbook_executions
    if runs.empty or "completed_at" not in runs:
        return runs
    runs = runs[runs["completed_at"].notna() & runs["executor_side"].eq("internal")]
    if f.runbook is not None:
        runs = runs[runs["runbook"].str.lower() == f.runbook.lower()]
    if week is not None:
        runs = runs[runs["completed_week"] == week]
    return runs.sort_values(["completed_at", "key"])


def _internal_runbook_executions(m: EngagementMetrics, f: Filters) -> pd.Series:
    if "completed_at" not in m.facts.runbook_executions:
        return pd.Series(dtype="float64")  # no tickets collected: no value, no criterion holds
    return _weekly_count(m, internal_runbook_execution_rows(m, f), "completed_week")


def _internal_runbook_execution_evidence(m: EngagementMetrics, f: Filters, week: int) -> pd.DataFrame:
    runs = internal_runbook_execution_rows(m, f, week)
    if runs.empty:
        return empty_evidence("runbook")
    return evidence_frame(
        kind="ticket", id=runs["key"], url=runs["url"], at=iso(runs["completed_at"]),
        person=runs["executor_person"].fillna(runs["executor"]), side=runs["executor_side"],
        title="runbook " + runs["runbook"].astype(str) + ": " + runs["title"].fillna("").astype(str),
        repo=runs["repo"], runbook=runs["runbook"])


def _register(metric: CriterionMetric) -> None:
    CRITERION_METRICS[metric.key] = metric


_register(CriterionMetric(
    "internal_commits", "Internal commits",
    "Count of non-merge commits authored by the internal team in the week (touching the capability, if given).",
    frozenset({"capability"}), frozenset(), _internal_commits, _internal_commit_evidence))
_register(CriterionMetric(
    "internal_train_runs", "Internal train runs",
    "Count of run attempts of the `train` pipeline kind created in the week (engagement time zone) whose "
    "triggering actor is internal, whatever their conclusion; scheduled runs are left out (their actor is "
    "whoever last edited the cron), as for internal_train_share. With capability: runs of its `ci_workflows`.",
    frozenset({"capability"}), frozenset(), _internal_train_runs, _internal_train_run_evidence))
_register(CriterionMetric(
    "runbook_executions_internal", "Internal runbook executions",
    "Count of runbook executions (tickets labelled `runbook` and `runbook:<name>`) completed in the week "
    "(first transition into a done-category status, engagement time zone) whose executor (the assignee at "
    "completion) is internal, vendor interventions or not; with runbook, only executions of that runbook.",
    frozenset({"runbook"}), frozenset(), _internal_runbook_executions, _internal_runbook_execution_evidence))
