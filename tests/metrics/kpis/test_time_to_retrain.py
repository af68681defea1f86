"""time_to_retrain (docs/metrics.md#time_to_retrain) against a hand-computed table (world.py).

event                                                     | cycle
data-cut run 1 by Ines completes Tue Sep 8 09:00          | C1 (internal)
train run 10 by Ines, started 10:00, completes 12:00      | C1 -> 10: 3 h, internal, week 1
data-cut run 2 by Marco completes Wed Sep 9 10:00         | C2 (vendor)
train run 11 by Ines started 11:00 fails                  | closes nothing
train run 12 by Ines started 13:00, completes 20:00       | C2 -> 12: 10 h, vendor (one end vendor), week 1
tag data-v1 by Ines, Tue Sep 15 00:00                     | C3 (internal)
train run 13 by Ines started 01:00, completes 05:00       | C3 -> 13: 5 h, internal, week 2

week | cycles  | value (median) | p90                      | n | internal vendor
  1  | 3, 10   | 6.5            | 3 + 0.9 * (10 - 3) = 9.3 | 2 |    1       1
  2  | 5       | 5.0            | 5.0                      | 1 |    1       0
  3  | -       | null           | null                     | 0 |    0       0
Lower is better: week 2's -1.5 h is a good change.
"""

from metrics.kpis import REGISTRY
from metrics.kpis.base import change_is_good, format_change, format_target, format_value, target_status
from tests.metrics.kpis.world import assert_every_row_reconciles, metrics, rows_of, runs, table

KPI = "time_to_retrain"
RUNS = [
    (1, 1, "data-cut.yml", "workflow_dispatch", "iortiz", "2026-09-08 08:00", "2026-09-08 09:00", "success"),
    (10, 1, "train.yml", "workflow_dispatch", "iortiz", "2026-09-08 10:00", "2026-09-08 12:00", "success"),
    (2, 1, "data-cut.yml", "workflow_dispatch", "marco", "2026-09-09 08:00", "2026-09-09 10:00", "success"),
    (11, 1, "train.yml", "workflow_dispatch", "iortiz", "2026-09-09 11:00", "2026-09-09 12:00", "failure"),
    (12, 1, "train.yml", "workflow_dispatch", "iortiz", "2026-09-09 13:00", "2026-09-09 20:00", "success"),
    (13, 1, "train.yml", "workflow_dispatch", "iortiz", "2026-09-15 01:00", "2026-09-15 05:00", "success"),
]
TAGS = [("data-v1", "2026-09-15 00:00", "Ines")]


def test_weekly_values():
    m = metrics(**runs(RUNS, TAGS))
    assert table(m, KPI, ["week", "value", "p90", "n", "internal", "vendor", "unit"]) == [
        [1, 6.5, 9.3, 2.0, 1, 1, "hours"], [2, 5.0, 5.0, 1.0, 1, 0, "hours"], [3, None, None, 0.0, 0, 0, "hours"]]


def test_evidence_is_the_cycles_and_reconciles():
    m = metrics(**runs(RUNS, TAGS))
    assert rows_of(m, KPI, 1, columns=("kind", "id", "side", "hours")) == [
        ["cycle", "run 1 → run 10/1", "internal", 3.0], ["cycle", "run 2 → run 12/1", "vendor", 10.0]]
    assert rows_of(m, KPI, 2, columns=("id", "title")) == [["tag data-v1 → run 13/1", "5.0 h from tag data-v1"]]
    assert_every_row_reconciles(m, KPI)


def test_spec_lower_is_better_in_hours():
    spec = REGISTRY[KPI]
    assert (spec.unit, spec.direction, spec.default_target, spec.chart) == ("hours", "lower", None, "value_p90")
    assert (format_value(spec, 6.5), format_change(spec, -1.5), format_target(spec, 24)) == ("6.5 h", "-1.5 h",
                                                                                            "≤ 24.0 h")
    assert change_is_good(spec, -1.5) is True and change_is_good(spec, 2.0) is False
    assert (target_status(spec, 6.5, 24), target_status(spec, 30, 24)) == ("met", "not met")
