"""internal_review_share (docs/metrics.md#internal_review_share) against a hand-computed table (world.py).

PRs: #1 by Ines (train/a.py) and #2 by Marco (data/x.py) merged in week 1; #3 by Marco never merged.
review | PR | reviewer        | state             | submitted | counts as
10     | 1  | marco           | APPROVED          | Sep 8     | week 1 vendor (training)
11     | 2  | iortiz          | APPROVED          | Sep 9     | week 1 internal (data)
12     | 2  | renovate[bot]   | APPROVED          | Sep 9     | week 1 bot (data)
13     | 1  | tbecker (Tom)   | APPROVED          | Sep 16    | week 2 vendor (training; Tom vendor until Sep 21)
14     | 3  | iortiz          | APPROVED          | Sep 10    | not counted (PR never merged)
15     | 2  | iortiz          | CHANGES_REQUESTED | Sep 10    | not counted (not an approval)

week | internal vendor bots | value  || training: internal vendor value || data: internal bots value
  1  |    1       1     1   |  0.5   ||             0       1     0.0    ||          1      1    1.0
  2  |    0       1     0   |  0.0   ||             0       1     0.0    ||          0      0    null
"""

from metrics.kpis import REGISTRY
from tests.metrics.kpis.world import assert_every_row_reconciles, metrics, pull_requests, rows_of, table

KPI = "internal_review_share"
PRS = [(1, "iortiz", "2026-09-08 10:00", "main", ["train/a.py"]), (2, "marco", "2026-09-09 10:00", "main",
                                                                    ["data/x.py"]),
       (3, "marco", None, "main", ["data/y.py"])]
REVIEWS = [(10, 1, "marco", "APPROVED", "2026-09-08 09:00"), (11, 2, "iortiz", "APPROVED", "2026-09-09 09:00"),
           (12, 2, "renovate[bot]", "APPROVED", "2026-09-09 09:05"), (13, 1, "tbecker", "APPROVED", "2026-09-16 09:00"),
           (14, 3, "iortiz", "APPROVED", "2026-09-10 09:00"),
           (15, 2, "iortiz", "CHANGES_REQUESTED", "2026-09-10 09:00")]


def test_weekly_values():
    m = metrics(**pull_requests(PRS, REVIEWS))
    assert table(m, KPI, ["week", "internal", "vendor", "bots", "value"]) == [
        [1, 1, 1, 1, 0.5], [2, 0, 1, 0, 0.0], [3, 0, 0, 0, None]]
    assert table(m, KPI, ["week", "internal", "vendor", "value"], "training")[:2] == [[1, 0, 1, 0.0], [2, 0, 1, 0.0]]
    assert table(m, KPI, ["week", "internal", "bots", "value"], "data")[:2] == [[1, 1, 1, 1.0], [2, 0, 0, None]]


def test_evidence_is_the_approvals_and_reconciles():
    m = metrics(**pull_requests(PRS, REVIEWS))
    assert rows_of(m, KPI, 1) == [["review", "10", "vendor", True], ["review", "11", "internal", True],
                                  ["review", "12", "bot", True]]
    assert rows_of(m, KPI, 2, "training", ("id", "person", "title")) == [["13", "Tom", "approves #1"]]
    assert_every_row_reconciles(m, KPI)


def test_needs_a_pr_source():
    assert table(metrics(), KPI, ["week"]) == []  # git alone: no reviews, no rows


def test_spec():
    spec = REGISTRY[KPI]
    assert (spec.unit, spec.direction, spec.default_target) == ("share", "higher", 0.5)
