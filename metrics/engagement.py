"""Everything the dashboard and the CLI show for one engagement, computed in one pure pass.

`SourceData` holds the frames read from the DB; `compute(cfg, data)` attributes every event (SPEC §3, through
`metrics.facts.Facts`), buckets weeks (§4), computes every registered KPI (§5, `metrics.kpis.REGISTRY`) and the
ladder (§6), and returns a frozen `EngagementMetrics`. Loading from the DB and the accepted milestones is
`metrics.service`'s job: pages, the CLI and the pack call the service, never this module directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engagement.config import EngagementConfig
from engagement.weeks import current_week, week_start
from metrics.facts import Facts
from metrics.github_kpis import GitHubMetrics

# The weekly row contract (README): these columns in this order, then KPI-specific counts (e.g. runbook_completion's
# `started`) that appear only on their own KPI's rows. `unit` comes from the KPI's spec.
WEEKLY_COLUMNS = ["week", "week_start", "kpi", "capability", "value", "unit", "internal", "vendor", "unattributed",
                  "bots", "planned", "n", "p90", "scheduled"]
FLOAT_COLUMNS = ("value", "planned", "n", "p90", "scheduled")
# The KPI-specific counts the registered KPIs add today (README); any new ones follow WEEKLY_COLUMNS the same way.
TICKET_COUNT_COLUMNS = ["started", "completed", "unprompted_internal", "items_checked", "items_total", "drills",
                        "passes", "internal_passes"]
UNATTRIBUTED_WARNING = 0.05  # SPEC §3: warn when over 5% of a week's events are unattributed


@dataclass(frozen=True)
class SourceData:
    """Raw rows as stored, read through db.queries."""

    commits: pd.DataFrame
    commit_files: pd.DataFrame
    tickets: pd.DataFrame = field(default_factory=pd.DataFrame)
    ticket_events: pd.DataFrame = field(default_factory=pd.DataFrame)
    checklist_items: pd.DataFrame = field(default_factory=pd.DataFrame)
    pull_requests: pd.DataFrame = field(default_factory=pd.DataFrame)
    pr_files: pd.DataFrame = field(default_factory=pd.DataFrame)
    reviews: pd.DataFrame = field(default_factory=pd.DataFrame)
    workflow_runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    tags: pd.DataFrame = field(default_factory=pd.DataFrame)
    eval_tests: pd.DataFrame = field(default_factory=pd.DataFrame)
    junit_runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    # GitLab and MLflow (SPEC §12): metrics/other_sources.py folds them into the frames above for the KPIs.
    gitlab_merge_requests: pd.DataFrame = field(default_factory=pd.DataFrame)
    gitlab_approvals: pd.DataFrame = field(default_factory=pd.DataFrame)
    gitlab_mr_files: pd.DataFrame = field(default_factory=pd.DataFrame)
    gitlab_pipelines: pd.DataFrame = field(default_factory=pd.DataFrame)
    gitlab_jobs: pd.DataFrame = field(default_factory=pd.DataFrame)
    mlflow_runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    mlflow_model_versions: pd.DataFrame = field(default_factory=pd.DataFrame)
    mlflow_registry_events: pd.DataFrame = field(default_factory=pd.DataFrame)
    week_ends: pd.DataFrame = field(default_factory=pd.DataFrame)  # SPEC §11: week-end commit per (source, week)
    artifact_files: pd.DataFrame = field(default_factory=pd.DataFrame)  # binder files of each week-end tree
    # SPEC §10: the files of each week-end tree with the commit holding their blame, and those blame rows
    surviving_files: pd.DataFrame = field(default_factory=pd.DataFrame)
    surviving_blame: pd.DataFrame = field(default_factory=pd.DataFrame)
    signatures: pd.DataFrame = field(default_factory=pd.DataFrame)  # milestone signatures, all engagements


@dataclass(frozen=True)
class EngagementMetrics:
    cfg: EngagementConfig
    weeks: list[int]
    commits: pd.DataFrame  # every commit with person, side, rule, local_date, week
    commit_caps: pd.DataFrame  # (source_id, sha, capability, paths)
    commit_share: pd.DataFrame  # internal_commit_share rows (capability None = engagement-wide)
    ladder: pd.DataFrame  # per (capability, week)
    weekly: pd.DataFrame  # the documented row contract of `python -m metrics weekly`
    runbook_executions: pd.DataFrame = field(default_factory=pd.DataFrame)  # metrics.runbooks, one row each
    drills: pd.DataFrame = field(default_factory=pd.DataFrame)  # metrics.drills, one row per drill
    github: GitHubMetrics | None = None  # PRs, reviews, runs and retrain cycles behind the GitHub KPIs
    facts: Facts | None = None  # the attributed frames the KPI specs' evidence functions read
    accepted: frozenset[str] = frozenset()  # milestones accepted by two keys when computed (ladder stage 4)
    # Results derived from these figures, computed once (e.g. criterion values). Not an init field, so a copy made
    # with dataclasses.replace (other weekly rows) starts with an empty one.
    memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def is_empty(self) -> bool:
        return self.commits.empty

    def latest_week(self) -> int | None:
        """The latest week, up to the current one, with attributed activity (None without any)."""
        share = self.commit_share[self.commit_share["capability"].isna() & self.commit_share["value"].notna()]
        now = current_week(self.cfg.engagement.start, self.cfg.engagement.timezone)
        weeks = share.loc[share["week"] <= max(now, 1), "week"]
        return int(weeks.max()) if len(weeks) else None

    def kpi_row(self, kpi: str, week: int | None, capability: str | None = None) -> pd.Series | None:
        rows = self.weekly[(self.weekly["kpi"] == kpi) & (self.weekly["week"] == week)]
        rows = rows[rows["capability"].isna()] if capability is None else rows[rows["capability"] == capability]
        return rows.iloc[0] if len(rows) else None

    def unattributed_share(self, week: int) -> float:
        """Unattributed events / all events of the week (bots included), 0 when the week has none."""
        row = self.kpi_row("internal_commit_share", week)
        if row is None:
            return 0.0
        total = row["internal"] + row["vendor"] + row["unattributed"] + row["bots"]
        return float(row["unattributed"] / total) if total else 0.0


def contract_rows(kpi: str, unit: str, frame: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    """A KPI's computed rows in the row contract: WEEKLY_COLUMNS, then its own extra columns."""
    out = frame.copy()
    out["kpi"] = kpi
    out["unit"] = unit
    out["week"] = out["week"].astype("int64")
    out["week_start"] = [week_start(int(w), start) for w in out["week"]]
    for col in WEEKLY_COLUMNS:
        if col not in out:
            out[col] = np.nan
    out["capability"] = out["capability"].astype(object).where(out["capability"].notna(), None)
    extra = [c for c in out.columns if c not in WEEKLY_COLUMNS]
    return out[WEEKLY_COLUMNS + extra]


def compute(cfg: EngagementConfig, data: SourceData, accepted_milestones: Collection[str] = (),
            today: dt.datetime | None = None) -> EngagementMetrics:
    """Attribute, bucket and compute every registered KPI and the ladder for the engagement."""
    from metrics.kpis import REGISTRY

    facts = Facts(cfg, data, accepted_milestones, today)
    start = cfg.engagement.start
    parts = []
    for spec in REGISTRY.values():
        rows = spec.compute(facts)
        if len(rows):
            parts.append(contract_rows(spec.key, spec.unit, rows, start))
    weekly = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=WEEKLY_COLUMNS)
    weekly = weekly.astype({c: "float64" for c in FLOAT_COLUMNS})
    for col in ("internal", "vendor", "unattributed", "bots"):
        weekly[col] = weekly[col].fillna(0).astype("int64")
    share = weekly[weekly["kpi"] == "internal_commit_share"]
    share = share[["week", "capability", "internal", "vendor", "unattributed", "bots", "value"]].reset_index(drop=True)
    return EngagementMetrics(cfg, facts.weeks, facts.commits, facts.commit_caps, share, facts.ladder, weekly,
                             runbook_executions=facts.runbook_executions, drills=facts.drills, github=facts.github,
                             facts=facts, accepted=facts.accepted_milestones)
