"""The KPI registry: the one list of KPIs (issue 10; SPEC §5–§6). Order = the order of cards, scorecard and CSVs.

Everything that shows, exports, validates or freezes a KPI iterates `REGISTRY` and reads the `KpiSpec`
(metrics/kpis/base.py): the weekly row contract and its `unit` column, `python -m metrics kpis` and
`evidence`, review cards and the Overview scorecard, the steering pack, snapshots, milestone criteria,
`[targets]` validation of the engagement file, and the pages. Nothing branches on a KPI's key.

Adding a KPI (e.g. `handover_readiness`) is four steps, nothing else changes:

1. **One module** `metrics/kpis/<key>.py` defining `SPEC = KpiSpec(key=..., label=..., unit=..., direction=...,
   definition=..., compute=..., evidence=..., default_target=..., noun=..., activity=..., chart=..., page=...)`:
   - `compute(facts) -> DataFrame` of weekly rows (week, capability, internal, vendor, unattributed, bots,
     value, optional n / p90 / extra counts); `facts.grid(rows)` fills every reported week with zero counts;
     return `metrics.facts.no_rows()` when its source is not collected. Read inputs from `metrics.facts.Facts`
     (add a cached property there for a new source's attributed frame).
   - `evidence(facts, week, capability) -> DataFrame` built with `base.evidence_frame(kind=..., id=..., url=...,
     at=..., person=..., side=..., counted=..., count=...)`: the counted rows by side must equal the row's
     side counts, and the sum of `count` its `n` (tests/metrics/test_reconciliation.py checks it on the demo).
   - `activity(facts)` only if its items are ladder activity (SPEC §6).
2. **One registry line** below (`<key>.SPEC,`).
3. **One test file** `tests/metrics/kpis/test_<key>.py`: its weekly values and evidence from a hand-computed table.
4. **One docs section** `## <key>` in docs/metrics.md: rule and worked example (the test's table).

tests/metrics/kpis/test_registry.py fails when a registered KPI lacks its docs section or test file, and the
README KPI list is checked against the registry.
"""

from __future__ import annotations

from metrics.kpis import (
    artifact_completeness,
    drill_outcome,
    environment_rebuild,
    eval_coverage,
    eval_pass_rate,
    exit_readiness,
    internal_commit_share,
    internal_line_share,
    internal_pr_share,
    internal_review_share,
    internal_train_share,
    ladder_stage,
    raci_drift,
    rehearsal_retrain,
    rollback_time,
    runbook_completion,
    takeover_weeks,
    time_to_retrain,
    train_run_minutes,
    two_key_compliance,
)
from metrics.kpis.base import KpiSpec

REGISTRY: dict[str, KpiSpec] = {spec.key: spec for spec in (
    internal_commit_share.SPEC,
    internal_pr_share.SPEC,
    internal_review_share.SPEC,
    two_key_compliance.SPEC,
    internal_train_share.SPEC,
    time_to_retrain.SPEC,
    eval_coverage.SPEC,
    runbook_completion.SPEC,
    drill_outcome.SPEC,
    ladder_stage.SPEC,
    # SPEC §11: the binder and the system KPIs
    artifact_completeness.SPEC,
    rehearsal_retrain.SPEC,
    rollback_time.SPEC,
    train_run_minutes.SPEC,
    eval_pass_rate.SPEC,
    environment_rebuild.SPEC,
    takeover_weeks.SPEC,
    internal_line_share.SPEC,
    exit_readiness.SPEC,
    raci_drift.SPEC,
)}


def kpi(key: str) -> KpiSpec:
    """The spec of a registered KPI; KeyError naming the known keys otherwise."""
    try:
        return REGISTRY[key]
    except KeyError:
        raise KeyError(f"unknown KPI {key!r} (known: {', '.join(REGISTRY)})") from None


def kpi_keys() -> frozenset[str]:
    return frozenset(REGISTRY)


def default_targets() -> dict[str, float]:
    return {k: s.default_target for k, s in REGISTRY.items() if s.default_target is not None}


def target(cfg, key: str) -> float | None:
    """The KPI's target for this engagement: `[targets]` in the engagement file, else the spec's default."""
    return cfg.targets.get(key, REGISTRY[key].default_target if key in REGISTRY else None)
