"""eval_coverage (docs/metrics.md#eval_coverage) against a hand-computed table (world.py).

week | git test functions at the week's end          | JUnit runs completed in the week        | value = n
  1  | eval/test_a.py 2, eval/test_b.py 1             | -                                       | 3 (git)
  2  | eval/test_a.py 3, eval/test_b.py 1             | -                                       | 4 (git)
  3  | (as week 2)                                    | run 300 Tue 10 testcases, run 301 Wed 12 | 12 (the latest run)
Rows cover the 3 planned weeks. A count, not a share: no side counts; each evidence row stands for its tests
(`count`), which add up to `n`.
"""

import pandas as pd

from metrics.kpis import REGISTRY
from metrics.kpis.base import format_change, format_value
from tests.metrics.kpis.world import assert_every_row_reconciles, at, metrics, rows_of, table

KPI = "eval_coverage"
# As collected (collectors/git/eval_tests.py): per first-parent commit that changed an evaluation file, the
# file's count after it. s1 (week 1) adds test_a with 2 and test_b with 1; s2 (week 2) brings test_a to 3.
EVAL_TESTS = pd.DataFrame({"source_id": 1, "seq": [1, 1, 2], "sha": ["s1", "s1", "s2"],
                           "path": ["eval/test_a.py", "eval/test_b.py", "eval/test_a.py"], "tests": [2, 1, 3],
                           "committed_at": [at("2026-09-08 10:00"), at("2026-09-08 10:00"), at("2026-09-15 10:00")]})
JUNIT = pd.DataFrame({"source_id": 1, "repo": "acme/model", "run_id": [300, 301], "run_attempt": 1,
                      "workflow_path": ".github/workflows/eval.yml",
                      "completed_at": [at("2026-09-22 10:00"), at("2026-09-23 10:00")], "artifacts": 1, "reports": 1,
                      "tests": [10, 12], "failures": [0, 1], "skipped": 0, "problems": "",
                      "html_url": ["https://github.com/acme/model/actions/runs/300",
                                   "https://github.com/acme/model/actions/runs/301"]})


def test_weekly_values():
    m = metrics(eval_tests=EVAL_TESTS, junit_runs=JUNIT)
    assert table(m, KPI, ["week", "value", "n", "internal", "vendor", "unit"]) == [
        [1, 3.0, 3.0, 0, 0, "count"], [2, 4.0, 4.0, 0, 0, "count"], [3, 12.0, 12.0, 0, 0, "count"]]


def test_evidence_rows_stand_for_their_tests_and_reconcile():
    m = metrics(eval_tests=EVAL_TESTS, junit_runs=JUNIT)
    assert rows_of(m, KPI, 1, columns=("kind", "id", "count", "side")) == [
        ["test", "eval/test_a.py", 2, None], ["test", "eval/test_b.py", 1, None]]
    assert rows_of(m, KPI, 3, columns=("kind", "id", "count", "url")) == [
        ["run", "301/1", 12, "https://github.com/acme/model/actions/runs/301"]]
    assert_every_row_reconciles(m, KPI)


def test_a_count_is_never_a_percentage():
    spec = REGISTRY[KPI]
    assert (spec.unit, spec.noun, spec.direction, spec.default_target) == ("count", "tests", "higher", None)
    assert (format_value(spec, 23), format_value(spec, 1100), format_change(spec, 3)) == ("23 tests", "1,100 tests",
                                                                                         "+3 tests")
