"""Commit KPIs from git: `internal_commit_share` (SPEC §5)."""

from __future__ import annotations

import pandas as pd

from metrics.identity import side_counts


def countable_commits(attributed_commits: pd.DataFrame) -> pd.DataFrame:
    """Non-merge commits, each once even when two sources hold the same sha."""
    commits = attributed_commits[~attributed_commits["is_merge"].astype(bool)]
    return commits.drop_duplicates("sha")


def internal_commit_share(attributed_commits: pd.DataFrame, commit_caps: pd.DataFrame) -> pd.DataFrame:
    """internal_commit_share: per engagement week, non-merge commits reachable from the tracked branch
    (all parents), bucketed by author date in the engagement timezone, authored by internal /
    (internal + vendor). Bots and unattributed commits are counted beside it, not in it.

    Returns rows (week, capability, internal, vendor, unattributed, bots, value): capability None is
    engagement-wide; a row per capability counts the commits touching it (SPEC §6 paths)."""
    commits = countable_commits(attributed_commits)
    overall = side_counts(commits, ["week"]).assign(capability=None)
    touched = commits.merge(commit_caps[["source_id", "sha", "capability"]], on=["source_id", "sha"])
    touched = touched.drop_duplicates(["sha", "capability"])
    per_cap = side_counts(touched, ["week", "capability"]) if len(touched) else overall.iloc[0:0]
    return pd.concat([overall, per_cap], ignore_index=True)
