"""`ladder_stage` (SPEC §6): the measured ownership stage 0–4 of each capability and week from the internal share
of its activity — the items every registered KPI's `activity` contributes (commits, merged PRs, approving
reviews, CI runs of its `ci_workflows`, completed tickets with its `ticket_labels`), each once per capability.
`planned` = the `[plan]` stage. Per capability only. docs/metrics.md."""

from __future__ import annotations

import pandas as pd

from metrics.facts import Facts
from metrics.kpis.base import ACTIVITY_COLUMNS, EVIDENCE_COLUMNS, KpiSpec, empty_evidence


def compute(facts: Facts) -> pd.DataFrame:
    steps = facts.ladder
    return steps.rename(columns={"stage": "value"})[["week", "capability", "internal", "vendor", "unattributed",
                                                     "bots", "value", "planned"]]


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    items = facts.activity
    if capability is None or items.empty:
        return empty_evidence()
    rows = items[(items["capability"] == capability) & (items["week"] == week)]
    cols = EVIDENCE_COLUMNS + [c for c in rows.columns if c not in ACTIVITY_COLUMNS]
    return rows.sort_values(["at", "kind", "id"], na_position="last")[cols].reset_index(drop=True)


SPEC = KpiSpec(
    key="ladder_stage", label="Ladder stage", unit="stage", direction="higher", spec_section="SPEC §6",
    definition="Measured ownership stage 0–4 of a capability in the week, from the internal share of its activity "
               "(commits, merged PRs, approving reviews, CI runs, completed tickets).",
    compute=compute, evidence=evidence, chart="ladder", filters=frozenset({"capability"}),
    required=frozenset({"capability"}), page="ladder")
