"""internal_pr_share (docs/metrics.md#internal_pr_share) against hand-computed tables (world.py).

GitHub PRs:
#  | author           | merged (UTC)      | base    | paths      | week, side
1  | iortiz (Ines)    | Tue Sep 8         | main    | train/a.py | 1 internal (training)
2  | marco            | Wed Sep 9         | main    | data/x.py  | 1 vendor (data)
3  | dependabot[bot]  | Thu Sep 10        | main    | -          | 1 bot
4  | (deleted: null)  | Thu Sep 10        | main    | -          | 1 unattributed
5  | marco            | not merged        | main    | -          | -
6  | tbecker (Tom)    | Mon Sep 21        | release | train/b.py | 3 internal (any base; Tom internal from Sep 21)

week | internal vendor unattributed bots | value
  1  |    1       1        1         1  | 0.5
  2  |    0       0        0         0  | null
  3  |    1       0        0         0  | 1.0

Without a PR source (git only): c1 (Ines), b1 (Marco) merged by Ines's merge m1 (Sep 8), c2 pushed directly by Ines:
one PR stand-in, m1, authored by Marco (the merged branch's tip) -> week 1: vendor 1, value 0.0.
"""

from metrics.kpis import REGISTRY
from tests.metrics.kpis.world import assert_every_row_reconciles, commits, metrics, pull_requests, rows_of, table

KPI = "internal_pr_share"
PRS = [
    (1, "iortiz", "2026-09-08 10:00", "main", ["train/a.py"]),
    (2, "marco", "2026-09-09 10:00", "main", ["data/x.py"]),
    (3, "dependabot[bot]", "2026-09-10 10:00", "main", []),
    (4, None, "2026-09-10 11:00", "main", []),
    (5, "marco", None, "main", []),
    (6, "tbecker", "2026-09-21 09:00", "release", ["train/b.py"]),
]
COLUMNS = ["week", "internal", "vendor", "unattributed", "bots", "value"]


def test_weekly_values_from_github_prs():
    m = metrics(**pull_requests(PRS))
    assert table(m, KPI, COLUMNS) == [[1, 1, 1, 1, 1, 0.5], [2, 0, 0, 0, 0, None], [3, 1, 0, 0, 0, 1.0]]
    assert table(m, KPI, ["week", "internal", "vendor", "value"], "training") == [[1, 1, 0, 1.0], [2, 0, 0, None],
                                                                                  [3, 1, 0, 1.0]]
    assert table(m, KPI, ["week", "internal", "vendor", "value"], "data")[0] == [1, 0, 1, 0.0]


def test_evidence_is_the_merged_prs_and_reconciles():
    m = metrics(**pull_requests(PRS))
    assert rows_of(m, KPI, 1) == [["pr", "acme/model#1", "internal", True], ["pr", "acme/model#2", "vendor", True],
                                  ["pr", "acme/model#3", "bot", True], ["pr", "acme/model#4", "unattributed", True]]
    assert rows_of(m, KPI, 3, columns=("id", "url")) == [["acme/model#6", "https://github.com/acme/model/pull/6"]]
    assert_every_row_reconciles(m, KPI)


def test_git_fallback_counts_merges_by_the_merged_branch_author():
    m = metrics(**commits([("c1", "2026-09-08 08:00", "Ines", ["a.py"]),
                           ("b1", "2026-09-08 09:00", "Marco", ["b.py"], "c1"),
                           ("m1", "2026-09-08 10:00", "Ines", [], "c1 b1"),
                           ("c2", "2026-09-09 08:00", "Ines", ["c.py"], "m1")]))
    assert table(m, KPI, ["week", "internal", "vendor", "value"])[0] == [1, 0, 1, 0.0]
    assert rows_of(m, KPI, 1) == [["commit", "m1", "vendor", True]]
    assert_every_row_reconciles(m, KPI)


def test_spec():
    spec = REGISTRY[KPI]
    assert (spec.unit, spec.direction, spec.default_target, spec.label) == ("share", "higher", 0.5,
                                                                            "Internal PR share")
