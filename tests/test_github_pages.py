"""Delivery, Retraining and Quality gates pages (AppTest) on the demo plus GitHub data collected from the
replay server: each KPI has its chart, and the table behind the selected week matches metrics, with links."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from collectors.__main__ import main as collectors_main
from collectors.demo import build_demo
from db.engine import make_engine
from db.queries import load_source_frames
from metrics.config import load_config
from metrics.engagement import SourceData, compute
from tests.replay import ReplayServer
from tests.test_github_collector import ROOT, fake_repo

APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def engagement(tmp_path_factory):
    out = tmp_path_factory.mktemp("ghdemo")
    toml = build_demo(out)
    with ReplayServer() as server:
        fake_repo().script(server)
        source = f'\n[[sources.github]]\nrepo = "acme/model"\nbase_url = "{server.base_url}"\n'
        toml.write_text(toml.read_text() + source + 'token_env = "BATON_TEST_NO_TOKEN"\n')
        url = f"sqlite:///{out / 'baton.db'}"
        assert collectors_main(["collect", "--config", str(toml), "--db", url, "--quiet"]) == 0
    cfg = load_config(toml)
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
    ("pages/retraining.py", "Retraining", ["internal_train_share", "time_to_retrain"]),
    ("pages/quality.py", "Quality gates", ["two_key_compliance", "eval_coverage"]),
])
def test_kpi_pages_render_charts_and_week_tables(monkeypatch, engagement, page, title, kpis):
    at = run_page(monkeypatch, engagement, page)
    assert at.title[0].value == title
    assert len(at.get("plotly_chart")) + len(at.info) == len(kpis)
    assert len(at.selectbox) == len(at.get("plotly_chart"))


def test_delivery_table_lists_the_prs_of_the_selected_week_with_links(monkeypatch, engagement):
    m = engagement["metrics"]
    at = run_page(monkeypatch, engagement, "pages/delivery.py")
    picker = next(s for s in at.selectbox if s.key == "internal_pr_share_week")
    picker.set_value(2).run()  # week 2 (14-20 Sep): PRs 1, 2 and 5 of the fixture were merged 9-13 Sep = week 1
    picker = next(s for s in at.selectbox if s.key == "internal_pr_share_week")
    picker.set_value(1).run()
    expected = m.github.evidence("internal_pr_share", 1)
    shown = next(d.value for d in at.dataframe if "author_login" in d.value.columns and "base_ref" in d.value.columns)
    assert shown["number"].tolist() == expected["number"].tolist() == [1, 2, 5]
    assert shown["link"].tolist() == [f"https://github.com/acme/model/pull/{n}" for n in (1, 2, 5)]
