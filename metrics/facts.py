"""The attributed frames every KPI computes from (SPEC §3–§6), built once per computation, on first use.

`Facts(cfg, data, accepted_milestones, today)` wraps the frames read from the DB (`SourceData`) and turns
them, lazily, into the tables KPI modules share: attributed commits and their capabilities, merged PRs and
approving reviews, CI runs with their pipeline kind, retrain cycles, runbook executions, drills, evaluation
test counts. A KPI module (metrics/kpis/<key>.py) reads only what it needs; nothing is computed twice and
nothing a KPI does not ask for is computed at all. A new source adds a property here (or reads
`facts.data` directly) and its KPI modules use it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from functools import cached_property
from typing import TYPE_CHECKING

import pandas as pd

from engagement.config import EngagementConfig
from engagement.weeks import current_week, engagement_weeks, week_start

if TYPE_CHECKING:
    from metrics.engagement import SourceData
    from metrics.github_kpis import GitHubMetrics

SIDE_COUNTS = ("internal", "vendor", "unattributed", "bots")
ALL = "\0all"  # stands for the engagement-wide row while reindexing (None is no index label)


class Facts:
    """Shared, attributed inputs of the KPIs for one engagement (see the module docstring)."""

    def __init__(self, cfg: EngagementConfig, data: SourceData, accepted_milestones: Collection[str] = (),
                 today: dt.datetime | None = None):
        from metrics.other_sources import with_other_sources

        self.cfg = cfg
        self.data = with_other_sources(data, cfg)  # GitLab MRs/pipelines and MLflow runs in the shared frames
        self.accepted_milestones = frozenset(accepted_milestones)
        self.today = today

    # -- time ------------------------------------------------------------------------------------------
    @cached_property
    def now_week(self) -> int:
        return current_week(self.cfg.engagement.start, self.cfg.engagement.timezone, self.today)

    @cached_property
    def weeks(self) -> list[int]:
        """Reported weeks (SPEC §4): the planned ones, every week up to the latest event, 0 with baseline events."""
        event_weeks = set(self.commits["week"].unique()) | self.github.event_weeks()
        return engagement_weeks(self.cfg.engagement.weeks, event_weeks, through_week=self.now_week)

    def week_start(self, week: int) -> dt.date | None:
        return week_start(int(week), self.cfg.engagement.start)

    def week_series(self, at: pd.Series) -> pd.Series:
        """Engagement week of UTC instants (NaN where missing)."""
        from metrics.tickets import week_series

        return week_series(at, self.cfg)

    # -- git -------------------------------------------------------------------------------------------
    @cached_property
    def commits(self) -> pd.DataFrame:
        """Every commit with person, side, rule, org, local_date, week (SPEC §3)."""
        from metrics.identity import attribute

        commits = self.data.commits
        if commits.empty:
            cols = [*commits.columns, "person", "side", "rule", "org", "local_date", "week"]
            return pd.DataFrame(columns=cols).astype({"week": "int64", "is_merge": bool})
        return attribute(commits, self.cfg)

    @cached_property
    def countable_commits(self) -> pd.DataFrame:
        from metrics.commits import countable_commits

        return countable_commits(self.commits)

    @cached_property
    def commit_caps(self) -> pd.DataFrame:
        """(source_id, sha, capability, paths): each commit once per capability its files touch (SPEC §6)."""
        from metrics.capabilities import commit_capabilities

        return commit_capabilities(self.data.commit_files, self.cfg.capabilities)

    def commit_links(self, repo: pd.Series, sha: pd.Series) -> pd.Series:
        """A web link for commits of git sources that are also configured GitHub repositories (same name)."""
        links = {}
        for gh in self.cfg.sources.github:
            web = gh.base_url.replace("://api.github.com", "://github.com").rstrip("/")
            if web.endswith("/api/v3"):  # GitHub Enterprise
                web = web[: -len("/api/v3")]
            links[gh.repo.split("/")[-1]] = f"{web}/{gh.repo}/commit/"
        return pd.Series([f"{links[r]}{s}" if r in links else None for r, s in zip(repo, sha, strict=True)],
                         index=repo.index, dtype=object)

    @cached_property
    def surviving_files(self) -> pd.DataFrame:
        """metrics.surviving.week_files: the files of the tree at each week's end (weeks 0 .. now), SPEC §10."""
        from metrics.surviving import week_files

        return week_files(self.cfg, getattr(self.data, "surviving_files", None), self.now_week)

    @cached_property
    def surviving_blame(self) -> pd.DataFrame:
        """metrics.surviving.attributed_blame: the blame rows those files use, authors attributed (SPEC §3)."""
        from metrics.surviving import attributed_blame

        return attributed_blame(self.cfg, getattr(self.data, "surviving_blame", None), self.surviving_files)

    def surviving_lines(self, week: int) -> pd.DataFrame:
        """metrics.surviving.lines_of_files for one week: its blamed lines with author, person and side."""
        from metrics.surviving import lines_of_files

        files = self.surviving_files
        return lines_of_files(files[files["week"] == week], self.surviving_blame)

    @cached_property
    def surviving_path_capabilities(self) -> pd.DataFrame:
        """(path, capability) of every file of the week-end trees: the capabilities' paths matched once, read by
        internal_line_share's rows and by its evidence of every (week, capability)."""
        from metrics.surviving import path_capability_pairs

        return path_capability_pairs(self.surviving_files, self.cfg)

    # -- GitHub (PRs, reviews, runs, cycles, evaluation tests) -------------------------------------------
    @cached_property
    def github(self) -> GitHubMetrics:
        from metrics.github_kpis import github_metrics

        return github_metrics(self.cfg, self.data, self.commits, self.commit_caps, today=self.today)

    @cached_property
    def model_promotions(self) -> pd.DataFrame:
        """metrics.other_sources.model_promotions: versions put in production in the MLflow registry, with creator,
        promoter (or unknown), `rollback` (back to an older version; `replaced_at`) and `two_key`, by week."""
        from metrics.other_sources import model_promotions

        return model_promotions(self.data, self.cfg)

    # -- tickets ---------------------------------------------------------------------------------------
    @cached_property
    def has_tickets(self) -> bool:
        return self.data.tickets is not None and not self.data.tickets.empty

    @cached_property
    def ticket_events(self) -> pd.DataFrame:
        from metrics.tickets import empty_events

        events = self.data.ticket_events
        return events if len(events.columns) else empty_events()

    @cached_property
    def runbook_executions(self) -> pd.DataFrame:
        """metrics.runbooks.runbook_executions: one row per execution (empty without tickets)."""
        from metrics.runbooks import runbook_executions

        if not self.has_tickets:
            return pd.DataFrame()
        return runbook_executions(self.cfg, self.data.tickets, self.ticket_events, self.data.checklist_items,
                                  self.today)

    @cached_property
    def drills(self) -> pd.DataFrame:
        """metrics.drills.drills: one row per drill (empty without tickets)."""
        from metrics.drills import drills

        if not self.has_tickets:
            return pd.DataFrame()
        return drills(self.cfg, self.data.tickets, self.ticket_events)

    def ticket_scopes(self) -> list[tuple[str | None, set[str] | None]]:
        """(capability, its ticket labels): the engagement-wide scope, then each capability with ticket_labels."""
        scopes: list[tuple[str | None, set[str] | None]] = [(None, None)]
        scopes += [(c.key, {lb.lower() for lb in c.ticket_labels}) for c in self.cfg.capabilities if c.ticket_labels]
        return scopes

    def capability_labels(self, capability: str | None) -> set[str] | None:
        return dict(self.ticket_scopes()).get(capability) if capability is not None else None

    # -- the binder and the system KPIs (SPEC §11) --------------------------------------------------------
    @cached_property
    def binder(self):
        """metrics.binder.Binder: per (week, artifact) present / fresh / owned, and the matching files."""
        from metrics.binder import binder

        return binder(self.cfg, self.data.week_ends, self.data.artifact_files, self.commits, self.weeks)

    @cached_property
    def train_durations(self) -> pd.DataFrame:
        """metrics.system.train_durations: completed train attempts with minutes and week of start."""
        from metrics.system import train_durations

        return train_durations(self.github.runs, self.cfg)

    @cached_property
    def rollbacks(self) -> pd.DataFrame:
        """metrics.system.rollback_cycles: one per rollback run."""
        from metrics.system import rollback_cycles

        return rollback_cycles(self.github.runs, self.cfg)

    @cached_property
    def evaluations(self) -> pd.DataFrame:
        """metrics.system.evaluations: JUnit and eval runs with their commit, side and passing flag."""
        from metrics.system import evaluations

        return evaluations(self.github.runs, self.data.junit_runs, self.cfg)

    @cached_property
    def eval_junit(self) -> pd.DataFrame:
        """metrics.system.week_junit: the tracked-branch JUnit run each (repository, week) counts."""
        from metrics.delivery import tracked_branches
        from metrics.system import week_junit

        return week_junit(self.evaluations, tracked_branches(self.cfg))

    @cached_property
    def releases(self) -> pd.DataFrame:
        """metrics.system.releases: successful non-staging deploy runs, `silent` without a passing evaluation."""
        from metrics.system import releases

        return releases(self.github.runs, self.evaluations, self.cfg)

    @cached_property
    def rebuilds(self) -> pd.DataFrame:
        """metrics.system.rebuild_runs: every attempt of a rebuild workflow."""
        from metrics.system import rebuild_runs

        return rebuild_runs(self.github.runs)

    @cached_property
    def rehearsals(self):
        """metrics.system.Rehearsals: complete internal rehearsal cycles and every staging deploy tried."""
        from metrics.system import rehearsal_cycles

        return rehearsal_cycles(self.github.runs, self.github.cuts, self.evaluations, self.cfg)

    @cached_property
    def takeover(self) -> pd.DataFrame:
        """metrics.system.takeover over the ladder: per (capability, week) the takeover week and weeks taken."""
        from metrics.system import takeover

        return takeover(self.ladder)

    # -- handover readiness (SPEC §10) ------------------------------------------------------------------------
    @cached_property
    def handover_items(self) -> pd.DataFrame:
        """metrics.readiness.handover_items: every operation item (commit, PR, review, run, runbook, drill)."""
        from metrics.readiness import handover_items

        return handover_items(self)

    @cached_property
    def capability_operations(self) -> list[tuple[str, str, bool, pd.DataFrame]]:
        """metrics.readiness.capability_operations: (capability, operation, explicit, its items), selected once for
        the operation table and every week's per-person evidence."""
        from metrics.readiness import capability_operations

        return capability_operations(self)

    @cached_property
    def operation_rows(self) -> pd.DataFrame:
        """metrics.readiness.operation_rows of `capability_operations`: their items in one narrow frame."""
        from metrics.readiness import operation_rows

        return operation_rows(self.capability_operations)

    @cached_property
    def operation_table(self) -> pd.DataFrame:
        """metrics.readiness.operation_table: coverage per (capability, week, operation)."""
        from metrics.readiness import operation_table

        return operation_table(self)

    @cached_property
    def raci_items(self) -> pd.DataFrame:
        from metrics.readiness import raci_items

        return raci_items(self)

    @cached_property
    def raci_table(self) -> pd.DataFrame:
        """metrics.readiness.raci_table: planned vs actual role per (capability, week, role)."""
        from metrics.readiness import raci_table

        return raci_table(self)

    @cached_property
    def competency_items(self) -> pd.DataFrame:
        """metrics.competency.competency_items: evidence items of every rubric kind per capability."""
        from metrics.competency import competency_items

        return competency_items(self)

    @cached_property
    def competency(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """metrics.competency.competency: (matrix rows, their evidence items)."""
        from metrics.competency import competency

        return competency(self)

    # -- the ladder --------------------------------------------------------------------------------------
    @cached_property
    def activity(self) -> pd.DataFrame:
        """Ladder activity (SPEC §6): the items of every registered KPI's `activity`, one row per
        (capability, kind, id), in the evidence row shape plus `capability` and `week`."""
        from metrics.kpis import REGISTRY
        from metrics.kpis.base import ACTIVITY_COLUMNS

        parts, seen = [], set()
        for spec in REGISTRY.values():
            if spec.activity is None or spec.activity in seen:
                continue
            seen.add(spec.activity)
            part = spec.activity(self)
            if len(part):
                parts.append(part.reindex(columns=ACTIVITY_COLUMNS))
        if not parts:
            return pd.DataFrame(columns=ACTIVITY_COLUMNS)
        items = pd.concat(parts, ignore_index=True)
        return items.drop_duplicates(["capability", "kind", "id"]).reset_index(drop=True)

    @cached_property
    def ladder(self) -> pd.DataFrame:
        """metrics.ladder.ladder over `activity`: one row per (capability, week)."""
        from metrics.ladder import ladder

        return ladder(self.activity, self.cfg, self.weeks, self.accepted_milestones)

    # -- helpers for KPI modules -------------------------------------------------------------------------
    def grid(self, rows: pd.DataFrame, capabilities: bool = True) -> pd.DataFrame:
        """`rows` reindexed so every reported week appears for the engagement-wide series (and, with
        `capabilities`, for each capability), side counts 0 and value null where nothing happened."""
        caps = [ALL, *(self.cfg.capability_keys if capabilities else [])]
        index = pd.MultiIndex.from_product([caps, self.weeks], names=["capability", "week"])
        rows = rows.copy()
        if "capability" not in rows:
            rows["capability"] = None
        rows["capability"] = rows["capability"].astype(object).where(rows["capability"].notna(), ALL)
        rows["week"] = rows["week"].astype("int64")
        full = rows.set_index(["capability", "week"]).reindex(index).reset_index()
        full["capability"] = full["capability"].astype(object).where(full["capability"] != ALL, None)
        for col in SIDE_COUNTS:
            full[col] = full[col].fillna(0).astype("int64") if col in full else 0
        for col in ("n", "scheduled"):
            if col in full:
                full[col] = full[col].fillna(0).astype("float64")
        if "value" in full:
            full["value"] = full["value"].astype("float64")
        return full


def no_rows() -> pd.DataFrame:
    """What a KPI's compute returns when its source is not there (the KPI then has no weekly rows)."""
    return pd.DataFrame(columns=["week", "capability", *SIDE_COUNTS, "value"]).astype({"value": "float64"})
