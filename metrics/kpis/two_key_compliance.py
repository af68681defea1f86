"""`two_key_compliance` (SPEC §5): merged PRs into a tracked branch with an approving review by an internal person
other than the author plus a second approver / all merged PRs into a tracked branch (`n`). The side counts
count those PRs by author side. Needs a GitHub source. docs/metrics.md."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso


def compute(facts: Facts) -> pd.DataFrame:
    gh = facts.github
    return no_rows() if gh.pr_source != "github" else facts.grid(gh.two_key, capabilities=False)


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    """The week's merged PRs (counted), then its model promotions (SPEC §12: releases, shown beside, not counted)."""
    if capability is not None:  # engagement-wide only
        return empty_evidence(*EXTRA)
    parts = []
    prs = facts.github.two_key_detail
    prs = prs[prs["week"] == week].sort_values(["at", "number"]) if len(prs) else prs
    if len(prs):
        parts.append(evidence_frame(kind="pr", id=prs["repo"].astype(str) + "#" + prs["number"].astype(str),
                                    url=prs["html_url"], at=iso(prs["merged_at"]),
                                    person=prs["person"].fillna(prs["author_login"]), side=prs["side"],
                                    title=prs["title"], repo=prs["repo"], approvers=prs["approvers"],
                                    internal_approver=prs["internal_approver"], compliant=prs["compliant"]))
    promotions = facts.model_promotions
    promotions = promotions[promotions["week"] == week] if len(promotions) else promotions
    if len(promotions):
        parts.append(promotion_evidence(promotions))
    return pd.concat(parts, ignore_index=True) if parts else empty_evidence(*EXTRA)


EXTRA = ("approvers", "internal_approver", "compliant")


def promotion_evidence(promotions: pd.DataFrame, counted=False) -> pd.DataFrame:
    """`model_promotion` evidence rows (SPEC §12): the version put in production, who created it and who promoted
    it — "unknown" when the registry does not say (open-source MLflow records no actor for alias or stage
    changes); when only the window is known the title says between which collections. The row's person and side
    are the promoter's; `compliant` is the release's two-key check (None: promoter unknown)."""
    if promotions.empty:
        return empty_evidence(*EXTRA, "creator", "promoter", "rollback")
    p = promotions
    promoter = p["promoter_person"].fillna(p["promoter"]).fillna("unknown")
    creator = p["creator_person"].fillna(p["creator"]).fillna("unknown")
    fmt = "%Y-%m-%d %H:%M UTC"
    window = ["" if how != "collection" else
              f"; MLflow records no time for alias changes: between {s:{fmt}} and {e:{fmt}}" if pd.notna(s) else
              f"; MLflow records no time for alias changes: by {e:{fmt}}"
              for how, s, e in zip(p["at_source"], pd.to_datetime(p["window_start"], utc=True),
                                   pd.to_datetime(p["window_end"], utc=True), strict=True)]
    actor_note = np.where(p["promoter"].isna(), " (promoter unknown: no version tag names one)", "")
    title = (p["model"].astype(str) + " v" + p["version"].astype(str) + " to " + p["target"].astype(str) +
             np.where(p["rollback"], " (rollback)", "") + ", created by " + creator.astype(str) + ", promoted by " +
             promoter.astype(str) + actor_note + pd.Series(window, index=p.index))
    return evidence_frame(kind="model_promotion", id=p["repo"].astype(str) + ":" + p["model"].astype(str) + "/" +
                          p["version"].astype(str) + "@" + iso(p["at"]).astype(str), url=p["url"], at=iso(p["at"]),
                          person=promoter, side=p["promoter_side"], counted=counted, title=title, repo=p["repo"],
                          approvers=None, internal_approver=None, compliant=p["two_key"], creator=creator,
                          promoter=promoter, rollback=p["rollback"])


SPEC = KpiSpec(
    key="two_key_compliance", label="Two-key compliance", unit="share", direction="higher",
    definition="Merged PRs into the tracked branch approved by an internal person other than the author plus a "
               "second approver / all merged PRs into the tracked branch.",
    compute=compute, evidence=evidence, default_target=1.0, capabilities=False, page="quality")
