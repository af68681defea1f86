"""Delivery KPIs (SPEC §5) from pull requests and reviews, with a git fallback for PRs.

Each function is pure: frames in, weekly rows out (week, capability, internal, vendor, unattributed,
bots, value[, n]). Attribution and weeks come from metrics.identity / engagement.weeks.
"""

from __future__ import annotations

import pandas as pd

from engagement.config import Capability, EngagementConfig
from metrics.capabilities import path_capabilities
from metrics.identity import attribute, side_counts

PR_SIDE_COLUMNS = ["week", "capability", "internal", "vendor", "unattributed", "bots", "value"]


def merged_prs(prs: pd.DataFrame, cfg: EngagementConfig) -> pd.DataFrame:
    """Merged PRs (`merged_at` set, into any base branch) attributed to their author at `merged_at`.

    The author is the PR's `user` (login; GitHub `type: "Bot"` is a bot). A deleted account
    (`user: null`, stored without login, or `ghost`) is unattributed."""
    merged = prs[prs["merged_at"].notna()] if len(prs) else prs
    if merged.empty:
        return pd.DataFrame(columns=[*prs.columns, "at", "login", "source_bot", "person", "side", "rule", "org",
                                     "local_date", "week"])
    events = merged.assign(at=merged["merged_at"], login=merged["author_login"],
                           source_bot=merged["author_type"].eq("Bot"))
    return attribute(events.reset_index(drop=True), cfg)


def pr_capabilities(pr_files: pd.DataFrame, capabilities: list[Capability]) -> pd.DataFrame:
    """(source_id, number, capability): each PR once per capability its changed files touch."""
    cols = ["source_id", "number", "capability"]
    if pr_files.empty:
        return pd.DataFrame(columns=cols)
    long = pd.concat([pr_files[["source_id", "number", "path"]],
                      pr_files.loc[pr_files["previous_path"].notna(), ["source_id", "number", "previous_path"]]
                      .rename(columns={"previous_path": "path"})], ignore_index=True)
    hits = long.merge(path_capabilities(long["path"], capabilities), on="path")
    return hits[cols].drop_duplicates().reset_index(drop=True)


def _with_capabilities(events: pd.DataFrame, caps: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    overall = side_counts(events, ["week"]).assign(capability=None) if len(events) else pd.DataFrame(
        columns=PR_SIDE_COLUMNS)
    touched = events.merge(caps, on=key) if len(events) and len(caps) else pd.DataFrame()
    per_cap = side_counts(touched, ["week", "capability"]) if len(touched) else pd.DataFrame(columns=PR_SIDE_COLUMNS)
    return pd.concat([overall[PR_SIDE_COLUMNS], per_cap[PR_SIDE_COLUMNS]], ignore_index=True)


def internal_pr_share(merged: pd.DataFrame, caps: pd.DataFrame) -> pd.DataFrame:
    """internal_pr_share: per week of `merged_at` (engagement timezone), PRs merged into any base branch
    authored by internal / merged PRs authored by internal or vendor. Bots and unattributed authors
    (deleted accounts included) are counted beside the share, not in it. Rows per capability count the
    merged PRs whose changed files match the capability's paths."""
    return _with_capabilities(merged, caps, ["source_id", "number"])


def approving_reviews(reviews: pd.DataFrame, merged: pd.DataFrame, cfg: EngagementConfig) -> pd.DataFrame:
    """APPROVED reviews on merged PRs, attributed to the reviewer at `submitted_at`."""
    if reviews.empty or merged.empty:
        return pd.DataFrame(columns=[*reviews.columns, "week", "side", "person"])
    approved = reviews[reviews["state"].eq("APPROVED") & reviews["submitted_at"].notna()]
    approved = approved.merge(merged[["source_id", "number", "author_login"]], on=["source_id", "number"])
    if approved.empty:
        return pd.DataFrame(columns=[*approved.columns, "week", "side", "person"])
    events = approved.assign(at=approved["submitted_at"], login=approved["reviewer_login"],
                             source_bot=approved["reviewer_type"].eq("Bot"))
    return attribute(events.reset_index(drop=True), cfg)


def internal_review_share(approvals: pd.DataFrame, caps: pd.DataFrame) -> pd.DataFrame:
    """internal_review_share: per week of the review's `submitted_at`, approving reviews (state APPROVED)
    on merged PRs given by internal / given by internal or vendor reviewers. Bots and unattributed
    reviewers are counted beside it. Capability rows: reviews of PRs touching the capability."""
    return _with_capabilities(approvals, caps, ["source_id", "number"])


def two_key_prs(merged: pd.DataFrame, approvals: pd.DataFrame, tracked_branches: set[str]) -> pd.DataFrame:
    """Merged PRs into a tracked branch with `approvers` (distinct non-bot approvers other than the author),
    `internal_approver` (one of them internal) and `compliant` (both keys: internal approver + a second)."""
    if merged.empty:
        return merged.assign(approvers=pd.Series(dtype="int64"), internal_approver=pd.Series(dtype=bool),
                             compliant=pd.Series(dtype=bool))
    into = merged[merged["base_ref"].isin(tracked_branches)].copy()
    approvers = pd.Series(0, index=into.index, dtype="int64")
    internal = pd.Series(False, index=into.index)
    if len(approvals) and len(into):
        ap = approvals[approvals["side"].ne("bot") & approvals["reviewer_login"].notna()]
        ap = ap[ap["reviewer_login"].str.lower() != ap["author_login"].fillna("").str.lower()]
        # One grouped count and one join (a per-PR lookup took ~75 s for 20k PRs; issue 11).
        per_pr = (ap.assign(reviewer=ap["reviewer_login"].str.lower(), is_internal=ap["side"].eq("internal"))
                  .groupby(["source_id", "number"], as_index=False)
                  .agg(approvers=("reviewer", "nunique"), internal=("is_internal", "any")))
        joined = into[["source_id", "number"]].merge(per_pr, on=["source_id", "number"], how="left")
        approvers = pd.Series(joined["approvers"].fillna(0).astype("int64").to_numpy(), index=into.index)
        internal = pd.Series(joined["internal"].fillna(False).astype(bool).to_numpy(), index=into.index)
    into["approvers"] = approvers.astype("int64")
    into["internal_approver"] = internal.astype(bool)
    into["compliant"] = into["internal_approver"] & (into["approvers"] >= 2)
    return into


def two_key_compliance(merged: pd.DataFrame, approvals: pd.DataFrame, tracked_branches: set[str]) -> pd.DataFrame:
    """two_key_compliance: per week of `merged_at`, merged PRs into a tracked branch that have an
    approving review from an internal person other than the author AND a second approver (another
    distinct, non-bot reviewer other than the author), divided by all merged PRs into a tracked branch.

    Rows: week, capability None, value = compliant / merged, n = merged PRs into a tracked branch,
    compliant; internal/vendor/unattributed/bots count those PRs by author side."""
    cols = [*PR_SIDE_COLUMNS, "n", "compliant"]
    into = two_key_prs(merged, approvals, tracked_branches)
    if into.empty:
        return pd.DataFrame(columns=cols)
    counts = side_counts(into, ["week"]).drop(columns="value")
    totals = into.groupby("week").agg(n=("number", "size"), compliant=("compliant", "sum")).reset_index()
    out = counts.merge(totals, on="week")
    out["value"] = out["compliant"] / out["n"]
    out["capability"] = None
    return out[cols]


def _first_parent_chain(commits: pd.DataFrame) -> pd.DataFrame:
    """Commits on the first-parent chain of each source's tip (the newest commit no other commit names
    as a parent)."""
    chains = []
    for _source, group in commits.groupby("source_id"):
        # Plain Python strings: membership tests on Arrow-backed strings cost ~1 s at 30k commits (issue 11).
        shas = group["sha"].to_numpy(dtype=object)
        parents = dict(zip(shas, (p.split() for p in group["parents"].fillna("").to_numpy(dtype=object)),
                           strict=True))
        referenced = {p for ps in parents.values() for p in ps}
        plain = group["sha"].astype(object)  # hash-table isin, not Arrow's
        tips = group[~plain.isin(referenced).to_numpy()].sort_values("committed_at")
        if tips.empty:
            continue
        sha, chain = tips["sha"].iloc[-1], []
        while sha in parents and len(chain) <= len(parents):
            chain.append(sha)
            sha = parents[sha][0] if parents[sha] else None
        chains.append(group[plain.isin(chain).to_numpy()])
    return pd.concat(chains) if chains else commits.iloc[0:0]


def git_merged_prs(commits: pd.DataFrame, cfg: EngagementConfig) -> pd.DataFrame:
    """PR stand-ins from git when there is no GitHub source: the tracked branch's first-parent chain.

    If the chain holds merge commits, each merge is a PR, authored by the author of its second parent
    (the merged branch's tip) and merged at the merge's committer date; commits pushed directly are not
    PRs. If it holds none (squash or rebase merging), every first-parent commit is a PR by its author,
    merged at its committer date."""
    if commits.empty:
        return pd.DataFrame(columns=["source_id", "number", "week", "side"])
    chain = _first_parent_chain(commits)
    merges = chain[chain["is_merge"].astype(bool)]
    if len(merges):
        second = merges["parents"].str.split().str[1]
        by_sha = commits.drop_duplicates("sha").set_index("sha")
        known = second.isin(by_sha.index)
        merges, second = merges[known.to_numpy()], second[known.to_numpy()]
        events = pd.DataFrame({
            "source_id": merges["source_id"].to_numpy(), "number": merges["sha"].to_numpy(),
            "at": merges["committed_at"].to_numpy(), "name": by_sha.loc[second, "name"].to_numpy(),
            "email": by_sha.loc[second, "email"].to_numpy()})
    else:
        events = pd.DataFrame({"source_id": chain["source_id"].to_numpy(), "number": chain["sha"].to_numpy(),
                               "at": chain["committed_at"].to_numpy(), "name": chain["name"].to_numpy(),
                               "email": chain["email"].to_numpy()})
    events["at"] = pd.to_datetime(events["at"], utc=True)
    return attribute(events, cfg)


def tracked_branches(cfg: EngagementConfig) -> set[str]:
    """Branches two-key compliance counts merges into: the `[[sources.git]]` branches, else main/master."""
    return {s.branch for s in cfg.sources.git} or {"main", "master"}

