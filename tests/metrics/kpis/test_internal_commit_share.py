"""internal_commit_share (docs/metrics.md#internal_commit_share) against a hand-computed table (world.py).

sha | when (UTC)  | author           | paths                  | week, side
c1  | Tue Sep 8   | Ines             | data/a.py              | 1 internal (data)
c2  | Wed Sep 9   | Marco            | data/b.py, train/x.py  | 1 vendor (data, training)
c3  | Thu Sep 10  | dependabot[bot]  | requirements.txt       | 1 bot
c4  | Fri Sep 11  | stranger@gmail   | train/y.py             | 1 unattributed (training)
c5  | Tue Sep 15  | Tom              | train/z.py             | 2 vendor (Tom is vendor until Sep 21)
c6  | Tue Sep 22  | Tom              | train/z.py             | 3 internal
m1  | Tue Sep 22  | Ines, merge c5 c6 | -                     | not counted (merge)

week | internal vendor unattributed bots | value   || training: internal vendor unattributed value
  1  |    1       1        1        1   |  0.5    ||            0       1        1       0.0
  2  |    0       1        0        0   |  0.0    ||            0       1        0       0.0
  3  |    1       0        0        0   |  1.0    ||            1       0        0       1.0
"""

from metrics.kpis import REGISTRY
from metrics.kpis.base import format_change, format_target, format_value
from tests.metrics.kpis.world import assert_every_row_reconciles, commits, metrics, rows_of, table

KPI = "internal_commit_share"
COMMITS = [
    ("c1", "2026-09-08 10:00", "Ines", ["data/a.py"]),
    ("c2", "2026-09-09 10:00", "Marco", ["data/b.py", "train/x.py"]),
    ("c3", "2026-09-10 10:00", "dependabot[bot]", ["requirements.txt"]),
    ("c4", "2026-09-11 10:00", "Stranger <stranger@gmail.com>", ["train/y.py"]),
    ("c5", "2026-09-15 10:00", "Tom", ["train/z.py"], "c4"),
    ("c6", "2026-09-22 10:00", "Tom", ["train/z.py"], "c4"),
    ("m1", "2026-09-22 11:00", "Ines", [], "c5 c6"),
]
COLUMNS = ["week", "internal", "vendor", "unattributed", "bots", "value", "unit"]


def test_weekly_values_and_counts():
    m = metrics(**commits(COMMITS))
    assert table(m, KPI, COLUMNS) == [[1, 1, 1, 1, 1, 0.5, "share"], [2, 0, 1, 0, 0, 0.0, "share"],
                                      [3, 1, 0, 0, 0, 1.0, "share"]]
    assert table(m, KPI, COLUMNS[:5], "training") == [[1, 0, 1, 1, 0], [2, 0, 1, 0, 0], [3, 1, 0, 0, 0]]
    assert table(m, KPI, ["week", "internal", "vendor", "value"], "data") == [[1, 1, 1, 0.5], [2, 0, 0, None],
                                                                              [3, 0, 0, None]]


def test_evidence_is_the_commits_and_reconciles():
    m = metrics(**commits(COMMITS))
    assert rows_of(m, KPI, 1) == [["commit", "c1", "internal", True], ["commit", "c2", "vendor", True],
                                  ["commit", "c3", "bot", True], ["commit", "c4", "unattributed", True]]
    assert [r[1] for r in rows_of(m, KPI, 3)] == ["c6"]  # the merge m1 is not a countable commit
    assert [r[1] for r in rows_of(m, KPI, 1, "training")] == ["c2", "c4"]
    assert_every_row_reconciles(m, KPI)


def test_spec():
    spec = REGISTRY[KPI]
    assert (spec.unit, spec.direction, spec.default_target, spec.page) == ("share", "higher", 0.5, "delivery")
    assert (format_value(spec, 0.5), format_change(spec, 0.125), format_target(spec, 0.5)) == ("50%", "+12.5 pp",
                                                                                               "≥ 50%")
