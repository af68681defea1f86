"""`takeover_weeks` (SPEC §11): per capability, the first week of the measured ladder stage's latest unbroken run at
stage ≥ 3 (weeks without a measured stage neither break nor start it) minus the first week with any activity;
null until the capability is taken over, and again if it falls back below 3. Engagement-wide: the slowest
capability's value once every capability with activity is taken over, else null; `n` = capabilities taken over.
No side counts. Lower is better. docs/metrics.md."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import STAGE_NAMES, KpiSpec, empty_evidence, evidence_frame

EXTRA = ("capability", "week", "stage", "first_active", "taken_over")


def compute(facts: Facts) -> pd.DataFrame:
    cells = facts.takeover
    if cells.empty or facts.activity.empty:
        return no_rows()
    caps = cells.assign(n=cells["value"].notna().astype("float64"))[["capability", "week", "value", "n"]]
    active = cells[cells["first_active"].notna()]
    g = active.groupby("week")
    overall = pd.DataFrame({"n": g["value"].count().astype("float64"), "value": g["value"].max(),
                            "complete": g["value"].apply(lambda s: bool(s.notna().all()))}).reset_index()
    overall["value"] = overall["value"].where(overall["complete"], np.nan)
    overall["capability"] = None
    rows = pd.concat([overall.drop(columns="complete"), caps], ignore_index=True)
    for col in ("internal", "vendor", "unattributed", "bots"):
        rows[col] = 0
    return facts.grid(rows)


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    """The ladder cells from each capability's first active week to `week`; the cell where its takeover run starts
    is counted (one per capability taken over)."""
    cells = facts.takeover
    if cells.empty:
        return empty_evidence(*EXTRA)
    now = cells[cells["week"] == week].set_index("capability")
    if capability is not None:
        now = now.loc[[capability]] if capability in now.index else now.iloc[0:0]
    shown = cells[cells["capability"].isin(now.index) & (cells["week"] <= week)]
    shown = shown[shown["first_active"].notna()]
    if shown.empty:
        return empty_evidence(*EXTRA)
    taken = shown["capability"].map(now["taken_over"])
    stage = shown["stage"].map(lambda s: "no activity" if pd.isna(s) else f"stage {int(s)} ({STAGE_NAMES[int(s)]})")
    return evidence_frame(
        kind="ladder cell", id=shown["capability"] + ":w" + shown["week"].astype(str), side=None,
        counted=(shown["week"] == taken).to_numpy(dtype=bool),
        title=shown["capability"] + " week " + shown["week"].astype(str) + ": " + stage + ", "
        + shown["items"].astype(str) + " item(s)",
        capability=shown["capability"], week=shown["week"], stage=shown["stage"], first_active=shown["first_active"],
        taken_over=taken)


SPEC = KpiSpec(
    key="takeover_weeks", label="Weeks to takeover", unit="count", noun="weeks", direction="lower",
    definition="Per capability: the first week of its current run at ladder stage ≥ 3 (vendor shadows or better) "
               "minus its first week with any activity; null until then. Engagement-wide: the slowest capability, "
               "once every active capability is taken over.",
    compute=compute, evidence=evidence, chart="value", spec_section="SPEC §11", page="ladder")
