"""Which metric keys milestone criteria may name, how to read their weekly value and list their evidence.

The registry is the single source of truth for criterion metrics: `engagement.config` validates
`[[milestones]] criteria` against it, `metrics.milestones` evaluates them through it. A metric is either

- a weekly KPI of the row contract (`EngagementMetrics.weekly`: week, kpi, capability, value, internal,
  vendor, ... and, for runbook KPIs, a `runbook` column): `weekly_metric(key)` reads its value with the
  criterion's filters (capability, runbook; `side` reads that side's count instead of the share), or
- a count with its own reader (e.g. `internal_commits`).

Each metric lists its evidence rows for a week: a DataFrame with at least `item` (a stable id), `kind`,
`side` and `link` (None where the source has no URL). A KPI registered without an evidence reader lists
its weekly contract row(s) as evidence. Every KPI key of SPEC §5 (`engagement.config.KPI_KEYS`) is registered
generically; a KPI may add one `register(...)` line here for its own evidence reader or filters. Milestones,
acceptance, frozen reviews and the steering pack need no change. Counts that are not weekly KPIs are
unknown until registered: a criterion naming them is a configuration error. Registered counts: `internal_commits`,
`internal_train_runs` (CI runs) and `runbook_executions_internal` (tickets), the counts of the SPEC §2 example.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from metrics.engagement import EngagementMetrics

FILTERS = ("capability", "runbook", "side")
EVIDENCE_COLUMNS = ["item", "kind", "at", "repo", "person", "side", "title", "link"]


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
class MetricSpec:
    key: str
    label: str
    definition: str
    filters: frozenset[str]  # filters the metric accepts
    required: frozenset[str]  # filters the metric needs
    values: ValueReader
    evidence: EvidenceReader
    percent: bool = False  # shown as a percentage


METRICS: dict[str, MetricSpec] = {}


def register(spec: MetricSpec) -> MetricSpec:
    METRICS[spec.key] = spec
    return spec


def criterion_metrics() -> set[str]:
    return set(METRICS)


def criterion_problems(metric: str, filters: Filters, capability_keys: list[str]) -> list[str]:
    """What is wrong with a criterion (metric key, filters), as 'expected ...' phrases; empty when usable."""
    spec = METRICS.get(metric)
    if spec is None:
        return [f"unknown metric {metric!r}: expected one of {', '.join(sorted(METRICS))}"]
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


# --------------------------------------------------------------------------------------------------
# Generic weekly KPIs (the row contract)
# --------------------------------------------------------------------------------------------------

def weekly_rows(m: EngagementMetrics, kpi: str, f: Filters) -> pd.DataFrame:
    """The contract rows of one KPI matching the filters (capability None = the engagement-wide rows)."""
    rows = m.weekly[m.weekly["kpi"] == kpi]
    rows = rows[rows["capability"].isna()] if f.capability is None else rows[rows["capability"] == f.capability]
    if "runbook" in rows:
        rows = rows[rows["runbook"].isna()] if f.runbook is None else rows[rows["runbook"] == f.runbook]
    elif f.runbook is not None:
        rows = rows.iloc[0:0]
    return rows


def _weekly_values(kpi: str) -> ValueReader:
    def values(m: EngagementMetrics, f: Filters) -> pd.Series:
        rows = weekly_rows(m, kpi, f).drop_duplicates("week")
        column = f.side if f.side else "value"
        return pd.Series(rows[column].to_numpy(dtype="float64"), index=rows["week"].astype("int64").to_numpy())

    return values


def _weekly_row_evidence(kpi: str) -> EvidenceReader:
    def evidence(m: EngagementMetrics, f: Filters, week: int) -> pd.DataFrame:
        rows = weekly_rows(m, kpi, f)
        rows = rows[rows["week"] == week]
        out = pd.DataFrame({
            "item": [f"{kpi}:{c or 'all'}:w{week}" for c in rows["capability"]],
            "kind": "weekly KPI row", "at": None, "repo": None, "person": None, "side": None,
            "title": [f"{kpi} {'' if c is None else c} = {v}" for c, v in zip(rows["capability"], rows["value"],
                                                                             strict=True)],
            "link": None,
        })
        return out

    return evidence


def weekly_metric(key: str, label: str, definition: str, *, evidence: EvidenceReader | None = None,
                  filters: tuple[str, ...] = ("capability", "side"), required: tuple[str, ...] = (),
                  percent: bool = False) -> MetricSpec:
    """A KPI of the weekly row contract; `side` reads that side's count (e.g. internal events)."""
    return MetricSpec(key, label, definition, frozenset(filters), frozenset(required), _weekly_values(key),
                      evidence or _weekly_row_evidence(key), percent)


# --------------------------------------------------------------------------------------------------
# Commits (git)
# --------------------------------------------------------------------------------------------------

def commit_link(m: EngagementMetrics, repo: pd.Series, sha: pd.Series) -> pd.Series:
    """A web link for commits of git sources that are also configured GitHub repositories (same name)."""
    links = {}
    for gh in m.cfg.sources.github:
        web = gh.base_url.replace("://api.github.com", "://github.com").rstrip("/")
        if web.endswith("/api/v3"):  # GitHub Enterprise
            web = web[: -len("/api/v3")]
        links[gh.repo.split("/")[-1]] = f"{web}/{gh.repo}/commit/"
    return pd.Series([f"{links[r]}{s}" if r in links else None for r, s in zip(repo, sha, strict=True)],
                     index=repo.index, dtype=object)


def commit_rows(m: EngagementMetrics, f: Filters, week: int | None = None) -> pd.DataFrame:
    """Countable (non-merge, once per sha) commits, optionally of one week, touching f.capability, of f.side."""
    from metrics.commits import countable_commits

    commits = countable_commits(m.commits)
    if f.capability is not None:
        shas = m.commit_caps.loc[m.commit_caps["capability"] == f.capability, "sha"]
        commits = commits[commits["sha"].isin(shas)]
    if f.side is not None:
        commits = commits[commits["side"] == f.side]
    if week is not None:
        commits = commits[commits["week"] == week]
    return commits


def commit_evidence(m: EngagementMetrics, f: Filters, week: int) -> pd.DataFrame:
    commits = commit_rows(m, f, week).sort_values(["at", "sha"])
    at = pd.to_datetime(commits["at"], utc=True)
    return pd.DataFrame({
        "item": commits["sha"].to_numpy(), "kind": "commit",
        "at": at.dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy(),
        "repo": commits["repo"].to_numpy(),
        "person": commits["person"].fillna(commits["name"]).to_numpy(),
        "side": commits["side"].to_numpy(), "title": commits["subject"].to_numpy(),
        "link": commit_link(m, commits["repo"], commits["sha"]).to_numpy(),
    }, columns=EVIDENCE_COLUMNS)


def _internal_commits(m: EngagementMetrics, f: Filters) -> pd.Series:
    commits = commit_rows(m, Filters(capability=f.capability, side="internal"))
    counts = commits.groupby("week").size()
    return counts.reindex(m.weeks, fill_value=0).astype("float64")


def _internal_commit_evidence(m: EngagementMetrics, f: Filters, week: int) -> pd.DataFrame:
    return commit_evidence(m, Filters(capability=f.capability, side="internal"), week)


register(weekly_metric(
    "internal_commit_share", "Internal commit share",
    "Non-merge commits of the week (author date, engagement time zone) by internal / (internal + vendor); "
    "with side, that side's commit count.",
    evidence=commit_evidence, percent=True))
register(weekly_metric(
    "ladder_stage", "Ladder stage",
    "Measured ownership stage 0-4 of a capability in the week (SPEC §6); evidence: the commits touching it.",
    evidence=commit_evidence, filters=("capability",), required=("capability",)))
register(MetricSpec(
    "internal_commits", "Internal commits",
    "Count of non-merge commits authored by the internal team in the week (touching the capability, if given).",
    frozenset({"capability"}), frozenset(), _internal_commits, _internal_commit_evidence))


def _register_kpi_keys() -> None:
    """Every other KPI key of SPEC §5 (engagement.config.KPI_KEYS) is a generic weekly-contract metric: once its
    rows are in `EngagementMetrics.weekly`, criteria over it work (its evidence: the contract row, unless a
    more specific reader is registered). A week without its rows has no value, so no criterion holds."""
    from engagement.config import KPI_KEYS

    for key in sorted(KPI_KEYS - set(METRICS)):
        register(weekly_metric(key, key.replace("_", " ").capitalize(),
                               f"{key} as in the weekly row contract (SPEC §5).", filters=FILTERS,
                               percent=key.endswith(("_share", "_compliance", "_coverage", "_completion"))))


_register_kpi_keys()


# --------------------------------------------------------------------------------------------------
# Train runs (GitHub Actions) and runbook executions (tickets): the counts of the SPEC §2 example
# --------------------------------------------------------------------------------------------------

def _iso(times: pd.Series) -> pd.Series:
    return pd.to_datetime(times, utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def internal_train_run_rows(m: EngagementMetrics, f: Filters, week: int | None = None) -> pd.DataFrame:
    """Run attempts of the `train` kind whose triggering actor is internal, scheduled runs left out (as for
    internal_train_share), of the capability's `ci_workflows` when f.capability is given."""
    from metrics.pipeline import run_capabilities

    runs = m.github.runs if m.github is not None else pd.DataFrame()
    if runs.empty or "kind" not in runs:
        return runs
    runs = runs[runs["kind"].eq("train") & runs["event"].ne("schedule") & runs["side"].eq("internal")]
    if f.capability is not None:
        pairs = run_capabilities(runs, m.cfg.capabilities)
        runs = runs.loc[pairs.loc[pairs["capability"] == f.capability, "row"].unique()]
    if week is not None:
        runs = runs[runs["week"] == week]
    return runs


def _internal_train_runs(m: EngagementMetrics, f: Filters) -> pd.Series:
    if m.github is None or m.github.runs.empty:
        return pd.Series(dtype="float64")  # no CI runs collected: no value, no criterion holds
    counts = internal_train_run_rows(m, f).groupby("week").size()
    return counts.reindex(m.weeks, fill_value=0).astype("float64")


def _internal_train_run_evidence(m: EngagementMetrics, f: Filters, week: int) -> pd.DataFrame:
    runs = internal_train_run_rows(m, f, week)
    if runs.empty:
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    runs = runs.reindex(columns=[*runs.columns, *[c for c in ("repo", "conclusion") if c not in runs]])
    runs = runs.sort_values(["created_at", "run_id", "run_attempt"])
    return pd.DataFrame({
        "item": (runs["run_id"].astype(str) + "/" + runs["run_attempt"].astype(str)).to_numpy(),
        "kind": "train run", "at": _iso(runs["created_at"]).to_numpy(), "repo": runs["repo"].to_numpy(),
        "person": runs["person"].fillna(runs["triggering_login"]).to_numpy(), "side": runs["side"].to_numpy(),
        "title": (runs["name"].astype(str) + " (" + runs["event"].astype(str) + ", attempt " +
                  runs["run_attempt"].astype(str) + ", " + runs["conclusion"].fillna("not concluded").astype(str) +
                  ")").to_numpy(),
        "link": runs["html_url"].to_numpy(),
    }, columns=EVIDENCE_COLUMNS)


register(MetricSpec(
    "internal_train_runs", "Internal train runs",
    "Count of run attempts of the `train` pipeline kind created in the week (engagement time zone) whose "
    "triggering actor is internal, whatever their conclusion; scheduled runs are left out (their actor is "
    "whoever last edited the cron), as for internal_train_share. With capability: runs of its `ci_workflows`.",
    frozenset({"capability"}), frozenset(), _internal_train_runs, _internal_train_run_evidence))


def internal_runbook_execution_rows(m: EngagementMetrics, f: Filters, week: int | None = None) -> pd.DataFrame:
    """Runbook executions completed (first done transition) with an internal executor at completion, of the
    runbook f.runbook (the `<name>` of its `runbook:<name>` label, case-insensitive) when given."""
    runs = m.runbook_executions
    if runs.empty or "completed_at" not in runs:
        return runs
    runs = runs[runs["completed_at"].notna() & runs["executor_side"].eq("internal")]
    if f.runbook is not None:
        runs = runs[runs["runbook"].str.lower() == f.runbook.lower()]
    if week is not None:
        runs = runs[runs["completed_week"] == week]
    return runs


def _internal_runbook_executions(m: EngagementMetrics, f: Filters) -> pd.Series:
    if "completed_at" not in m.runbook_executions:
        return pd.Series(dtype="float64")  # no tickets collected: no value, no criterion holds
    counts = internal_runbook_execution_rows(m, f).groupby("completed_week").size()
    counts.index = counts.index.astype("int64")
    return counts.reindex(m.weeks, fill_value=0).astype("float64")


def _internal_runbook_execution_evidence(m: EngagementMetrics, f: Filters, week: int) -> pd.DataFrame:
    runs = internal_runbook_execution_rows(m, f, week)
    if runs.empty:
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    runs = runs.sort_values(["completed_at", "key"])
    return pd.DataFrame({
        "item": runs["key"].to_numpy(), "kind": "runbook execution", "at": _iso(runs["completed_at"]).to_numpy(),
        "repo": runs["repo"].to_numpy(), "person": runs["executor_person"].fillna(runs["executor"]).to_numpy(),
        "side": runs["executor_side"].to_numpy(),
        "title": ("runbook " + runs["runbook"].astype(str) + ": " + runs["title"].fillna("").astype(str)).to_numpy(),
        "link": runs["url"].to_numpy(),
    }, columns=EVIDENCE_COLUMNS)


register(MetricSpec(
    "runbook_executions_internal", "Internal runbook executions",
    "Count of runbook executions (tickets labelled `runbook` and `runbook:<name>`) completed in the week "
    "(first transition into a done-category status, engagement time zone) whose executor (the assignee at "
    "completion) is internal, vendor interventions or not; with runbook, only executions of that runbook.",
    frozenset({"runbook"}), frozenset(), _internal_runbook_executions, _internal_runbook_execution_evidence))


def value_at(series: pd.Series, week: int) -> float:
    """The value of a weekly series in `week`, NaN when the week has none."""
    return float(series.get(week, np.nan)) if len(series) else float("nan")
