"""ladder_stage (SPEC §6, docs/metrics.md#ladder_stage) against a hand-computed table (world.py): a capability's
activity is every item touching it — commits, merged PRs, approving reviews, CI runs of its `ci_workflows` and
completed tickets with its `ticket_labels` — and every item is in the cell's evidence.

training, week 1                                   | side
  commit t1 (Ines, train/a.py)                     | internal
  commit t2 (Marco, train/b.py)                    | vendor
  PR #1 by Ines (train/c.py), merged Sep 9         | internal
  approval 10 of PR #1 by Marco                    | vendor
  run 1 (train.yml, push by Ines)                  | internal
  run 2 (train.yml, schedule "by" Marco)           | left out (a schedule's actor edited the cron)
  ticket OPS-1 (label training), done by Ines      | internal
  -> internal 4, vendor 2: share 0.67 -> stage 2 Internal leads, vendor reviews (plan 1)
training, week 2: commit t3 (Ines), run 3 (Ines) -> internal 2, vendor 0 -> stage 3 while milestone T (tied to
  training) is not accepted; 4 Independent once it is (plan 3)
data, week 1: commit d1 (Marco), run 4 (data-cut.yml by Marco) -> vendor 2 -> stage 0 (plan 0)
data, week 2: nothing -> no stage (not 0); plan 1, not "behind"
"""

from metrics.engagement import SourceData, compute
from metrics.kpis import REGISTRY
from tests.metrics.kpis.world import (
    TODAY,
    Tickets,
    assert_every_row_reconciles,
    commits,
    config,
    metrics,
    pull_requests,
    rows_of,
    runs,
    table,
)

KPI = "ladder_stage"
CFG = config(plan={"training": {1: 1, 2: 3}, "data": {1: 0, 2: 1}},
             milestones=[{"id": "T", "due_week": 3, "title": "training", "capability": "training"}])


def frames() -> dict:
    tickets = Tickets().ticket("OPS-1", "2026-09-10 09:00", ["training"], "Ines", "done")
    tickets.move("OPS-1", "2026-09-11 09:00", "Ines", "new", "done")
    return {
        **commits([("t1", "2026-09-08 10:00", "Ines", ["train/a.py"]), ("t2", "2026-09-08 11:00", "Marco",
                                                                       ["train/b.py"]),
                   ("d1", "2026-09-08 12:00", "Marco", ["data/x.py"]), ("t3", "2026-09-15 10:00", "Ines",
                                                                       ["train/d.py"])]),
        **pull_requests([(1, "iortiz", "2026-09-09 10:00", "main", ["train/c.py"])],
                        [(10, 1, "marco", "APPROVED", "2026-09-09 09:00")]),
        **runs([(1, 1, "train.yml", "push", "iortiz", "2026-09-10 10:00", "2026-09-10 11:00", "success"),
                (2, 1, "train.yml", "schedule", "marco", "2026-09-10 02:00", "2026-09-10 03:00", "success"),
                (3, 1, "train.yml", "workflow_dispatch", "iortiz", "2026-09-16 10:00", "2026-09-16 11:00",
                 "success"),
                (4, 1, "data-cut.yml", "workflow_dispatch", "marco", "2026-09-09 10:00", "2026-09-09 11:00",
                 "success")]),
        **tickets.frames(),
    }


COLUMNS = ["week", "internal", "vendor", "value", "planned"]


def test_stages_from_every_kind_of_activity():
    m = metrics(CFG, **frames())
    assert table(m, KPI, COLUMNS, "training") == [[1, 4, 2, 2.0, 1.0], [2, 2, 0, 3.0, 3.0], [3, 0, 0, None, 3.0]]
    assert table(m, KPI, COLUMNS, "data") == [[1, 0, 2, 0.0, 0.0], [2, 0, 0, None, 1.0], [3, 0, 0, None, 1.0]]
    assert table(m, KPI, COLUMNS) == []  # per capability only
    assert not m.ladder["behind"].any()  # an empty cell is never behind plan


def test_an_accepted_milestone_lets_the_capability_reach_stage_4():
    m = compute(CFG, SourceData(**frames()), accepted_milestones={"T"}, today=TODAY)
    assert table(m, KPI, ["week", "value"], "training")[1] == [2, 4.0]


def test_cell_evidence_lists_every_item_and_reconciles():
    m = metrics(CFG, **frames())
    got = sorted(rows_of(m, KPI, 1, "training"))
    assert got == sorted([["commit", "t1", "internal", True], ["commit", "t2", "vendor", True],
                          ["pr", "acme/model#1", "internal", True], ["review", "10", "vendor", True],
                          ["run", "1:1/1", "internal", True], ["ticket", "OPS-1", "internal", True]])
    assert sorted(rows_of(m, KPI, 1, "data")) == [["commit", "d1", "vendor", True], ["run", "1:4/1", "vendor", True]]
    assert_every_row_reconciles(m, KPI)


def test_spec():
    spec = REGISTRY[KPI]
    assert (spec.unit, spec.chart, spec.required) == ("stage", "ladder", frozenset({"capability"}))
