"""The Readiness page (SPEC §10), run headless with AppTest on the whole demo (git, its GitHub, Jira and MLflow
recordings): what a steering committee reads there equals the demo's hand-computed intent
(collectors/demo/readiness.py) — bus factor 1 in operations, the operations nobody internal did with the last
vendor to do them, RACI drift in deployment, Ivan's competency climb with the evidence behind each cell."""

from __future__ import annotations

import pandas as pd
import pytest

from collectors.demo import readiness as R
from db.engine import make_engine
from tests.support.demo_template import copy_demo

PAGE = "pages/readiness.py"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("readiness_page")
    toml = copy_demo(out)  # the self-contained demo, collected
    url = f"sqlite:///{out / 'baton.db'}"
    return toml, url


def _table(at, column: str) -> pd.DataFrame:
    found = [d.value for d in at.dataframe  # the evidence tables (a `counted` column) are not the boards
             if column in getattr(d.value, "columns", []) and "counted" not in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def _data(value) -> pd.DataFrame:
    return value.data if hasattr(value, "data") else value  # a Styler's frame


def test_vendor_exit_view_per_capability(app, demo):
    toml, url = demo
    at = app(toml, url, PAGE)
    assert at.title[0].value == "Readiness"
    assert at.selectbox(key="week").value == 8
    board = _data(_table(at, "bus_factor")).set_index("capability")
    for cap, (covered, ops, bus) in R.INTENDED_EXIT[8].items():
        assert (board.loc[cap, "covered"], board.loc[cap, "operations"], board.loc[cap, "bus_factor"]) == (
            covered, ops, bus), cap
        assert board.loc[cap, "exit_readiness"] == pytest.approx(covered / ops)
    assert 0 < board.loc["data", "line_share"] < 1 and board.loc["data", "internal_lines"] > 0
    assert board.loc["deployment", "takeover"].startswith("taken over in week 8")
    assert board.loc["operations", "takeover"].startswith("not yet: stage 2")


def test_uncovered_operations_name_the_last_vendor(app, demo):
    toml, url = demo
    at = app(toml, url, PAGE)
    uncovered = _data(_table(at, "last_vendor"))
    assert {(r.capability, r.operation): r.last_vendor for r in uncovered.itertuples()} == R.INTENDED_UNCOVERED_WEEK8
    assert set(uncovered["people"]) == {"Priya Nair"}


def test_raci_drift_in_an_earlier_week(app, demo):
    toml, url = demo
    at = app(toml, url, PAGE)
    at.selectbox(key="week").set_value(5).run()
    raci = _data(_table(at, "status")).set_index(["capability", "role"])
    assert raci.loc[("deployment", "responsible"), ["planned", "actual", "status"]].tolist() == [
        "internal", "vendor", "DRIFT"]
    assert raci.loc[("data", "responsible"), "status"] == "as planned"


def test_competency_matrix_slider_cell_evidence_and_progression(app, demo):
    toml, url = demo
    at = app(toml, url, PAGE)
    at.selectbox(key="competency_person").set_value("Ivan Kowalski")
    at.selectbox(key="competency_capability").set_value("data").run()
    for week, level in ((4, "beginner"), (6, "intermediate"), (8, "independent")):
        at.select_slider(key="competency_week").set_value(week).run()
        assert any(f"Ivan Kowalski · data · week {week}: {level}" in t.value for t in at.text), week
    items = _table(at, "evidence")
    behind = items[items["counts"]]
    assert set(behind["evidence"]) == {"contract_change", "data_cut"}
    assert "601/1" in set(behind["id"])
    assert len(at.get("plotly_chart")) == 2  # the matrix and Ivan's progression


def test_on_an_empty_database_the_page_says_how_to_collect(app, demo, tmp_path):
    toml, _url = demo
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    make_engine(url).dispose()
    at = app(toml, url, PAGE)
    assert any("collect data first" in i.value for i in at.info)
