"""`two_key_compliance` (SPEC §5): merged PRs into a tracked branch with an approving review by an internal person
other than the author plus a second approver / all merged PRs into a tracked branch (`n`). The side counts
count those PRs by author side. Needs a GitHub source. docs/metrics.md."""

from __future__ import annotations

import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso


def compute(facts: Facts) -> pd.DataFrame:
    gh = facts.github
    return no_rows() if gh.pr_source != "github" else facts.grid(gh.two_key, capabilities=False)


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    prs = facts.github.two_key_detail
    if capability is not None or prs.empty:  # engagement-wide only
        return empty_evidence("approvers", "internal_approver", "compliant")
    prs = prs[prs["week"] == week].sort_values(["at", "number"])
    if prs.empty:
        return empty_evidence("approvers", "internal_approver", "compliant")
    return evidence_frame(kind="pr", id=prs["repo"].astype(str) + "#" + prs["number"].astype(str),
                          url=prs["html_url"], at=iso(prs["merged_at"]),
                          person=prs["person"].fillna(prs["author_login"]), side=prs["side"], title=prs["title"],
                          repo=prs["repo"], approvers=prs["approvers"], internal_approver=prs["internal_approver"],
                          compliant=prs["compliant"])


SPEC = KpiSpec(
    key="two_key_compliance", label="Two-key compliance", unit="share", direction="higher",
    definition="Merged PRs into the tracked branch approved by an internal person other than the author plus a "
               "second approver / all merged PRs into the tracked branch.",
    compute=compute, evidence=evidence, default_target=1.0, capabilities=False, page="quality")
