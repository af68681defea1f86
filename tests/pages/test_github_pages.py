"""Delivery, Retraining and Quality gates pages (AppTest) on the demo with its GitHub data collected from its
recording: each KPI has its chart with the values the demo intends, and the table behind the selected
week matches metrics, with links to GitHub."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from collectors.demo import github_data as demo_github
from db.engine import make_engine
from db.queries import load_source_frames
from metrics.engagement import SourceData, compute
from metrics.engagement_file import load_engagement
from metrics.service import evidence
from tests.support.demo_template import copy_demo
from tests.support.paths import ROOT

APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def engagement(tmp_path_factory):
    out = tmp_path_factory.mktemp("ghdemo")
    toml = copy_demo(out)  # with its GitHub data collected
    url = f"sqlite:///{out / 'baton.db'}"
    cfg = load_engagement(toml)
    return {"toml": toml, "url": url, "metrics": compute(cfg, SourceData(**load_source_frames(make_engine(url))))}


def run_page(monkeypatch, engagement, page: str) -> AppTest:
    monkeypatch.setenv("BATON_CONFIG", str(engagement["toml"]))
    monkeypatch.setenv("BATON_DB_URL", engagement["url"])
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("page, title, kpis", [
    ("pages/delivery.py", "Delivery", ["internal_pr_share", "internal_commit_share", "internal_review_share"]),
    ("pages/retraining.py", "Retraining", ["internal_train_share", "time_to_retrain", "rehearsal_retrain",
                                           "rollback_time", "train_run_minutes", "environment_rebuild"]),
    ("pages/quality.py", "Quality gates", ["two_key_compliance", "eval_coverage", "eval_pass_rate"]),
])
def test_kpi_pages_render_charts_and_week_tables(monkeypatch, engagement, page, title, kpis):
    at = run_page(monkeypatch, engagement, page)
    assert at.title[0].value == title
    # Each KPI is a chart, or an info box saying it has no data; the local-mode notice is not one of them.
    empty_kpis = [i for i in at.info if i.icon != ":material/person:"]
    assert len(at.get("plotly_chart")) + len(empty_kpis) == len(kpis)
    assert len(at.selectbox) == len(at.get("plotly_chart"))


def test_delivery_table_lists_the_prs_of_the_selected_week_with_links(monkeypatch, engagement):
    m = engagement["metrics"]
    at = run_page(monkeypatch, engagement, "pages/delivery.py")
    picker = next(s for s in at.selectbox if s.key == "internal_pr_share_week")
    picker.set_value(3).run()
    expected = evidence(m, "internal_pr_share", 3)
    shown = next(d.value for d in at.dataframe if "author_login" in d.value.columns and "base_ref" in d.value.columns)
    prs = [f"client/fraud-model#{n}" for n in (6, 7, 8)]
    assert shown["id"].tolist() == expected["id"].tolist() == prs  # demo_github.PRS, week 3
    assert shown["kind"].tolist() == ["pr"] * 3 and shown["counted"].all()
    assert shown["url"].tolist() == [f"https://github.com/client/fraud-model/pull/{n}" for n in (6, 7, 8)]
    assert shown["author_login"].tolist()[:2] == ["iortiz", "mbianchi-acme"] and pd.isna(shown["author_login"][2])
    assert shown["side"].tolist()[2] == "unattributed"  # a deleted account


def _values(spec) -> list:
    """Plotly JSON arrays: a plain list, or a typed array {"dtype", "bdata" (base64)}."""
    if isinstance(spec, dict) and "bdata" in spec:
        return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.dtype(spec["dtype"])).tolist()
    return list(spec)


def test_retraining_chart_shows_the_intended_medians_and_p90(monkeypatch, engagement):
    at = run_page(monkeypatch, engagement, "pages/retraining.py")
    figure = json.loads(at.get("plotly_chart")[1].proto.spec)
    bars, p90 = figure["data"][0], figure["data"][1]
    by_week = dict(zip(_values(bars["x"]), _values(bars["y"]), strict=True))
    p90_by_week = dict(zip(_values(p90["x"]), _values(p90["y"]), strict=True))
    for week, (median, high, _n, _internal) in demo_github.INTENDED_TIME_TO_RETRAIN.items():
        assert by_week[week] == pytest.approx(median) and p90_by_week[week] == pytest.approx(high)
