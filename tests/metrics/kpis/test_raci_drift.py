"""`raci_drift` (SPEC §10) on a hand-countable engagement (tests/support/readiness_rows.py). Plan for data:
responsible vendor from week 1, internal from week 3; accountable vendor from week 1, internal from week 4.

week | data commits (I, V) | deploys (every capability) | other accountable items      | resp  | acc          | value
  1  | Ann; Vic Vic  (1,2) | Vic                        |                              | V ok  | V ok         | 1
  2  | Ann; Vic      (1,1) | Ann, Vic                   | Vic signs MD (Ann's revoked) | tie   | V (1,2) ok   | 0.5
  3  | Ann Ann; Vic  (2,1) | Ann                        |                              | I ok  | I, planned V | 0.5
  4  | Ann, Bob      (2,0) | Ann                        | Bob merges Ann's branch      | I ok  | I ok         | 1
Side counts = all the week's items of both roles: w1 1/3, w2 2/3, w3 3/1, w4 4/0.
"""

from __future__ import annotations

import pandas as pd
import pytest

from metrics.engagement import compute
from metrics.service import evidence, reconcile
from tests.support.readiness_rows import TODAY, config, source_data

KPI = "raci_drift"
COMMITS = [(1, "ann", "data/a.py"), (1, "vic", "data/b.py"), (1, "vic", "data/c.py"), (2, "ann", "data/d.py"),
           (2, "vic", "data/e.py"), (3, "ann", "data/f.py"), (3, "ann", "data/g.py"), (3, "vic", "data/h.py"),
           (4, "ann", "data/i.py"), (4, "bob", "data/j.py")]
MERGES = [(4, "bob", 8)]  # Bob merges the branch whose tip is Ann's week-4 commit
RUNS = [(1, "deploy.yml", "vic", "workflow_dispatch"), (2, "deploy.yml", "ann", "workflow_dispatch"),
        (2, "deploy.yml", "vic", "workflow_dispatch"), (3, "deploy.yml", "ann", "workflow_dispatch"),
        (4, "deploy.yml", "ann", "workflow_dispatch")]
SIGNATURES = [(1, "MD", "sign", "vic", None, "vendor"), (2, "MD", "sign", "ann", None, "internal"),
              (3, "MD", "revoke", "ann", 2, "internal")]
PLAN = {"data": {"responsible": {1: "vendor", 3: "internal"}, "accountable": {1: "vendor", 4: "internal"}}}
MILESTONES = [{"id": "MD", "due_week": 4, "title": "Data is ours", "capability": "data", "criteria": []}]
# week -> (actual responsible, actual accountable, value, internal, vendor)
INTENDED = {1: ("vendor", "vendor", 1.0, 1, 3), 2: ("shared", "vendor", 0.5, 2, 3),
            3: ("internal", "internal", 0.5, 3, 1), 4: ("internal", "internal", 1.0, 4, 0)}


@pytest.fixture(scope="module")
def m():
    return compute(config(raci=PLAN, milestones=MILESTONES), source_data(COMMITS, MERGES, RUNS, SIGNATURES),
                   today=TODAY)


def test_planned_and_actual_roles_and_the_value_match_the_hand_computed_table(m):
    table = m.facts.raci_table.set_index(["week", "role"])
    for week, (responsible, accountable, value, internal, vendor) in INTENDED.items():
        assert table.loc[(week, "responsible"), "actual"] == responsible, week
        assert table.loc[(week, "accountable"), "actual"] == accountable, week
        for capability in ("data", None):  # the only capability with a plan
            row = m.kpi_row(KPI, week, capability)
            assert row["value"] == pytest.approx(value), (week, capability)
            assert (row["internal"], row["vendor"]) == (internal, vendor), (week, capability)
    assert m.kpi_row(KPI, 3, "training") is None  # no plan, no row
    row = m.kpi_row(KPI, 3, "data")
    assert (row["responsible_match"], row["accountable_match"]) == (1.0, 0.0)


def test_evidence_shows_plan_and_actual_side_by_side_and_reconciles(m):
    rows = evidence(m, KPI, 2, "data")
    roles = rows[rows["row_type"] == "role"].set_index("role")
    assert roles.loc["responsible", "title"] == ("responsible: planned vendor, actual shared (1 internal vs 1 vendor "
                                                 "items) — DRIFT")
    items = rows[rows["row_type"] == "item"]
    assert sorted(zip(items["role"], items["operation"], items["person"], strict=True)) == [
        ("accountable", "deploy trigger", "Ann Client"), ("accountable", "deploy trigger", "Vic Vendor"),
        ("accountable", "signature", "Vic Vendor"), ("responsible", "commit", "Ann Client"),
        ("responsible", "commit", "Vic Vendor")]
    merge = evidence(m, KPI, 4, "data")
    assert ("merge", "Bob Client") in set(zip(merge["operation"], merge["person"], strict=True))
    for week in INTENDED:
        assert reconcile(m, KPI, week, "data") == [] and reconcile(m, KPI, week) == []


def test_a_week_before_any_plan_is_not_compared():
    plan = {"data": {"responsible": {3: "internal"}}}
    m = compute(config(raci=plan), source_data(COMMITS), today=TODAY)
    assert pd.isna(m.kpi_row(KPI, 1, "data")["value"])
    assert m.kpi_row(KPI, 3, "data")["value"] == 1.0
