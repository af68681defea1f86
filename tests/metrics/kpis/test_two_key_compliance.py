"""two_key_compliance (docs/metrics.md#two_key_compliance) against a hand-computed table (world.py).

Tracked branches: main/master (no git source). PRs and approvals:
#  | author | base    | merged | approvers                         | compliant?
1  | Ines   | main    | wk 1   | marco, tbecker (both vendor)      | no: no internal approver other than the author
2  | Marco  | main    | wk 1   | iortiz, tbecker                   | yes: internal Ines + a second approver
3  | Marco  | main    | wk 1   | iortiz                            | no: no second approver
4  | Marco  | release | wk 1   | iortiz, tbecker                   | not counted (not into a tracked branch)
5  | Ines   | main    | wk 2   | iortiz (her own), marco           | no: the author's approval does not count

week | n | compliant | value  | internal vendor (PR authors)
  1  | 3 |     1     | 0.3333 |    1       2
  2  | 1 |     0     | 0.0    |    1       0
"""

from metrics.kpis import REGISTRY
from metrics.kpis.base import format_target
from tests.metrics.kpis.world import assert_every_row_reconciles, metrics, pull_requests, rows_of, table

KPI = "two_key_compliance"
PRS = [(1, "iortiz", "2026-09-08 10:00", "main", []), (2, "marco", "2026-09-08 11:00", "main", []),
       (3, "marco", "2026-09-08 12:00", "main", []), (4, "marco", "2026-09-08 13:00", "release", []),
       (5, "iortiz", "2026-09-15 10:00", "main", [])]
REVIEWS = [(1, 1, "marco", "APPROVED", "2026-09-08 09:00"), (2, 1, "tbecker", "APPROVED", "2026-09-08 09:10"),
           (3, 2, "iortiz", "APPROVED", "2026-09-08 10:00"), (4, 2, "tbecker", "APPROVED", "2026-09-08 10:10"),
           (5, 3, "iortiz", "APPROVED", "2026-09-08 11:00"), (6, 4, "iortiz", "APPROVED", "2026-09-08 12:00"),
           (7, 4, "tbecker", "APPROVED", "2026-09-08 12:10"), (8, 5, "iortiz", "APPROVED", "2026-09-15 09:00"),
           (9, 5, "marco", "APPROVED", "2026-09-15 09:10")]


def test_weekly_values():
    m = metrics(**pull_requests(PRS, REVIEWS))
    assert table(m, KPI, ["week", "n", "compliant", "value", "internal", "vendor"]) == [
        [1, 3.0, 1, 0.3333, 1, 2], [2, 1.0, 0, 0.0, 1, 0], [3, 0.0, None, None, 0, 0]]
    assert table(m, KPI, ["week"], "data") == []  # engagement-wide only


def test_evidence_lists_the_prs_into_the_tracked_branch_with_their_compliance():
    m = metrics(**pull_requests(PRS, REVIEWS))
    assert rows_of(m, KPI, 1, columns=("id", "side", "approvers", "internal_approver", "compliant")) == [
        ["acme/model#1", "internal", 2, False, False], ["acme/model#2", "vendor", 2, True, True],
        ["acme/model#3", "vendor", 1, True, False]]
    assert_every_row_reconciles(m, KPI)


def test_spec():
    spec = REGISTRY[KPI]
    assert (spec.unit, spec.direction, spec.default_target, spec.capabilities) == ("share", "higher", 1.0, False)
    assert format_target(spec, 1.0) == "≥ 100%"
