"""The GitHub-sourced frames of one engagement, computed together (`Facts.github`): merged PRs, approving reviews,
runs with their pipeline kind, retrain cycles, JUnit weeks, and the weekly rows of the PR and review shares, two-key
compliance, internal train share, time to retrain and eval coverage that their KPI modules (metrics/kpis/) return.

`github_metrics(cfg, data, commits, commit_caps)` is pure; the KPI rules live in metrics/delivery.py,
metrics/retraining.py, metrics/junit.py (docstrings) and docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from engagement.config import EngagementConfig
from metrics.delivery import (
    approving_reviews,
    git_merged_prs,
    internal_pr_share,
    internal_review_share,
    merged_prs,
    pr_capabilities,
    tracked_branches,
    two_key_compliance,
    two_key_prs,
)
from metrics.junit import eval_coverage_with_junit, eval_tests_by_week, junit_week_runs
from metrics.retraining import attributed_runs, data_cuts, internal_train_share, retrain_cycles, time_to_retrain

COUNTS = ("internal", "vendor", "unattributed", "bots")


@dataclass(frozen=True)
class GitHubMetrics:
    pr_source: str  # "github" (PRs collected) or "git" (merge / first-parent commits stand in)
    merged: pd.DataFrame  # merged PRs attributed to their author at merged_at
    pr_caps: pd.DataFrame  # (source_id, number, capability)
    approvals: pd.DataFrame  # approving reviews on merged PRs, attributed to the reviewer
    runs: pd.DataFrame  # every run attempt with kind, attributed to its triggering actor
    cuts: pd.DataFrame  # data cuts (runs and tags)
    cycles: pd.DataFrame  # retrain cycles
    pr_share: pd.DataFrame
    review_share: pd.DataFrame
    two_key: pd.DataFrame
    train_share: pd.DataFrame
    retrain: pd.DataFrame
    eval_coverage: pd.DataFrame
    two_key_detail: pd.DataFrame  # merged PRs into a tracked branch with approvers and compliance
    eval_tests: pd.DataFrame  # evaluation test counts per (source, week, file)
    junit_weeks: pd.DataFrame = field(default_factory=pd.DataFrame)  # the JUnit run counted per (source, week)

    def event_weeks(self) -> set[int]:
        weeks = set()
        for frame in (self.merged, self.approvals, self.runs):
            if len(frame):
                weeks |= {int(w) for w in frame["week"].unique()}
        return weeks


def github_metrics(cfg: EngagementConfig, data, commits: pd.DataFrame, commit_caps: pd.DataFrame,
                   today=None) -> GitHubMetrics:
    """Everything GitHub-sourced for the engagement (see the module docstring)."""
    prs = data.pull_requests
    has_github = bool(cfg.sources.github) or bool(cfg.sources.gitlab) or len(prs) > 0  # GitLab MRs are PRs
    if has_github:
        merged = merged_prs(prs if len(prs) else _empty_prs(), cfg)
        pr_caps = pr_capabilities(data.pr_files, cfg.capabilities) if len(data.pr_files) else pd.DataFrame(
            columns=["source_id", "number", "capability"])
        approvals = approving_reviews(data.reviews, merged, cfg) if len(data.reviews) else pd.DataFrame(
            columns=["source_id", "number", "review_id", "reviewer_login", "author_login", "side", "week"])
        two_key = two_key_compliance(merged, approvals, tracked_branches(cfg))
        review_share = internal_review_share(approvals, pr_caps)
        source = "github"
    else:
        merged = git_merged_prs(data.commits, cfg) if len(data.commits) else pd.DataFrame(
            columns=["source_id", "number", "week", "side"])
        pr_caps = commit_caps.rename(columns={"sha": "number"})[["source_id", "number", "capability"]] if len(
            commit_caps) else pd.DataFrame(columns=["source_id", "number", "capability"])
        approvals = pd.DataFrame(columns=["source_id", "number", "week", "side"])
        two_key = review_share = pd.DataFrame(columns=["week", "capability", *COUNTS, "value"])
        source = "git"
    pr_share = internal_pr_share(merged, pr_caps)
    runs = attributed_runs(data.workflow_runs, cfg) if len(data.workflow_runs) else pd.DataFrame(
        columns=["source_id", "run_id", "run_attempt", "kind", "event", "week", "side"])
    cuts = data_cuts(runs, data.tags, cfg)
    cycles = retrain_cycles(runs, cuts, cfg) if len(runs) else retrain_cycles(runs.iloc[0:0], cuts, cfg)
    junit_weeks = junit_week_runs(getattr(data, "junit_runs", None), cfg)
    eval_tests = eval_tests_by_week(data.eval_tests, cfg, now=today)  # per-commit rows -> the branch at each week's end
    detail = two_key_prs(merged, approvals, tracked_branches(cfg)) if source == "github" else merged.iloc[0:0]
    return GitHubMetrics(source, merged, pr_caps, approvals, runs, cuts, cycles, pr_share, review_share, two_key,
                         internal_train_share(runs), time_to_retrain(cycles),
                         eval_coverage_with_junit(eval_tests, junit_weeks), detail, eval_tests, junit_weeks)


def _empty_prs() -> pd.DataFrame:
    return pd.DataFrame({"source_id": pd.Series(dtype="int64"), "number": pd.Series(dtype="int64"),
                         "author_login": pd.Series(dtype=object), "author_type": pd.Series(dtype=object),
                         "merged_at": pd.Series(dtype="datetime64[ns, UTC]"), "base_ref": pd.Series(dtype=object),
                         "html_url": pd.Series(dtype=object), "title": pd.Series(dtype=object)})
