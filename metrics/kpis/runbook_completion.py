"""`runbook_completion` (SPEC §5): runbook executions (tickets labelled `runbook` and `runbook:<name>`); row per week
with a start or a completion; side counts = executions completed that week by executor side (assignee at
completion); value = unprompted_internal / (internal + vendor). Per capability: executions carrying its
`ticket_labels`. docs/metrics.md, metrics/runbooks.py."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso
from metrics.kpis.tickets import scoped, ticket_activity

EXTRA = ("runbook", "unprompted_internal", "vendor_interventions", "items_checked", "items_total")


def compute(facts: Facts) -> pd.DataFrame:
    from metrics.runbooks import runbook_completion

    executions = facts.runbook_executions
    if not facts.has_tickets:
        return no_rows()
    parts = []
    for capability, _labels in facts.ticket_scopes():
        rows = runbook_completion(scoped(facts, executions, capability))
        if len(rows):
            parts.append(rows.assign(capability=capability))
    return pd.concat(parts, ignore_index=True) if parts else no_rows()


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    runs = scoped(facts, facts.runbook_executions, capability)
    if runs.empty:
        return empty_evidence(*EXTRA)
    completed = (runs["completed_week"] == week).to_numpy()
    started = (runs["started_week"] == week).to_numpy()
    runs = runs[completed | started].assign(counted=completed[completed | started])
    if runs.empty:
        return empty_evidence(*EXTRA)
    runs = runs.sort_values(["counted", "completed_at", "key"], ascending=[False, True, True])
    return evidence_frame(
        kind="ticket", id=runs["key"], url=runs["url"],
        at=iso(runs["completed_at"].where(runs["counted"], runs["created_at"])),
        person=runs["executor_person"].fillna(runs["executor"]), side=runs["executor_side"],
        counted=runs["counted"].to_numpy(dtype=bool),
        title=np.where(runs["counted"], "completed: ", "started, not completed this week: ")
        + "runbook " + runs["runbook"].astype(str) + ": " + runs["title"].fillna("").astype(str),
        repo=runs["repo"], runbook=runs["runbook"], unprompted_internal=runs["unprompted_internal"],
        vendor_interventions=runs["vendor_interventions"], items_checked=runs["items_checked"],
        items_total=runs["items_total"])


SPEC = KpiSpec(
    key="runbook_completion", label="Runbook completion", unit="share", direction="higher",
    definition="Runbook executions completed in the week by an internal executor with no vendor intervention / "
               "executions completed by internal or vendor executors.",
    compute=compute, evidence=evidence, activity=ticket_activity, chart="share", page="runbooks")
