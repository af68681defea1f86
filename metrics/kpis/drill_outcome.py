"""`drill_outcome` (SPEC §5): incident drills (tickets labelled `drill`), row per week of restore; side counts =
drills restored that week by primary responder side; value = internal passes / (internal + vendor), a pass
being restored within the severity's SLA with a postmortem. docs/metrics.md, metrics/drills.py."""

from __future__ import annotations

import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso
from metrics.kpis.tickets import scoped, ticket_activity

EXTRA = ("severity", "sla_minutes", "minutes_to_restore", "within_sla", "postmortem", "passed", "internal_pass")


def compute(facts: Facts) -> pd.DataFrame:
    from metrics.drills import drill_outcome

    if not facts.has_tickets:
        return no_rows()
    parts = []
    for capability, _labels in facts.ticket_scopes():
        rows = drill_outcome(scoped(facts, facts.drills, capability))
        if len(rows):
            parts.append(rows.assign(capability=capability))
    return pd.concat(parts, ignore_index=True) if parts else no_rows()


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    drills = scoped(facts, facts.drills, capability)
    if drills.empty:
        return empty_evidence(*EXTRA)
    drills = drills[drills["restored_week"] == week].sort_values(["restored_at", "key"])
    if drills.empty:
        return empty_evidence(*EXTRA)
    return evidence_frame(
        kind="ticket", id=drills["key"], url=drills["url"], at=iso(drills["restored_at"]),
        person=drills["responder_person"].fillna(drills["responder"]), side=drills["responder_side"],
        title=drills["title"], repo=drills["repo"], severity=drills["severity"], sla_minutes=drills["sla_minutes"],
        minutes_to_restore=drills["minutes_to_restore"], within_sla=drills["within_sla"],
        postmortem=drills["postmortem"], passed=drills["passed"], internal_pass=drills["internal_pass"])


SPEC = KpiSpec(
    key="drill_outcome", label="Drill outcome", unit="share", direction="higher",
    definition="Drills restored in the week that passed (within the severity's SLA, postmortem present) with an "
               "internal primary responder / drills restored with an internal or vendor responder.",
    compute=compute, evidence=evidence, activity=ticket_activity, chart="share", page="drills")
