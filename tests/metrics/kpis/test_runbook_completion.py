"""runbook_completion (docs/metrics.md#runbook_completion) against a hand-computed table (world.py).

ticket | labels (besides `runbook`) | assignee | created | history                           | execution
OPS-1  | runbook:training, training | Ines     | Sep 8   | done by Ines Sep 9                | wk 1 internal, unprompted
OPS-2  | runbook:deploy             | Ines     | Sep 8   | Marco comments Sep 9, done Sep 10 | wk 1 internal, prompted
OPS-3  | runbook:training, training | Marco    | Sep 10  | done by Marco Sep 16              | started 1, done 2, vendor
OPS-4  | runbook:training           | Ines     | Sep 16  | in progress                       | started 2, open

week | started completed | internal vendor | unprompted_internal | value
  1  |    3       2      |    2       0    |        1            | 0.5
  2  |    1       1      |    0       1    |        0            | 0.0
Capability training (ticket label "training": OPS-1, OPS-3): week 1 started 2, completed 1, internal 1 -> 1.0;
week 2 completed 1, vendor 1 -> 0.0.
"""

from metrics.kpis import REGISTRY
from tests.metrics.kpis.world import Tickets, assert_every_row_reconciles, metrics, rows_of, table

KPI = "runbook_completion"


def book() -> Tickets:
    b = Tickets()
    b.ticket("OPS-1", "2026-09-08 09:00", ["runbook", "runbook:training", "training"], "Ines", "done")
    b.move("OPS-1", "2026-09-09 09:00", "Ines", "new", "done")
    b.ticket("OPS-2", "2026-09-08 10:00", ["runbook", "runbook:deploy"], "Ines", "done")
    b.comment("OPS-2", "2026-09-09 10:00", "Marco")
    b.move("OPS-2", "2026-09-10 10:00", "Ines", "new", "done")
    b.ticket("OPS-3", "2026-09-10 09:00", ["runbook", "runbook:training", "training"], "Marco", "done")
    b.move("OPS-3", "2026-09-16 09:00", "Marco", "new", "done")
    b.ticket("OPS-4", "2026-09-16 10:00", ["runbook", "runbook:training"], "Ines", "indeterminate")
    b.move("OPS-4", "2026-09-16 11:00", "Ines", "new", "indeterminate")
    return b


COLUMNS = ["week", "started", "completed", "internal", "vendor", "unprompted_internal", "value"]


def test_weekly_values():
    m = metrics(**book().frames())
    assert table(m, KPI, COLUMNS) == [[1, 3, 2, 2, 0, 1, 0.5], [2, 1, 1, 0, 1, 0, 0.0]]
    assert table(m, KPI, COLUMNS, "training") == [[1, 2, 1, 1, 0, 1, 1.0], [2, 0, 1, 0, 1, 0, 0.0]]
    assert table(m, KPI, COLUMNS, "data") == []


def test_evidence_counts_completions_and_shows_starts_and_reconciles():
    m = metrics(**book().frames())
    assert rows_of(m, KPI, 1, columns=("kind", "id", "side", "counted", "unprompted_internal")) == [
        ["ticket", "OPS-1", "internal", True, True], ["ticket", "OPS-2", "internal", True, False],
        ["ticket", "OPS-3", "vendor", False, False]]  # started in week 1, completed in week 2
    assert rows_of(m, KPI, 2, columns=("id", "counted")) == [["OPS-3", True], ["OPS-4", False]]
    assert_every_row_reconciles(m, KPI)


def test_spec():
    spec = REGISTRY[KPI]
    assert (spec.unit, spec.direction, spec.default_target, spec.page) == ("share", "higher", None, "runbooks")
