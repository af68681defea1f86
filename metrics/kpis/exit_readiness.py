"""`exit_readiness` (SPEC §10): for a capability, the share of its operations (`[readiness].operations`, default every
kind with evidence on it) that at least `min_people` distinct internal people did unassisted in the trailing
`window_weeks` weeks; `n` = its bus factor, the fewest such people over its operations. Side counts: the window's
items of those operations by actor side. Engagement-wide: covered / operations over every capability, `n` the
smallest bus factor. Evidence: per operation, the internal people who did it in the window with their last date and
the last vendor to do it (row_type "operation", not counted), then one counted row per (operation, actor) standing
for the items they did in the window. metrics/readiness.py, docs/metrics.md."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso, missing

EXTRA = ("capability", "operation", "row_type", "covered", "internal_people", "people", "min_people", "unassisted",
         "last_internal", "last_internal_at", "last_vendor", "last_vendor_at")


def compute(facts: Facts) -> pd.DataFrame:
    from metrics.readiness import exit_readiness_rows

    rows = exit_readiness_rows(facts)
    return no_rows() if rows.empty else rows


def _weeks(first, last) -> str:
    return f"week {int(first)}" if first == last else f"weeks {int(first)}–{int(last)}"


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    from metrics.readiness import person_rows

    table = facts.operation_table
    ops = table[table["week"] == week] if len(table) else table
    if capability is not None and len(ops):
        ops = ops[ops["capability"] == capability]
    if ops.empty:
        return empty_evidence(*EXTRA)
    window = facts.cfg.readiness.window_weeks
    status = np.where(ops["covered"], "covered", "NOT covered")
    vendor = np.where(ops["last_vendor"].notna(), "; last vendor: " + ops["last_vendor"].astype(str) + " on "
                      + iso(ops["last_vendor_at"]).fillna("").str[:10], "; no vendor did it")
    summary = evidence_frame(
        kind="operation", id=ops["capability"] + ":" + ops["operation"], at=iso(ops["last_internal_at"]),
        side=None, counted=False, count=0,
        title=ops["operation"] + ": " + status + " — " + ops["internal_people"].astype(str) + " internal "
        + np.where(ops["internal_people"] == 1, "person", "people") + " unassisted in the last " + str(window)
        + " weeks (at least " + ops["min_people"].astype(str) + " needed)" + vendor,
        capability=ops["capability"], operation=ops["operation"], row_type="operation", covered=ops["covered"],
        internal_people=ops["internal_people"], people=ops["people"], min_people=ops["min_people"],
        unassisted=None, last_internal=ops["last_internal"], last_internal_at=iso(ops["last_internal_at"]),
        last_vendor=ops["last_vendor"], last_vendor_at=iso(ops["last_vendor_at"]))
    people = person_rows(facts, week, capability)
    parts = [summary]
    if len(people):
        done = people["count"].astype(str) + " time(s) in " + [_weeks(a, b) for a, b in
                                                              zip(people["first_week"], people["last_week"],
                                                                  strict=True)]
        assisted = np.where(people["side"] == "internal",
                            np.where(people["unassisted"] == people["count"], ", unassisted",
                                     ", " + people["unassisted"].astype(str) + " of them unassisted"), "")
        parts.append(evidence_frame(
            kind="operation", id=people["capability"] + ":" + people["operation"] + ":" + people["who"].astype(str),
            at=iso(people["at"]), person=people["who"], side=people["side"], count=people["count"].astype("int64"),
            title=people["operation"] + ": " + done + assisted, capability=people["capability"],
            operation=people["operation"], row_type="person", unassisted=people["unassisted"].astype("int64")))
    out = pd.concat(parts, ignore_index=True)
    order = {op: i for i, op in enumerate(ops["operation"].drop_duplicates())}
    out["_op"] = out["operation"].map(order)
    out["_kind"] = (out["row_type"] == "person").astype(int)
    out = out.sort_values(["capability", "_op", "_kind", "side", "person"], na_position="first")
    return out.drop(columns=["_op", "_kind"]).reset_index(drop=True)


def reconcile(row: pd.Series, rows: pd.DataFrame) -> list[str]:
    """Coverage, value and bus factor recomputed from the evidence: per operation, the distinct internal people with
    an unassisted item among the counted rows."""
    problems = []
    ops = rows[rows["row_type"] == "operation"]
    people = rows[(rows["row_type"] == "person") & rows["counted"].astype(bool)]
    doers = people[(people["side"] == "internal") & (people["unassisted"].fillna(0).astype(int) > 0)]
    found = []
    for op in ops.itertuples():
        n = doers[(doers["capability"] == op.capability) & (doers["operation"] == op.operation)]["person"].nunique()
        found.append(n)
        if n != int(op.internal_people) or bool(op.covered) != (n >= int(op.min_people)):
            problems.append(f"{op.capability} {op.operation}: {n} internal people in the rows, the row says "
                            f"{int(op.internal_people)} ({'covered' if op.covered else 'not covered'})")
    if found:
        covered = sum(bool(c) for c in ops["covered"])
        if missing(row["value"]) or not math.isclose(float(row["value"]), covered / len(ops)):
            problems.append(f"value is {row['value']}, the rows give {covered}/{len(ops)} operations covered")
        if missing(row["n"]) or int(row["n"]) != min(found):
            problems.append(f"n (bus factor) is {row['n']}, the rows give {min(found)}")
    return problems


SPEC = KpiSpec(
    key="exit_readiness", label="Exit readiness", unit="share", direction="higher",
    definition="Share of a capability's operations (commits, PR merges, reviews, runs by kind, runbooks, drills) that "
               "at least two internal people did unassisted in the last four weeks; n is the bus factor (the fewest "
               "internal people over its operations).",
    compute=compute, evidence=evidence, default_target=1.0, spec_section="SPEC §10", chart="share",
    page="readiness", weighted=True, reconcile=reconcile)
