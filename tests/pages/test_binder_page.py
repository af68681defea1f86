"""The Binder page and the SPEC §11 KPI sections of the Retraining, Quality gates and Ladder pages (AppTest) on the
demo with its GitHub data: the checklist a consultant walks through is the hand-computed one, and every KPI whose
spec names a page has its chart there."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from collectors.demo import build as demo_build
from metrics.kpis import REGISTRY
from tests.support.paths import APP
from tests.support.system_kpis import demo_engagement


def run_page(monkeypatch, page: str, **query) -> AppTest:
    toml, url, _m = demo_engagement()
    monkeypatch.setenv("BATON_CONFIG", str(toml))
    monkeypatch.setenv("BATON_DB_URL", url)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_binder_page_walks_the_week_8_checklist(monkeypatch):
    at = run_page(monkeypatch, "pages/binder.py", week="8")
    assert at.title[0].value == "Binder"
    assert [m.value for m in at.metric] == ["75%", "11 of 12", "9 of 12", "6 of 12"]
    table = next(d.value for d in at.dataframe if "what is missing" in d.value.columns).set_index("key")
    for key, (present, fresh, owned, owner) in demo_build.INTENDED_BINDER_WEEK8.items():
        assert table.loc[key, ["present", "fresh", "owned", "owner"]].tolist() == [present, fresh, owned, owner]
    assert table.loc["data_handling", "what is missing"] == "no file matches docs/data-handling.md"
    assert table.loc["environment", "what is missing"].startswith("stale: last changed 8.5 weeks before")
    assert len(at.get("plotly_chart")) == 1  # the trend


def test_binder_page_follows_the_week_picker(monkeypatch):
    at = run_page(monkeypatch, "pages/binder.py", week="2")
    assert [m.value for m in at.metric][1:] == ["7 of 12", "7 of 12", "0 of 12"]


@pytest.mark.parametrize("page, name", [("pages/retraining.py", "retraining"), ("pages/quality.py", "quality")])
def test_system_kpis_have_their_section_on_their_page(monkeypatch, page, name):
    at = run_page(monkeypatch, page)
    keys = [k for k, spec in REGISTRY.items() if spec.page == name]
    assert {"retraining": {"rehearsal_retrain", "rollback_time", "train_run_minutes", "environment_rebuild"},
            "quality": {"eval_pass_rate"}}[name] <= set(keys)
    assert [h.value for h in at.subheader] == [REGISTRY[k].label for k in keys]
    assert len(at.get("plotly_chart")) == len(keys)


def test_ladder_page_shows_the_takeover_table(monkeypatch):
    at = run_page(monkeypatch, "pages/ladder.py", week="8")
    table = next(d.value for d in at.dataframe if "weeks to takeover" in d.value.columns).set_index("capability")
    shown = table["weeks to takeover"].astype("Float64")
    assert shown.index.tolist() == ["data", "training", "evaluation", "deployment", "operations"]
    assert shown.iloc[:4].tolist() == [4, 6, 7, 8] and shown.isna().tolist() == [False] * 4 + [True]
