"""`raci_drift` (SPEC §10): planned vs actual roles per capability with a `[raci.<capability>]` plan. Actual
responsible = the side with most authored items (commits, merged PRs, runs triggered, runbook executions) in the
week; accountable = the side with most approving reviews, merges of others' branches, deploy triggers and milestone
signatures. Value = matched roles / compared roles (1, 0.5 or 0 with both compared). Side counts: the week's items
of both roles. Evidence: one row per role (planned, actual; not counted) and one counted row per item.
metrics/readiness.py, docs/metrics.md."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso, missing

EXTRA = ("capability", "role", "row_type", "operation", "planned", "actual", "matches")


def compute(facts: Facts) -> pd.DataFrame:
    from metrics.readiness import raci_rows

    rows = raci_rows(facts)
    return no_rows() if rows.empty else rows


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    table = facts.raci_table
    roles = table[table["week"] == week] if len(table) else table
    if capability is not None and len(roles):
        roles = roles[roles["capability"] == capability]
    if roles.empty:
        return empty_evidence(*EXTRA)
    items = facts.raci_items
    items = items[(items["week"] == week) & items["capability"].isin(list(roles["capability"].unique()))]
    actual = roles["actual"].fillna("no items")
    verdict = np.where(roles["matches"].isna(), "not compared", np.where(roles["matches"].eq(True), "as planned",
                                                                          "DRIFT"))
    summary = evidence_frame(
        kind="role", id=roles["capability"] + ":" + roles["role"], counted=False, count=0,
        title=roles["role"] + ": planned " + roles["planned"].fillna("no plan yet") + ", actual " + actual + " ("
        + roles["internal"].astype(str) + " internal vs " + roles["vendor"].astype(str) + " vendor items) — "
        + verdict,
        capability=roles["capability"], role=roles["role"], row_type="role", operation=None,
        planned=roles["planned"], actual=roles["actual"], matches=roles["matches"])
    parts = [summary]
    if len(items):
        parts.append(evidence_frame(
            kind=items["kind"], id=items["id"], url=items["url"], at=iso(items["at"]), person=items["who"],
            side=items["side"].replace({"bots": "bot"}), title=items["operation"] + ": " + items["title"].fillna(""),
            repo=items["repo"], capability=items["capability"], role=items["role"], row_type="item",
            operation=items["operation"], planned=None, actual=None, matches=None))
    out = pd.concat(parts, ignore_index=True)
    out["_kind"] = (out["row_type"] == "item").astype(int)
    out = out.sort_values(["capability", "role", "_kind", "at"], na_position="first", kind="stable")
    return out.drop(columns="_kind").reset_index(drop=True)


def reconcile(row: pd.Series, rows: pd.DataFrame) -> list[str]:
    """Actual roles and the value recomputed from the counted item rows and the planned roles."""
    problems, compared, matched = [], 0, 0
    items = rows[(rows["row_type"] == "item") & rows["counted"].astype(bool)]
    for r in rows[rows["row_type"] == "role"].itertuples():
        mine = items[(items["capability"] == r.capability) & (items["role"] == r.role)]
        internal, vendor = int((mine["side"] == "internal").sum()), int((mine["side"] == "vendor").sum())
        actual = None if internal == vendor == 0 else "shared" if internal == vendor else (
            "internal" if internal > vendor else "vendor")
        if actual != (None if missing(r.actual) else r.actual):
            problems.append(f"{r.capability} {r.role}: the rows give {actual}, the row says {r.actual}")
        if actual is not None and not missing(r.planned):
            compared += 1
            matched += actual == r.planned
    want = matched / compared if compared else None
    if (want is None) != missing(row["value"]) or (want is not None and not math.isclose(want, float(row["value"]))):
        problems.append(f"value is {row['value']}, the rows give {matched}/{compared} roles as planned")
    return problems


SPEC = KpiSpec(
    key="raci_drift", label="RACI as planned", unit="share", direction="higher",
    definition="Share of the planned roles (responsible: most authored items; accountable: most approvals, merges, "
               "deploys and sign-offs) held by the planned side in the week: 1 both as planned, 0.5 one, 0 none.",
    compute=compute, evidence=evidence, default_target=1.0, spec_section="SPEC §10", chart="share",
    page="readiness", reconcile=reconcile)
