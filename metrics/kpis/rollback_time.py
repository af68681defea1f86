"""`rollback_time` (SPEC §11): per rollback run, minutes from its creation (its first attempt's `created_at`) to the
completion of its first successful attempt; weekly median of the cycles opened that week (`value`), `n` = cycles
(open ones included), `open` = cycles that never succeeded; side counts = cycles by the triggering actor of the
successful attempt (else the latest). Lower is better. docs/metrics.md."""

from __future__ import annotations

import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso

EXTRA = ("minutes", "attempts", "open", "closed_at")


def compute(facts: Facts) -> pd.DataFrame:
    from metrics.system import rollback_time

    if facts.github.runs.empty:
        return no_rows()
    out = facts.grid(rollback_time(facts.rollbacks), capabilities=False)
    out["open"] = out["open"].fillna(0).astype("int64") if "open" in out else 0
    return out


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    """Every rollback cycle opened that week, counted on its side; an open one says so."""
    if capability is not None or facts.github.runs.empty:
        return empty_evidence(*EXTRA)
    cycles = facts.rollbacks[facts.rollbacks["week"] == week]
    if cycles.empty:
        return empty_evidence(*EXTRA)
    state = cycles["minutes"].map(lambda m: f"{m:.0f} min").where(~cycles["open"], "open (never succeeded)")
    return evidence_frame(
        kind="rollback", id=cycles["run_id"].astype(str), url=cycles["html_url"], at=iso(cycles["opened_at"]),
        person=cycles["person"].fillna(cycles["login"]), side=cycles["side"].fillna("unattributed"),
        title=cycles["name"].astype(str) + ": " + state + ", " + cycles["attempts"].astype(str) + " attempt(s)",
        repo=cycles["repo"], minutes=cycles["minutes"], attempts=cycles["attempts"], open=cycles["open"],
        closed_at=iso(cycles["closed_at"]))


SPEC = KpiSpec(
    key="rollback_time", label="Rollback time", unit="minutes", direction="lower",
    definition="From a rollback run's creation to the completion of its first successful attempt (re-runs "
               "included); weekly median. Rollbacks that never succeed are counted in n and shown open.",
    compute=compute, evidence=evidence, chart="value", capabilities=False, filters=frozenset({"side"}),
    spec_section="SPEC §11",
    page="retraining")
