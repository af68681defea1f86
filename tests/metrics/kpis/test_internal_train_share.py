"""internal_train_share (docs/metrics.md#internal_train_share) against a hand-computed table (world.py).

run/attempt | workflow     | event             | triggered by       | created | counts as
1/1         | train.yml    | push              | marco              | Sep 8   | week 1 vendor
1/2         | train.yml    | push (re-run)     | iortiz             | Sep 8   | week 1 internal (each attempt counts)
2/1         | train.yml    | schedule          | iortiz             | Sep 9   | week 1 scheduled, apart from the share
3/1         | data-cut.yml | workflow_dispatch | marco              | Sep 9   | not a train run
4/1         | train.yml    | workflow_dispatch | github-actions[bot]| Sep 15  | week 2 bot
5/1         | train.yml    | workflow_dispatch | tbecker            | Sep 16  | week 2 vendor (Tom vendor until Sep 21)
6/1         | train.yml    | workflow_dispatch | tbecker            | Sep 22  | week 3 internal

week | internal vendor bots | n | scheduled | value
  1  |    1       1      0  | 2 |    1      | 0.5
  2  |    0       1      1  | 2 |    0      | 0.0
  3  |    1       0      0  | 1 |    0      | 1.0
"""

from metrics.kpis import REGISTRY
from tests.metrics.kpis.world import assert_every_row_reconciles, metrics, rows_of, runs, table

KPI = "internal_train_share"
RUNS = [
    (1, 1, "train.yml", "push", "marco", "2026-09-08 10:00", "2026-09-08 11:00", "success"),
    (1, 2, "train.yml", "push", "iortiz", "2026-09-08 12:00", "2026-09-08 13:00", "failure"),
    (2, 1, "train.yml", "schedule", "iortiz", "2026-09-09 02:00", "2026-09-09 03:00", "success"),
    (3, 1, "data-cut.yml", "workflow_dispatch", "marco", "2026-09-09 08:00", "2026-09-09 09:00", "success"),
    (4, 1, "train.yml", "workflow_dispatch", "github-actions[bot]", "2026-09-15 10:00", "2026-09-15 11:00", "success"),
    (5, 1, "train.yml", "workflow_dispatch", "tbecker", "2026-09-16 10:00", "2026-09-16 11:00", "success"),
    (6, 1, "train.yml", "workflow_dispatch", "tbecker", "2026-09-22 10:00", "2026-09-22 11:00", "success"),
]


def test_weekly_values():
    m = metrics(**runs(RUNS))
    assert table(m, KPI, ["week", "internal", "vendor", "bots", "n", "scheduled", "value"]) == [
        [1, 1, 1, 0, 2.0, 1.0, 0.5], [2, 0, 1, 1, 2.0, 0.0, 0.0], [3, 1, 0, 0, 1.0, 0.0, 1.0]]


def test_evidence_shows_the_scheduled_run_as_not_counted_and_reconciles():
    m = metrics(**runs(RUNS))
    assert rows_of(m, KPI, 1, columns=("kind", "id", "side", "counted", "event")) == [
        ["run", "1/1", "vendor", True, "push"], ["run", "1/2", "internal", True, "push"],
        ["run", "2/1", "internal", False, "schedule"]]
    assert rows_of(m, KPI, 1, columns=("url",))[0] == ["https://github.com/acme/model/actions/runs/1"]
    assert_every_row_reconciles(m, KPI)


def test_spec():
    spec = REGISTRY[KPI]
    assert (spec.unit, spec.direction, spec.default_target, spec.page) == ("share", "higher", 0.7, "retraining")
