"""`eval_pass_rate` (SPEC §11): share of evaluation testcases passed (neither failed nor skipped) in the week's
latest JUnit run on the tracked branch (summed over repositories), `n` = testcases, with `passed`, `failed`,
`skipped`; `silent_releases` = successful non-staging deploy runs of the week whose commit had no passing
evaluation (JUnit or `eval` run) completed before the deploy started. No side counts (a rate of tests).
docs/metrics.md."""

from __future__ import annotations

import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso

EXTRA = ("tests", "failed", "skipped", "head_sha", "silent")


def compute(facts: Facts) -> pd.DataFrame:
    from metrics.system import eval_pass_rate

    if facts.github.runs.empty:
        return no_rows()
    out = facts.grid(eval_pass_rate(facts.eval_junit, facts.releases), capabilities=False)
    out["silent_releases"] = out["silent_releases"].fillna(0).astype("int64")
    return out


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    """The JUnit run(s) counted (count = testcases, no side), then the week's releases: silent ones and gated ones
    with the evaluation that gated them (not counted: they are the `silent_releases` column)."""
    if capability is not None or facts.github.runs.empty:
        return empty_evidence(*EXTRA)
    parts = []
    junit = facts.eval_junit[facts.eval_junit["week"] == week]
    if len(junit):
        parts.append(evidence_frame(
            kind="run", id=junit["run_id"].astype(str) + "/" + junit["run_attempt"].astype(str), url=junit["html_url"],
            at=iso(junit["completed"]), person=junit["person"].fillna(junit["login"]), side=None,
            count=junit["tests"].astype("int64"),
            title="JUnit on " + junit["head_branch"].astype(str) + ": " + junit["passed"].astype("int64").astype(str)
            + " of " + junit["tests"].astype("int64").astype(str) + " testcases passed", repo=junit["repo"],
            tests=junit["tests"], failed=junit["failures"], skipped=junit["skipped"], head_sha=junit["head_sha"],
            silent=None))
    rel = facts.releases[facts.releases["week"] == week]
    if len(rel):
        gate = ("evaluation run " + rel["evaluation"].astype("Int64").astype(str)).where(~rel["silent"], "")
        parts.append(evidence_frame(
            kind="release", id=rel["run_id"].astype(str) + "/" + rel["run_attempt"].astype(str), url=rel["html_url"],
            at=iso(rel["completed"]), person=rel["person"].fillna(rel["login"]), side=rel["side"], counted=False,
            title=rel["name"].astype(str) + ": " + rel["silent"].map({True: "silent release (no passing evaluation "
                                                                           "of its commit before it)",
                                                                     False: "gated by "}) + gate,
            repo=rel["repo"], tests=None, failed=None, skipped=None, head_sha=rel["head_sha"], silent=rel["silent"]))
    return pd.concat(parts, ignore_index=True) if parts else empty_evidence(*EXTRA)


SPEC = KpiSpec(
    key="eval_pass_rate", label="Evaluation pass rate", unit="share", direction="higher",
    definition="Share of evaluation testcases passed in the week's latest JUnit run on the tracked branch; beside "
               "it, silent releases: successful deploys whose commit had no passing evaluation before them.",
    compute=compute, evidence=evidence, default_target=0.95, capabilities=False, filters=frozenset({"side"}),
    spec_section="SPEC §11",
    page="quality")
