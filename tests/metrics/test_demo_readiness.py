"""The demo engagement, collected whole (git, its GitHub, Jira and MLflow recordings), gives the
handover-readiness values it intends (collectors/demo/readiness.py, written by hand): exit readiness and bus factor,
the operations nobody internal did with the last vendor to do them, RACI drift, the competency climb; every value of
the three readiness KPIs reconciles with its evidence; `python -m metrics weekly` and `competency` show them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from collectors.demo import readiness as R
from metrics.service import engagement_metrics, evidence, open_engagement, reconcile
from tests.support.cli import metrics_cli
from tests.support.demo_template import copy_demo

KPIS = ("internal_line_share", "exit_readiness", "raci_drift")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_readiness")
    toml = copy_demo(out)  # the demo collected whole (self-contained)
    url = f"sqlite:///{out / 'baton.db'}"
    cfg, engine = open_engagement(toml, url)
    return toml, url, engagement_metrics(cfg, engine)


def test_exit_readiness_and_bus_factor_per_capability(demo):
    _toml, _url, m = demo
    for week, caps in R.INTENDED_EXIT.items():
        for cap, (covered, ops, bus) in caps.items():
            row = m.kpi_row("exit_readiness", week, cap)
            assert (row["covered"], row["operations"], row["n"]) == (covered, ops, bus), (week, cap)
            assert row["value"] == pytest.approx(covered / ops)
        overall = m.kpi_row("exit_readiness", week)
        assert overall["covered"] == sum(c for c, _o, _n in caps.values())
        assert overall["operations"] == sum(o for _c, o, _n in caps.values())
        assert overall["n"] == min(n for _c, _o, n in caps.values())


def test_operations_no_internal_person_did_name_the_last_vendor(demo):
    _toml, _url, m = demo
    rows = evidence(m, "exit_readiness", 8)
    summary = rows[rows["row_type"] == "operation"]
    uncovered = summary[~summary["covered"].astype(bool)]
    assert {(r.capability, r.operation): r.last_vendor for r in uncovered.itertuples()} == R.INTENDED_UNCOVERED_WEEK8
    drill = summary[(summary["capability"] == "operations") & (summary["operation"] == "drill")].iloc[0]
    assert drill["people"] == "Priya Nair" and drill["last_vendor_at"].startswith("2026-09-17")  # MLOPS-10
    assert "NOT covered" in drill["title"] and "last vendor: Marco Bianchi on 2026-09-17" in drill["title"]
    # deploy is covered: Priya's 803 with the staging deploys of Tom (706, week 7) and Ines (805, week 8); the
    # vendor's last deploy is still Marco's 303
    deploy = summary[(summary["capability"] == "deployment") & (summary["operation"] == "deploy")].iloc[0]
    assert deploy["people"] == "Ines Ortiz, Priya Nair, Tom Becker"
    assert deploy["last_vendor_at"].startswith("2026-09-24")
    assert "deploy: covered" in deploy["title"] and "last vendor: Marco Bianchi on 2026-09-24" in deploy["title"]


def test_raci_planned_versus_actual_and_drift(demo):
    _toml, _url, m = demo
    table = m.facts.raci_table.set_index(["capability", "week", "role"])
    for cap, weeks in R.INTENDED_RACI.items():
        for week, (responsible, accountable, value) in weeks.items():
            actual = {role: table.loc[(cap, week, role), "actual"] for role in ("responsible", "accountable")}
            actual = {role: None if pd.isna(side) else side for role, side in actual.items()}
            assert actual == {"responsible": responsible, "accountable": accountable}, (cap, week)
            assert m.kpi_row("raci_drift", week, cap)["value"] == pytest.approx(value), (cap, week)
    assert table.loc[("deployment", 4, "responsible"), "planned"] == "internal"  # behind from week 4


def test_every_readiness_value_reconciles_with_its_evidence(demo):
    _toml, _url, m = demo
    rows = m.weekly[m.weekly["kpi"].isin(KPIS)]
    assert len(rows)
    for r in rows.itertuples():
        capability = None if r.capability is None or r.capability != r.capability else r.capability
        assert reconcile(m, r.kpi, int(r.week), capability) == [], (r.kpi, r.week, capability)


def test_competency_levels_climb_as_intended(demo):
    _toml, _url, m = demo
    matrix = m.facts.competency[0]
    for (person, cap), levels in R.INTENDED_LEVELS.items():
        mine = matrix[(matrix["person"] == person) & (matrix["capability"] == cap)].sort_values("week")
        assert mine["level"].tolist() == levels, (person, cap)
    week8 = matrix[(matrix["week"] == 8) & (matrix["capability"] == "data")].set_index("person")
    assert {p: (int(r.level), int(r.evidence_count)) for p, r in week8.iterrows()} == R.INTENDED_DATA_WEEK8
    assert set(matrix["capability"]) == {"data", "training", "operations"}  # evaluation, deployment: no rubric


def _cli(*args: str) -> str:
    out = metrics_cli(*args)  # `python -m metrics *args`, in this process (tests/support/cli.py)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_weekly_and_competency_commands_on_the_demo(demo):
    toml, url, _m = demo
    rows = json.loads(_cli("weekly", "--config", str(toml), "--db", url, "--format", "json"))
    for key in KPIS:
        assert any(r["kpi"] == key and r["value"] is not None for r in rows), key
    deploy8 = next(r for r in rows if r["kpi"] == "exit_readiness" and r["week"] == 8
                   and r["capability"] == "deployment")
    assert (deploy8["value"], deploy8["n"], deploy8["covered"], deploy8["operations"]) == (1.0, 2, 2, 2)  # 706, 805
    ops8 = next(r for r in rows if r["kpi"] == "exit_readiness" and r["week"] == 8 and r["capability"] == "operations")
    assert (ops8["value"], ops8["n"], ops8["covered"], ops8["operations"]) == (0.5, 1, 1, 2)  # only Priya's drill pass
    matrix = json.loads(_cli("competency", "--config", str(toml), "--db", url, "--week", "8", "--format", "json"))
    assert set(matrix[0]) == {"person", "side", "capability", "week", "level", "level_name", "evidence_count"}
    ivan = next(r for r in matrix if r["person"] == "Ivan Kowalski" and r["capability"] == "data")
    assert (ivan["level"], ivan["level_name"], ivan["side"]) == (3, "independent", "internal")
    table = _cli("competency", "--config", str(toml), "--db", url, "--week", "4")
    assert "Ivan Kowalski" in table and "beginner" in table
    bad = metrics_cli("competency", "--config", str(toml), "--db", url, "--week", "99")
    assert bad.returncode != 0 and bad.stderr.strip().count("\n") == 0 and "--week: week 99" in bad.stderr


def test_weekly_review_and_steering_pack_carry_the_readiness_section(demo, tmp_path):
    import csv
    import io

    from metrics.report.pack import write_pack
    from metrics.review import weekly_review

    toml, url, m = demo
    _cfg, engine = open_engagement(toml, url)
    review = weekly_review(engine, m, 8)
    board = review.readiness.set_index("capability")
    assert {cap: (board.loc[cap, "covered"], board.loc[cap, "operations"], board.loc[cap, "bus_factor"])
            for cap in board.index} == R.INTENDED_EXIT[8]
    assert {(r.capability, r.operation): r.last_vendor for r in review.uncovered.itertuples()} == \
        R.INTENDED_UNCOVERED_WEEK8
    raci5 = weekly_review(engine, m, 5).raci.set_index(["capability", "role"])
    assert raci5.loc[("deployment", "responsible"), "status"] == "DRIFT"
    paths = write_pack(engine, m, 8, tmp_path, pdf=False)
    html = next(p for p in paths if p.suffix == ".html").read_text(encoding="utf-8")
    assert "Handover readiness: if the vendor left now, week 8" in html
    assert 'id="uncovered"' in html and "Marco Bianchi" in html and 'id="raci"' in html
    rows = list(csv.DictReader(io.StringIO((tmp_path / "readiness-week-8.csv").read_text(encoding="utf-8"))))
    assert {r["capability"]: r["bus_factor"] for r in rows} == {cap: str(n) for cap, (_c, _o, n) in
                                                                 R.INTENDED_EXIT[8].items()}
