"""drill_outcome (docs/metrics.md#drill_outcome) against a hand-computed table (world.py).

drill | labels      | responder | created      | restored     | min / SLA | postmortem            | outcome
INC-1 | drill, sev1 | Ines      | Sep 8 10:00  | Sep 8 10:50  | 50 / 60   | INC-2 (linked, Sep 9)  | internal pass, wk 1
INC-3 | drill, sev2 | Marco     | Sep 9 10:00  | Sep 9 13:00  | 180 / 240 | URL in the description | pass (vendor), wk 1
INC-4 | drill, sev1 | Ines      | Sep 16 10:00 | Sep 16 12:00 | 120 / 60  | none                   | fail, wk 2
INC-5 | drill, sev3 | Ines      | Sep 22 10:00 | never        | -         | -                      | open: no row

week | internal vendor | drills passes internal_passes | value
  1  |    1       1    |   2      2          1         | 0.5
  2  |    1       0    |   1      0          0         | 0.0
"""

from metrics.kpis import REGISTRY
from tests.metrics.kpis.world import Tickets, assert_every_row_reconciles, metrics, rows_of, table

KPI = "drill_outcome"


def book() -> Tickets:
    b = Tickets()
    b.ticket("INC-1", "2026-09-08 10:00", ["drill", "sev1"], "Ines", "done", links=["INC-2"])
    b.move("INC-1", "2026-09-08 10:05", "Ines", "new", "indeterminate")
    b.move("INC-1", "2026-09-08 10:50", "Ines", "indeterminate", "done")
    b.ticket("INC-2", "2026-09-09 09:00", ["postmortem"], "Ines")
    b.ticket("INC-3", "2026-09-09 10:00", ["drill", "sev2"], "Marco", "done",
             description="Write-up: https://wiki.example/postmortem/inc-3")
    b.move("INC-3", "2026-09-09 10:10", "Marco", "new", "indeterminate")
    b.move("INC-3", "2026-09-09 13:00", "Marco", "indeterminate", "done")
    b.ticket("INC-4", "2026-09-16 10:00", ["drill", "sev1"], "Ines", "done")
    b.move("INC-4", "2026-09-16 12:00", "Ines", "new", "done")
    b.ticket("INC-5", "2026-09-22 10:00", ["drill", "sev3"], "Ines")
    return b


def test_weekly_values():
    m = metrics(**book().frames())
    assert table(m, KPI, ["week", "internal", "vendor", "drills", "passes", "internal_passes", "value"]) == [
        [1, 1, 1, 2, 2, 1, 0.5], [2, 1, 0, 1, 0, 0, 0.0]]


def test_evidence_is_the_restored_drills_and_reconciles():
    m = metrics(**book().frames())
    assert rows_of(m, KPI, 1, columns=("id", "side", "severity", "minutes_to_restore", "within_sla", "postmortem",
                                       "passed")) == [
        ["INC-1", "internal", "sev1", 50.0, True, "INC-2", True],
        ["INC-3", "vendor", "sev2", 180.0, True, "https://wiki.example/postmortem/inc-3", True]]
    assert rows_of(m, KPI, 2, columns=("id", "within_sla", "passed")) == [["INC-4", False, False]]
    assert rows_of(m, KPI, 3) == []  # INC-5 is open: no row
    assert_every_row_reconciles(m, KPI)


def test_spec():
    spec = REGISTRY[KPI]
    assert (spec.unit, spec.direction, spec.page) == ("share", "higher", "drills")
