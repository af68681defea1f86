"""Everything the dashboard and the CLI show for one engagement, computed in one pure pass.

`SourceData` holds the frames read from the DB; `compute(cfg, data)` attributes every event (SPEC §3),
buckets weeks (§4), computes the KPIs (§5) and the ladder (§6), and returns a frozen `EngagementMetrics`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engagement.config import EngagementConfig
from engagement.weeks import current_week, engagement_weeks, week_start
from metrics.capabilities import commit_capabilities
from metrics.commits import countable_commits, internal_commit_share
from metrics.github_kpis import GitHubMetrics, github_metrics
from metrics.identity import attribute
from metrics.ladder import ladder

WEEKLY_COLUMNS = ["week", "week_start", "kpi", "capability", "value", "internal", "vendor", "unattributed",
                  "bots", "planned"]
# KPI-specific counts some rows carry beside the contract (README): runbook_completion and drill_outcome.
TICKET_COUNT_COLUMNS = ["started", "completed", "unprompted_internal", "items_checked", "items_total", "drills",
                        "passes", "internal_passes"]
# Columns added by the GitHub KPIs (README): n = events or cycles behind the value, p90 = time_to_retrain's
# 90th percentile in hours, scheduled = scheduled train runs counted apart from internal_train_share.
WEEKLY_COLUMNS += ["n", "p90", "scheduled"]
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

    def ladder_evidence(self, capability: str, week: int) -> pd.DataFrame:
        """The commits behind one ladder cell, with their attribution."""
        caps = self.commit_caps[self.commit_caps["capability"] == capability]
        rows = countable_commits(self.commits).merge(caps, on=["source_id", "sha"])
        rows = rows[rows["week"] == week]
        cols = ["at", "repo", "sha", "name", "email", "person", "side", "rule", "subject", "paths"]
        return rows[cols].sort_values("at").reset_index(drop=True)


def _attributed_commits(cfg: EngagementConfig, commits: pd.DataFrame) -> pd.DataFrame:
    if commits.empty:
        cols = [*commits.columns, "person", "side", "rule", "org", "local_date", "week"]
        return pd.DataFrame(columns=cols).astype({"week": "int64", "is_merge": bool})
    return attribute(commits, cfg)


def _commit_activity(commits: pd.DataFrame, caps: pd.DataFrame) -> pd.DataFrame:
    """Ladder activity items from non-merge commits: one per (commit, capability)."""
    rows = countable_commits(commits).merge(caps, on=["source_id", "sha"])
    return pd.DataFrame({"capability": rows["capability"], "week": rows["week"], "side": rows["side"],
                         "kind": "commit", "item": rows["sha"]})


def _contract_rows(kpi: str, frame: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    out = frame.copy()
    out["kpi"] = kpi
    out["week_start"] = [week_start(int(w), start) for w in out["week"]]
    for col in WEEKLY_COLUMNS:
        if col not in out:
            out[col] = np.nan
    return out[WEEKLY_COLUMNS]


def compute(cfg: EngagementConfig, data: SourceData, accepted_milestones: Collection[str] = (),
            today: dt.datetime | None = None) -> EngagementMetrics:
    """Attribute, bucket and compute every KPI and the ladder for the engagement."""
    commits = _attributed_commits(cfg, data.commits)
    caps = commit_capabilities(data.commit_files, cfg.capabilities)
    now_week = current_week(cfg.engagement.start, cfg.engagement.timezone, today)
    gh = github_metrics(cfg, data, commits, caps)
    event_weeks = set(commits["week"].unique()) | gh.event_weeks()
    weeks = engagement_weeks(cfg.engagement.weeks, event_weeks, through_week=now_week)

    share = internal_commit_share(commits, caps)
    # Every week appears for the engagement-wide series and for each capability, with zero counts.
    everything = "\0all"  # stands for the engagement-wide row while reindexing (None is no index label)
    grid = pd.MultiIndex.from_product([[everything, *cfg.capability_keys], weeks], names=["capability", "week"])
    share = share.assign(capability=share["capability"].fillna(everything).astype(object))
    share = share.set_index(["capability", "week"]).reindex(grid).reset_index()
    share["capability"] = share["capability"].astype(object).where(share["capability"] != everything, None)
    for col in ("internal", "vendor", "unattributed", "bots"):
        share[col] = share[col].fillna(0).astype("int64")
    if 0 not in weeks:
        share = share[share["week"] != 0]
    activity = pd.concat([_commit_activity(commits, caps), gh.ladder_activity(cfg)], ignore_index=True)
    steps = ladder(activity, cfg, weeks, accepted_milestones)

    start = cfg.engagement.start
    ladder_rows = steps.rename(columns={"stage": "value"})
    weekly = pd.concat([_contract_rows("internal_commit_share", share, start),
                        _contract_rows("ladder_stage", ladder_rows, start),
                        *[_contract_rows(kpi, rows, start) for kpi, rows in gh.weekly_rows(cfg, weeks).items()]],
                       ignore_index=True)
    weekly = weekly.astype({"value": "float64", "planned": "float64", "n": "float64", "p90": "float64",
                            "scheduled": "float64"})
    executions, drill_rows, ticket_weekly = _ticket_kpis(cfg, data, today)
    if len(ticket_weekly):
        weekly = pd.concat([weekly, ticket_weekly], ignore_index=True)
        weekly = weekly.astype({"value": "float64", "planned": "float64"})
    return EngagementMetrics(cfg, weeks, commits, caps, share, steps, weekly, runbook_executions=executions,
                             drills=drill_rows, github=gh)


def _ticket_kpis(cfg: EngagementConfig, data: SourceData,
                 today: dt.datetime | None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """runbook_completion and drill_outcome: per-item tables and their weekly contract rows."""
    from metrics.drills import drill_outcome, drills
    from metrics.runbooks import runbook_completion, runbook_executions
    from metrics.tickets import empty_events

    tickets = data.tickets
    if tickets is None or tickets.empty:
        return pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
    events = data.ticket_events if len(data.ticket_events.columns) else empty_events()
    items = data.checklist_items
    executions = runbook_executions(cfg, tickets, events, items, today)
    drill_rows = drills(cfg, tickets, events)
    start = cfg.engagement.start
    parts = []
    # Engagement-wide rows, then one set per capability from the tickets carrying its ticket_labels.
    scopes: list[tuple[str | None, set[str] | None]] = [(None, None)]
    scopes += [(c.key, {lb.lower() for lb in c.ticket_labels}) for c in cfg.capabilities if c.ticket_labels]
    for capability, wanted in scopes:
        def scoped(frame: pd.DataFrame, wanted=wanted) -> pd.DataFrame:
            if wanted is None or frame.empty:
                return frame
            return frame[frame["labels"].map(lambda ls: bool(wanted & {x.lower() for x in ls}))]

        for kpi, frame in (("runbook_completion", runbook_completion(scoped(executions))),
                           ("drill_outcome", drill_outcome(scoped(drill_rows)))):
            if len(frame):
                rows = frame.assign(kpi=kpi, capability=capability, planned=np.nan,
                                    week_start=[week_start(int(w), start) for w in frame["week"]])
                parts.append(rows.reindex(columns=[*WEEKLY_COLUMNS, *[c for c in TICKET_COUNT_COLUMNS if c in rows]]))
    weekly = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return executions, drill_rows, weekly

