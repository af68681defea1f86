"""`environment_rebuild` (SPEC §11): successful / completed attempts of the `[pipeline].rebuild` workflows
(environment built from scratch) created in the week, `n` = completed, `successful`; side counts = completed
attempts by triggering side. docs/metrics.md."""

from __future__ import annotations

import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso

EXTRA = ("conclusion",)


def compute(facts: Facts) -> pd.DataFrame:
    from metrics.system import environment_rebuild

    if facts.github.runs.empty:
        return no_rows()
    out = facts.grid(environment_rebuild(facts.rebuilds), capabilities=False)
    out["successful"] = out["successful"].fillna(0).astype("int64") if "successful" in out else 0
    return out


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    """Every rebuild attempt created that week; one still running is shown, not counted."""
    if capability is not None or facts.github.runs.empty:
        return empty_evidence(*EXTRA)
    runs = facts.rebuilds[facts.rebuilds["week"] == week] if len(facts.rebuilds) else facts.rebuilds
    if runs.empty:
        return empty_evidence(*EXTRA)
    conclusion = runs["conclusion"].where(runs["done"], "still running").astype(str)
    return evidence_frame(
        kind="run", id=runs["run_id"].astype(str) + "/" + runs["run_attempt"].astype(str), url=runs["html_url"],
        at=iso(runs["created_at"]), person=runs["person"].fillna(runs["triggering_login"]), side=runs["side"],
        counted=runs["done"].to_numpy(dtype=bool),
        title=runs["name"].astype(str) + " (attempt " + runs["run_attempt"].astype(str) + "): " + conclusion,
        repo=runs["repo"], conclusion=runs["conclusion"])


SPEC = KpiSpec(
    key="environment_rebuild", label="Environment rebuild success", unit="share", direction="higher",
    definition="Successful / completed runs of the environment-rebuild workflows ([pipeline].rebuild: the "
               "environment built from scratch) in the week, by triggering side.",
    compute=compute, evidence=evidence, default_target=1.0, capabilities=False, filters=frozenset({"side"}),
    spec_section="SPEC §11",
    page="retraining")
