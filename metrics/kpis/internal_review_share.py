"""`internal_review_share` (SPEC §5): approving reviews on merged PRs, in the week submitted, given by internal /
by internal or vendor. Per capability: reviews of PRs touching it. Needs a GitHub source (no rows from git
alone). Approvals are ladder activity (SPEC §6). docs/metrics.md."""

from __future__ import annotations

import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso


def compute(facts: Facts) -> pd.DataFrame:
    gh = facts.github
    return no_rows() if gh.pr_source != "github" else facts.grid(gh.review_share)


def _reviews(facts: Facts, week: int | None, capability: str | None) -> pd.DataFrame:
    gh = facts.github
    rows = gh.approvals
    if rows.empty or "week" not in rows:
        return rows.iloc[0:0]
    if capability is not None:
        keys = gh.pr_caps.loc[gh.pr_caps["capability"] == capability, ["source_id", "number"]].drop_duplicates()
        rows = rows.merge(keys, on=["source_id", "number"])
    if week is not None:
        rows = rows[rows["week"] == week]
    return rows.sort_values(["at", "review_id"])


def review_evidence(facts: Facts, rows: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        return empty_evidence("pr_author")
    repos = facts.github.merged.drop_duplicates("source_id").set_index("source_id")["repo"]
    repo = rows["source_id"].map(repos)
    return evidence_frame(kind="review", id=rows["review_id"].astype(str), url=rows["html_url"],
                          at=iso(rows["submitted_at"]), person=rows["person"].fillna(rows["reviewer_login"]),
                          side=rows["side"], title="approves #" + rows["number"].astype(str), repo=repo,
                          pr_author=rows["author_login"])


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    return review_evidence(facts, _reviews(facts, week, capability))


def activity(facts: Facts) -> pd.DataFrame:
    """Ladder items: approving reviews of merged PRs touching a capability, by reviewer, week submitted."""
    gh = facts.github
    if gh.pr_source != "github" or gh.approvals.empty or gh.pr_caps.empty:
        return empty_evidence()
    rows = gh.approvals.merge(gh.pr_caps, on=["source_id", "number"])
    ev = review_evidence(facts, rows)
    return ev.assign(capability=rows["capability"].to_numpy(), week=rows["week"].to_numpy()) if len(rows) else ev


SPEC = KpiSpec(
    key="internal_review_share", label="Internal review share", unit="share", direction="higher",
    definition="Approving reviews on merged PRs, in the week submitted, given by internal / by internal or vendor "
               "reviewers. Bots and unattributed reviewers are counted beside the share.",
    compute=compute, evidence=evidence, activity=activity, default_target=0.5, page="delivery")
