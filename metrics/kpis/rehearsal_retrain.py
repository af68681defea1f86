"""`rehearsal_retrain` (SPEC §11): the acceptance rehearsal — a data cut, a successful train run, a passing evaluation
(JUnit or `eval` run) and a successful staging deploy, each triggered by an internal person, in that order, with no
vendor-triggered run of those kinds between the cut and the deploy. Value per week: hours from the cut to the
staging deploy's completion of the fastest complete cycle ending that week ("time to reproduce"); `n` = cycles,
all internal. Lower is better. metrics/system.py `rehearsal_cycles` has the rules; docs/metrics.md the example."""

from __future__ import annotations

import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso

EXTRA = ("hours", "cut", "cut_at", "train_run", "eval_run", "eval_source", "reason")


def compute(facts: Facts) -> pd.DataFrame:
    from metrics.system import rehearsal_retrain

    if facts.github.runs.empty:
        return no_rows()
    return facts.grid(rehearsal_retrain(facts.rehearsals.cycles), capabilities=False)


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    """Each complete cycle ending that week (counted, internal), then every other successful staging deploy of
    the week with why it closes no cycle (not counted)."""
    if capability is not None or facts.github.runs.empty:
        return empty_evidence(*EXTRA)
    reh = facts.rehearsals
    cycles = reh.cycles[reh.cycles["week"] == week].sort_values("deploy_completed")
    tried = reh.attempts[(reh.attempts["week"] == week) & ~reh.attempts["cycle"].astype(bool)]
    parts = []
    if len(cycles):
        parts.append(evidence_frame(
            kind="cycle", id=cycles["cut_ref"].astype(str) + " → deploy " + cycles["deploy_run"].astype(str),
            url=cycles["deploy_url"], at=iso(cycles["deploy_completed"]), person=cycles["deploy_person"],
            side="internal", title=cycles["hours"].map(lambda h: f"{h:.1f} h") + ": " + cycles["cut_ref"].astype(str)
            + " → train " + cycles["train_run"] + " → evaluation " + cycles["eval_run"] + " → staging deploy "
            + cycles["deploy_run"], hours=cycles["hours"], cut=cycles["cut_ref"], cut_at=iso(cycles["cut_at"]),
            train_run=cycles["train_run"], eval_run=cycles["eval_run"], eval_source=cycles["eval_source"],
            reason=None))
    if len(tried):
        parts.append(evidence_frame(
            kind="run", id=tried["run_id"].astype(str) + "/" + tried["run_attempt"].astype(str), url=tried["html_url"],
            at=iso(tried["completed"]), person=tried["person"].fillna(tried["login"]), side=tried["side"],
            counted=False, title="staging deploy: " + tried["reason"].astype(str), repo=tried["repo"], hours=None,
            cut=None, cut_at=None, train_run=None, eval_run=None, eval_source=None, reason=tried["reason"]))
    return pd.concat(parts, ignore_index=True) if parts else empty_evidence(*EXTRA)


SPEC = KpiSpec(
    key="rehearsal_retrain", label="Rehearsal retrain (time to reproduce)", unit="hours", direction="lower",
    definition="A full cycle by the internal team with no vendor-triggered run in between: data cut → successful "
               "train → passing evaluation → successful staging deploy. Hours from the cut to the staging deploy of "
               "the week's fastest complete cycle; n = complete cycles.",
    compute=compute, evidence=evidence, default_target=48.0, chart="value", capabilities=False,
    filters=frozenset({"side"}), spec_section="SPEC §11", page="retraining")
