"""`internal_commit_share` (SPEC §5): non-merge commits reachable from the tracked branch (all parents), by author
date in the engagement timezone, authored by internal / (internal + vendor). Per capability: the commits whose
changed paths match it. Its commits are ladder activity (SPEC §6). Rule and example: docs/metrics.md."""

from __future__ import annotations

import pandas as pd

from metrics.facts import Facts
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso


def compute(facts: Facts) -> pd.DataFrame:
    from metrics.commits import internal_commit_share

    return facts.grid(internal_commit_share(facts.commits, facts.commit_caps))


def commit_rows(facts: Facts, week: int | None, capability: str | None) -> pd.DataFrame:
    """Countable commits (non-merge, once per sha) of the week, touching the capability when given."""
    commits = facts.countable_commits
    if capability is not None:
        caps = facts.commit_caps
        commits = commits[commits["sha"].isin(caps.loc[caps["capability"] == capability, "sha"])]
    if week is not None:
        commits = commits[commits["week"] == week]
    return commits.sort_values(["at", "sha"])


def commit_evidence(facts: Facts, commits: pd.DataFrame) -> pd.DataFrame:
    if commits.empty:
        return empty_evidence("email", "rule")
    return evidence_frame(
        kind="commit", id=commits["sha"], url=facts.commit_links(commits["repo"], commits["sha"]),
        at=iso(commits["at"]), person=commits["person"].fillna(commits["name"]), side=commits["side"],
        title=commits["subject"], repo=commits["repo"], email=commits["email"], rule=commits["rule"])


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    return commit_evidence(facts, commit_rows(facts, week, capability))


def activity(facts: Facts) -> pd.DataFrame:
    """Ladder items: each non-merge commit once per capability its paths touch, by author."""
    rows = facts.countable_commits.merge(facts.commit_caps, on=["source_id", "sha"])
    ev = commit_evidence(facts, rows)
    return ev.assign(capability=rows["capability"].to_numpy(), week=rows["week"].to_numpy()) if len(rows) else ev


SPEC = KpiSpec(
    key="internal_commit_share", label="Internal commit share", unit="share", direction="higher",
    definition="Non-merge commits reachable from the tracked branch, by author date: internal / (internal + vendor). "
               "Bots and unattributed commits are counted beside the share, not in it.",
    compute=compute, evidence=evidence, activity=activity, default_target=0.5, page="delivery")
