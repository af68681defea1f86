"""`exit_readiness` (SPEC §10) on a hand-countable engagement (tests/support/readiness_rows.py): data's operations
are commits and data cuts, 2 people needed in a 2-week window.

week | data commits | data cuts (cut.yml)        | window      | commit people | cut people  | covered | n
  1  | Vic          | Vic                        | 1           | -             | -           | 0/2     | 0
  2  | Ann          | Ann                        | 1-2         | Ann           | Ann         | 0/2     | 1
  3  | Bob          | Ann                        | 2-3         | Ann, Bob      | Ann         | 1/2     | 1
  4  | Vic          | Bob (+ Vic's schedule run) | 3-4         | Bob           | Ann, Bob    | 1/2     | 1
Side counts = the window's items: w1 0/2, w2 2/2, w3 4/0, w4 3/1 (internal/vendor; the scheduled run is not one).
"""

from __future__ import annotations

import pytest

from metrics.engagement import compute
from metrics.readiness import operations
from metrics.service import evidence, reconcile
from tests.support.readiness_rows import TODAY, config, source_data

KPI = "exit_readiness"
COMMITS = [(1, "vic", "data/a.py"), (2, "ann", "data/b.py"), (3, "bob", "data/c.py"), (4, "vic", "data/d.py")]
RUNS = [(1, "cut.yml", "vic", "workflow_dispatch"), (2, "cut.yml", "ann", "workflow_dispatch"),
        (3, "cut.yml", "ann", "workflow_dispatch"), (4, "cut.yml", "bob", "workflow_dispatch"),
        (4, "cut.yml", "vic", "schedule")]
READINESS = {"operations": {"data": ["commit", "data_cut"]}, "min_people": 2, "window_weeks": 2}
# week -> (covered, operations, bus factor, internal items, vendor items)
INTENDED = {1: (0, 2, 0, 0, 2), 2: (0, 2, 1, 2, 2), 3: (1, 2, 1, 4, 0), 4: (1, 2, 1, 3, 1)}


@pytest.fixture(scope="module")
def m():
    return compute(config(readiness=READINESS), source_data(COMMITS, run_rows=RUNS), today=TODAY)


def test_coverage_and_bus_factor_match_the_hand_computed_table(m):
    for week, (covered, ops, bus, internal, vendor) in INTENDED.items():
        for capability in ("data", None):  # one capability with operations: engagement-wide is the same
            row = m.kpi_row(KPI, week, capability)
            assert (row["covered"], row["operations"], row["n"]) == (covered, ops, bus), (week, capability)
            assert (row["internal"], row["vendor"]) == (internal, vendor), (week, capability)
            assert row["value"] == pytest.approx(covered / ops)
    assert m.kpi_row(KPI, 4, "training") is None  # no operation, no evidence: no row


def test_evidence_names_the_people_per_operation_and_the_last_vendor(m):
    rows = evidence(m, KPI, 4, "data")
    summary = rows[rows["row_type"] == "operation"].set_index("operation")
    assert summary.loc["commit", ["covered", "people", "last_vendor"]].tolist() == [False, "Bob Client", "Vic Vendor"]
    assert summary.loc["commit", "last_vendor_at"] == "2026-09-29T10:03:00Z"
    assert summary.loc["data_cut", ["covered", "people"]].tolist() == [True, "Ann Client, Bob Client"]
    assert summary.loc["data_cut", "last_vendor_at"] == "2026-09-09T10:00:00Z"  # the schedule run is no cut by Vic
    people = rows[rows["row_type"] == "person"]
    assert sorted(zip(people["operation"], people["person"], people["count"], strict=True)) == [
        ("commit", "Bob Client", 1), ("commit", "Vic Vendor", 1), ("data_cut", "Ann Client", 1),
        ("data_cut", "Bob Client", 1)]
    for week in INTENDED:
        assert reconcile(m, KPI, week, "data") == []
        assert reconcile(m, KPI, week) == []


def test_default_operations_are_the_kinds_with_evidence_on_the_capability():
    bare = compute(config(), source_data(COMMITS, run_rows=RUNS), today=TODAY)
    assert operations(bare.facts, "data") == (["commit"], False)  # cut.yml belongs to no capability
    mapped = compute(config(capabilities=[{"key": "data", "paths": ["data/**"], "ci_workflows": ["cut.yml"]}]),
                     source_data(COMMITS, run_rows=RUNS), today=TODAY)
    assert operations(mapped.facts, "data") == (["commit", "data_cut"], False)
    row = mapped.kpi_row(KPI, 4, "data")
    # default window, 4 weeks (1-4): commits by Ann and Bob, cuts by Ann and Bob -> both covered, bus factor 2
    assert (row["covered"], row["operations"], row["n"]) == (2, 2, 2)
