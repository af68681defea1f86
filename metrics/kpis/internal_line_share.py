"""`internal_line_share` (SPEC §10): ownership by surviving lines. At each week's end (weeks 0 … current), every line
of every text file of the tracked branch is credited to the recorded author of the commit `git blame` names for it,
and that author's side on the commit's local author date; value = internal lines / (internal + vendor lines), with
unattributed and bot lines beside, `n` = all lines. Per capability: the files its `paths` match. Evidence: one row
per (file, author) with its line count (`count`; the spec is weighted). metrics/surviving.py, docs/metrics.md."""

from __future__ import annotations

import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso

SIDE_COLUMN = {"internal": "internal", "vendor": "vendor", "unattributed": "unattributed", "bot": "bots"}
EXTRA = ("path", "file_lines", "email", "rule")


def _counts(lines: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    sums = lines.groupby([*by, "side"])["lines"].sum().unstack("side", fill_value=0)
    sums = sums.reindex(columns=list(SIDE_COLUMN), fill_value=0).rename(columns=SIDE_COLUMN).reset_index()
    sums.columns.name = None
    for col in SIDE_COLUMN.values():
        sums[col] = sums[col].astype("int64")
    attributed = sums["internal"] + sums["vendor"]
    sums["value"] = (sums["internal"] / attributed.where(attributed > 0)).astype("float64")
    sums["n"] = (attributed + sums["unattributed"] + sums["bots"]).astype("float64")
    return sums


def compute(facts: Facts) -> pd.DataFrame:
    from metrics.surviving import file_side_lines

    lines = file_side_lines(facts.surviving_files, facts.surviving_blame)  # per (week, file, side): no expansion
    if lines.empty:
        return no_rows()
    overall = _counts(lines, ["week"]).assign(capability=None)
    per_cap = lines.merge(facts.surviving_path_capabilities, on="path")
    parts = [overall]
    if len(per_cap):
        parts.append(_counts(per_cap, ["capability", "week"]))
    rows = pd.concat(parts, ignore_index=True)
    rows = facts.grid(rows)
    return rows[rows["week"] <= facts.now_week].reset_index(drop=True)  # weeks 0 … current only


def lines_of(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    """The surviving lines of the week (of the capability's files when given)."""
    lines = facts.surviving_lines(week)
    if capability is not None and len(lines):
        caps = facts.surviving_path_capabilities
        lines = lines[lines["path"].isin(caps.loc[caps["capability"] == capability, "path"])]
    return lines


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    lines = lines_of(facts, week, capability)
    if lines.empty:
        return empty_evidence(*EXTRA)
    lines = lines.assign(who=lines["person"].fillna(lines["email"]).fillna(lines["name"]))
    files = lines.groupby(["repo", "path"])["lines"].sum().rename("file_lines")
    rows = (lines.groupby(["repo", "path", "who", "side"], dropna=False)
            .agg(lines=("lines", "sum"), at=("at", "max"), email=("email", "first"), rule=("rule", "first"),
                 commits=("commit", "nunique"))
            .reset_index().join(files, on=["repo", "path"])
            .sort_values(["repo", "path", "lines", "who"], ascending=[True, True, False, True]))
    return evidence_frame(
        kind="file", id=rows["repo"].astype(str) + ":" + rows["path"].astype(str), url=None,
        at=iso(rows["at"]), person=rows["who"], side=rows["side"], count=rows["lines"].astype("int64"),
        title=rows["lines"].astype(str) + " of " + rows["file_lines"].astype(str) + " lines of " + rows["path"]
        + ", last changed by them in " + rows["commits"].astype(str) + " commit(s)",
        repo=rows["repo"], path=rows["path"], file_lines=rows["file_lines"].astype("int64"), email=rows["email"],
        rule=rows["rule"])


SPEC = KpiSpec(
    key="internal_line_share", label="Internal line share", unit="share", direction="higher",
    definition="Lines of the tracked branch at the week's end whose last change (git blame) was authored by the "
               "internal team / by internal or vendor authors: whose code the system is made of today.",
    compute=compute, evidence=evidence, default_target=0.5, spec_section="SPEC §10", chart="share",
    page="readiness", weighted=True)
