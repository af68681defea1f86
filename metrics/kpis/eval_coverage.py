"""`eval_coverage` (SPEC §5): the number of automated evaluation tests: the testcases of the week's latest JUnit
run of the configured workflows, else the test functions under the evaluation paths in git at the week's end.
`value` = `n` = that number; no side counts (a count, not a share). docs/metrics.md."""

from __future__ import annotations

import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso


def compute(facts: Facts) -> pd.DataFrame:
    rows = facts.github.eval_coverage
    return no_rows() if rows.empty else facts.grid(rows, capabilities=False)


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    gh = facts.github
    if capability is not None:
        return empty_evidence()
    junit = gh.junit_weeks
    if len(junit) and (junit["week"] == week).any():
        runs = junit[junit["week"] == week].sort_values(["completed_at", "run_id"])
        return evidence_frame(
            kind="run", id=runs["run_id"].astype(str) + "/" + runs["run_attempt"].astype(str), url=runs["link"],
            at=iso(runs["completed_at"]), count=runs["tests"].astype("int64"),
            title="JUnit: " + runs["tests"].astype(str) + " testcases in " + runs["reports"].astype(str) +
            " report(s) of " + runs["workflow_path"].astype(str), repo=runs["repo"],
            failures=runs["failures"], skipped=runs["skipped"])
    tests = gh.eval_tests
    if tests is None or tests.empty:
        return empty_evidence()
    tests = tests[tests["week"] == week].sort_values(["source_id", "path"])
    if tests.empty:
        return empty_evidence()
    repos = facts.commits.drop_duplicates("source_id").set_index("source_id")["repo"]
    repo = tests["source_id"].map(repos)
    return evidence_frame(kind="test", id=tests["path"].astype(str),
                          url=facts.commit_links(repo, tests["sha"].astype(str)), count=tests["tests"].astype("int64"),
                          title=tests["tests"].astype(str) + " test function(s) in " + tests["path"].astype(str),
                          repo=repo, sha=tests["sha"])


SPEC = KpiSpec(
    key="eval_coverage", label="Evaluation coverage", unit="count", noun="tests", direction="higher",
    definition="Automated evaluation tests: the testcases in the JUnit reports of the week's latest run of the "
               "configured JUnit workflows when there is one, else the test functions under the evaluation paths "
               "as the branch stood at the end of the week.",
    compute=compute, evidence=evidence, chart="value", capabilities=False, page="quality")
