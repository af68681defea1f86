"""`time_to_retrain` (SPEC §5): per retrain cycle, from a data cut to the completion of the first successful train
run started after it (a newer cut before it replaces the older one). Weekly median (`value`, hours), `p90`,
`n` = cycles completed that week; side counts = cycles by owner (internal when both ends were internal).
Lower is better. docs/metrics.md."""

from __future__ import annotations

import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso

EXTRA = ("hours", "cut_ref", "cut_at", "cut_side", "train_side")


def compute(facts: Facts) -> pd.DataFrame:
    gh = facts.github
    return no_rows() if gh.runs.empty else facts.grid(gh.retrain, capabilities=False)


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    cycles = facts.github.cycles
    if capability is not None or cycles.empty:
        return empty_evidence(*EXTRA)
    cycles = cycles[cycles["week"] == week].sort_values("train_completed_at")
    if cycles.empty:
        return empty_evidence(*EXTRA)
    return evidence_frame(
        kind="cycle", id=cycles["cut_ref"].astype(str) + " → run " + cycles["train_run_id"].astype(str) + "/" +
        cycles["train_attempt"].astype(str), url=cycles["train_url"], at=iso(cycles["train_completed_at"]),
        person=None, side=cycles["owner"],
        title=cycles["hours"].map(lambda h: f"{h:.1f} h") + " from " + cycles["cut_ref"].astype(str),
        hours=cycles["hours"], cut_ref=cycles["cut_ref"], cut_at=iso(cycles["cut_at"]), cut_side=cycles["cut_side"],
        train_side=cycles["train_side"])


SPEC = KpiSpec(
    key="time_to_retrain", label="Time to retrain", unit="hours", direction="lower",
    definition="From a data cut to the completion of the first successful train run started after it; a newer cut "
               "before that train replaces the older one. Weekly median of the cycles completed; p90 beside it.",
    compute=compute, evidence=evidence, chart="value_p90", capabilities=False, page="retraining")
