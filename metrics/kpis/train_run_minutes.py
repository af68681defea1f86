"""`train_run_minutes` (SPEC §11): compute spent per training run — each completed `train` attempt's duration
(`run_started_at` → `updated_at`; a first attempt without `run_started_at` from `created_at`), bucketed by the week it
started. Weekly median (`value`), `p90`, `n` = timed runs, `total_minutes`, and `cost` = total × `[cost].per_minute`
when set; side counts = timed runs by triggering side. Lower is better. docs/metrics.md."""

from __future__ import annotations

import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso

EXTRA = ("minutes", "started", "completed", "attempt", "conclusion")


def compute(facts: Facts) -> pd.DataFrame:
    from metrics.system import train_minutes

    if facts.github.runs.empty:
        return no_rows()
    out = facts.grid(train_minutes(facts.train_durations, facts.cfg.cost.per_minute), capabilities=False)
    out["total_minutes"] = out["total_minutes"].astype("float64").fillna(0.0)
    if facts.cfg.cost.per_minute is not None:
        out["cost"] = out["total_minutes"] * facts.cfg.cost.per_minute
    return out


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    """Every completed train attempt started that week with its minutes; one without a usable start (a re-run
    payload without `run_started_at`) is shown, not counted."""
    if capability is not None or facts.github.runs.empty:
        return empty_evidence(*EXTRA)
    runs = facts.train_durations[facts.train_durations["week"] == week]
    if runs.empty:
        return empty_evidence(*EXTRA)
    minutes = runs["minutes"].map(lambda m: f"{m:.1f} min").where(runs["timed"], "no known start")
    return evidence_frame(
        kind="run", id=runs["run_id"].astype(str) + "/" + runs["run_attempt"].astype(str), url=runs["html_url"],
        at=iso(runs["started"]), person=runs["person"].fillna(runs["triggering_login"]), side=runs["side"],
        counted=runs["timed"].to_numpy(dtype=bool),
        title=runs["name"].astype(str) + " (attempt " + runs["run_attempt"].astype(str) + ", " +
        runs["conclusion"].astype(str) + "): " + minutes, repo=runs["repo"],
        minutes=runs["minutes"], started=iso(runs["started"]), completed=iso(runs["completed"]),
        attempt=runs["run_attempt"], conclusion=runs["conclusion"])


SPEC = KpiSpec(
    key="train_run_minutes", label="Minutes per training run", unit="minutes", direction="lower",
    definition="Duration of each completed train run attempt (run_started_at → updated_at: a re-run counts from its "
               "own start), weekly median with p90 and the week's total minutes; [cost].per_minute turns them into "
               "money.",
    compute=compute, evidence=evidence, chart="value_p90", capabilities=False, filters=frozenset({"side"}),
    spec_section="SPEC §11",
    page="retraining")
