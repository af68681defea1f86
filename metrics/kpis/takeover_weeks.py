"""`takeover_weeks` (SPEC §11): per capability, the first week of the measured ladder stage's latest unbroken run at
stage ≥ 3 (weeks without a measured stage neither break nor start it) minus the first week with any activity;
null until the capability is taken over, and again if it falls back below 3. Engagement-wide: the slowest
capability's value once every capability with activity is taken over, else null; `taken_over` = capabilities taken
over (1/0 on a capability's row). The value stands on the ladder activity up to the week (SPEC §6: commits, PRs,
reviews, runs, tickets), so the side counts are those items, each once per capability, from the first active week
to this one — a roster edit that moves a stage restates this KPI as a roster change. Lower is better.
docs/metrics.md."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.facts import SIDE_COUNTS, Facts, no_rows
from metrics.kpis.base import ACTIVITY_COLUMNS, EVIDENCE_COLUMNS, KpiSpec, empty_evidence, evidence_frame
from metrics.ladder import STAGE_NAMES

EXTRA = ("capability", "week", "stage", "first_active", "taken_over")


def compute(facts: Facts) -> pd.DataFrame:
    cells = facts.takeover
    if cells.empty or facts.activity.empty:
        return no_rows()
    ladder = facts.ladder.sort_values(["capability", "week"])
    cumulative = ladder.groupby("capability")[list(SIDE_COUNTS)].cumsum()  # items are counted once, in one week
    caps = cells.merge(pd.concat([ladder[["capability", "week"]], cumulative], axis=1), on=["capability", "week"])
    caps["taken_over"] = caps["value"].notna().astype("int64")
    active = caps[caps["first_active"].notna()]
    g = active.groupby("week")
    overall = pd.DataFrame({"taken_over": g["taken_over"].sum(), "value": g["value"].max(),
                            "complete": g["value"].apply(lambda s: bool(s.notna().all())),
                            **{c: g[c].sum() for c in SIDE_COUNTS}}).reset_index()
    overall["value"] = overall["value"].where(overall["complete"], np.nan)
    overall["capability"] = None
    rows = pd.concat([overall.drop(columns="complete"),
                      caps[["capability", "week", "value", "taken_over", *SIDE_COUNTS]]], ignore_index=True)
    out = facts.grid(rows)
    out["taken_over"] = out["taken_over"].fillna(0).astype("int64")
    return out


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    """Counted: the ladder activity of each capability in scope up to `week` (its id prefixed with the capability:
    an item touching two capabilities stands in both). Shown, not counted: the ladder cells from each first active
    week on, the one where the takeover run starts marked."""
    cells = facts.takeover
    if cells.empty:
        return empty_evidence(*EXTRA)
    now = cells[cells["week"] == week].set_index("capability")
    if capability is not None:
        now = now.loc[[capability]] if capability in now.index else now.iloc[0:0]
    shown = cells[cells["capability"].isin(now.index) & (cells["week"] <= week) & cells["first_active"].notna()]
    if shown.empty:
        return empty_evidence(*EXTRA)
    items = facts.activity
    items = items[items["capability"].isin(now.index) & (items["week"] <= week)]
    items = items.sort_values(["capability", "week", "at", "kind", "id"], na_position="last")
    counted = items[EVIDENCE_COLUMNS + [c for c in items.columns if c not in ACTIVITY_COLUMNS]].assign(
        id=items["capability"] + ":" + items["id"].astype(str), capability=items["capability"], week=items["week"])
    taken = shown["capability"].map(now["taken_over"])
    stage = shown["stage"].map(lambda s: "no measured stage" if pd.isna(s) else
                               f"stage {int(s)} ({STAGE_NAMES[int(s)]})")
    start = (shown["week"] == taken).map({True: " — the takeover run starts here", False: ""})
    context = evidence_frame(
        kind="ladder cell", id=shown["capability"] + ":w" + shown["week"].astype(str), side=None, counted=False,
        title=shown["capability"] + " week " + shown["week"].astype(str) + ": " + stage + ", "
        + shown["items"].astype(str) + " item(s)" + start,
        capability=shown["capability"], week=shown["week"], stage=shown["stage"], first_active=shown["first_active"],
        taken_over=taken)
    return pd.concat([counted, context], ignore_index=True)


SPEC = KpiSpec(
    key="takeover_weeks", label="Weeks to takeover", unit="count", noun="weeks", direction="lower",
    definition="Per capability: the first week of its current run at ladder stage ≥ 3 (vendor shadows or better) "
               "minus its first week with any activity; null until then. Engagement-wide: the slowest capability, "
               "once every active capability is taken over.",
    compute=compute, evidence=evidence, chart="value", spec_section="SPEC §11", page="ladder")
