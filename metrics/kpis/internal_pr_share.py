"""`internal_pr_share` (SPEC §5): PRs merged in the week (by `merged_at`, into any base branch) authored by internal
/ by internal or vendor; a deleted account is unattributed. Without a GitHub source the tracked branch's merge
commits (or first-parent commits) stand in. Merged PRs are ladder activity (SPEC §6). docs/metrics.md."""

from __future__ import annotations

import pandas as pd

from metrics.facts import Facts
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso


def compute(facts: Facts) -> pd.DataFrame:
    return facts.grid(facts.github.pr_share)


def _prs(facts: Facts, week: int | None, capability: str | None) -> pd.DataFrame:
    gh = facts.github
    prs = gh.merged
    if prs.empty:
        return prs
    if capability is not None:
        keys = gh.pr_caps.loc[gh.pr_caps["capability"] == capability, ["source_id", "number"]].drop_duplicates()
        prs = prs.merge(keys, on=["source_id", "number"])
    if week is not None:
        prs = prs[prs["week"] == week]
    return prs.sort_values(["at", "number"])


def pr_evidence(facts: Facts, prs: pd.DataFrame) -> pd.DataFrame:
    if prs.empty:
        return empty_evidence("author_login", "base_ref")
    if facts.github.pr_source == "git":  # merge (or first-parent) commits standing in for PRs
        repos = facts.commits.drop_duplicates("source_id").set_index("source_id")["repo"]
        repo = prs["source_id"].map(repos)
        return evidence_frame(kind="commit", id=prs["number"].astype(str),
                              url=facts.commit_links(repo, prs["number"].astype(str)), at=iso(prs["at"]),
                              person=prs["person"].fillna(prs["name"]), side=prs["side"],
                              title="merge into the tracked branch (no PR source)", repo=repo, author_login=None,
                              base_ref=None)
    return evidence_frame(kind="pr", id=prs["repo"].astype(str) + "#" + prs["number"].astype(str),
                          url=prs["html_url"], at=iso(prs["merged_at"]),
                          person=prs["person"].fillna(prs["author_login"]), side=prs["side"], title=prs["title"],
                          repo=prs["repo"], author_login=prs["author_login"], base_ref=prs["base_ref"])


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    return pr_evidence(facts, _prs(facts, week, capability))


def activity(facts: Facts) -> pd.DataFrame:
    """Ladder items: merged PRs whose files match a capability, by author, week of merge (GitHub source only:
    without it the commits already count)."""
    gh = facts.github
    if gh.pr_source != "github" or gh.merged.empty or gh.pr_caps.empty:
        return empty_evidence()
    prs = gh.merged.merge(gh.pr_caps, on=["source_id", "number"])
    ev = pr_evidence(facts, prs)
    return ev.assign(capability=prs["capability"].to_numpy(), week=prs["week"].to_numpy()) if len(prs) else ev


SPEC = KpiSpec(
    key="internal_pr_share", label="Internal PR share", unit="share", direction="higher",
    definition="PRs merged in the week (by merge time, into any base branch) authored by internal / by internal or "
               "vendor. Bots and deleted or unknown accounts are counted beside the share.",
    compute=compute, evidence=evidence, activity=activity, default_target=0.5, page="delivery")
