"""Every page in a real browser: `streamlit run app.py` on the demo DB, driven by the system Chromium.

Never downloads a browser: the test skips when /usr/bin/chromium is missing. Screenshots of every page are
saved under the test's tmp dir (printed with -s) for a human look.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from collectors.__main__ import main as collectors_main
from collectors.demo.build import DEMO_NAME, build_demo
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, assert_no_exception, settle, streamlit_app

pytestmark = pytest.mark.browser

# path -> (text a user would look for on it, number of charts). The Overview lives at "/" and "/overview".
PAGES = {
    "": ("KPIs against target", 0),
    "overview": ("KPIs against target", 0),
    "ladder": ("Evidence:", 1),
    "people": ("Unattributed identities", 1),
    "sources": ("Collection runs", 0),
    "runbooks": ("Executions", 1),
    "drills": ("Internal passes", 1),
    "review": ("Weekly review", 0),
    "milestones": ("Your name (as on the roster", 0),
    "delivery": ("Internal PR share", 2),
    "retraining": ("Time to retrain", 0),
    "quality": ("Two-key compliance", 1),
    "binder": ("Checklist, week", 1),
    "readiness": ("Competency matrix", 2),
}


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory) -> dict:
    """The demo collected into a DB: {"dir", "toml", "url"} (the server below serves it)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: the browser tests use the system Chromium, never a downloaded one")
    out = tmp_path_factory.mktemp("browser-demo")
    toml = build_demo(out)
    url = f"sqlite:///{out / 'baton.db'}"
    assert collectors_main(["collect", "--config", str(toml), "--db", url, "--quiet"]) == 0
    return {"dir": out, "toml": toml, "url": url}


@pytest.fixture(scope="module")
def server(demo_files):
    """`streamlit run app.py` on the demo DB; always terminated."""
    with streamlit_app(demo_files["toml"], demo_files["url"], demo_files["dir"]) as base:
        yield base


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 2200})
    try:
        yield context.new_page()
    finally:
        context.close()


def test_ladder_deep_link_and_click(server, page, tmp_path):
    """?capability=&week= opens that cell's evidence; a click on another cell moves the selection and the URL.

    First in this module on purpose: the fresh server's first visit goes straight to a page URL, which Streamlit
    runs in its legacy pages/-folder mode until the app switches to app.py's navigation."""
    page.goto(f"{server}/ladder?capability=training&week=4")
    settle(page, 1)
    assert_no_exception(page)
    nav = page.locator('[data-testid="stSidebarNav"]')
    assert nav.get_by_text("Overview", exact=True).is_visible()  # app.py's navigation, not the folder listing
    assert nav.get_by_text("app", exact=True).count() == 0
    assert page.get_by_text("Evidence: training, week 4").first.is_visible()

    grid = page.locator('[data-testid="stPlotlyChart"] .nsewdrag').first
    box = grid.bounding_box()
    n_weeks, capabilities = 9, ["data", "training", "evaluation", "deployment", "operations"]  # weeks 0..8
    column, row = 6, capabilities.index("evaluation")  # week 6
    page.mouse.click(box["x"] + (column + 0.5) / n_weeks * box["width"],
                     box["y"] + (row + 0.5) / len(capabilities) * box["height"])
    page.wait_for_function("() => location.search.includes('capability=evaluation')", timeout=30_000)
    settle(page, 1)
    assert_no_exception(page)
    assert page.get_by_text("Evidence: evaluation, week 6").first.is_visible()
    assert "week=6" in page.url
    shot = tmp_path / "ladder-clicked.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")


@pytest.mark.parametrize("path", list(PAGES))
def test_page_renders_without_exception(server, page, path, tmp_path):
    text, charts = PAGES[path]
    page.goto(f"{server}/{path}")
    settle(page, charts)
    assert_no_exception(page)
    shot = tmp_path / f"{path or 'root'}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    page.get_by_text(text).first.wait_for(state="visible", timeout=30_000)  # a busy machine renders late
    assert page.get_by_text(text).first.is_visible()
    if path == "":
        assert page.get_by_text(DEMO_NAME).first.is_visible()
        assert page.locator('[data-testid="stMetricValue"]').first.inner_text().endswith("%")


def test_review_deep_link_shows_the_week(server, page, tmp_path):
    page.goto(f"{server}/review?week=5")
    settle(page, 0)
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=30_000)
    page.wait_for_selector('[data-testid="stDataFrame"] canvas', timeout=30_000)
    page.wait_for_timeout(1500)
    assert_no_exception(page)
    assert page.locator('[data-testid="stMetricValue"]').first.inner_text() == "52%"  # 13 / (13 + 12)
    assert page.get_by_text("Week 5 · Oct 5 – Oct 11, 2026").first.is_visible()
    assert page.get_by_text("Local single-user mode").first.is_visible()
    shot = tmp_path / "review-week-5.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")


def metric_cards(page) -> dict[str, tuple[str, str]]:
    """label -> (value, delta) of every st.metric on the page."""
    cards = {}
    for card in page.locator('[data-testid="stMetric"]').all():
        label = card.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        value = card.locator('[data-testid="stMetricValue"]').inner_text().strip()
        delta = card.locator('[data-testid="stMetricDelta"]')
        cards[label] = (value, delta.inner_text().strip() if delta.count() else "")
    return cards


def test_overview_is_the_scorecard_at_both_urls(server, page, tmp_path):
    """A committee reads every KPI against its target, with its unit, in one screen; /overview resolves and / opens
    the same page (issue 10 §4-5)."""
    import re

    page.goto(f"{server}/overview")
    settle(page, 0)
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=30_000)
    assert_no_exception(page)
    assert "Page not found" not in page.content()
    # a KPI without a value in week 8 shows its latest one and names its week: "Runbook completion (week 7)"
    cards = {re.sub(r" \(week \d+\)$", "", label): v for label, v in metric_cards(page).items()}
    assert list(cards)[0] == "Internal commit share"
    assert {"Internal commit share", "Internal PR share", "Evaluation coverage", "Runbook completion"} <= set(cards)
    assert re.fullmatch(r"\d+ tests", cards["Evaluation coverage"][0]), cards["Evaluation coverage"]
    for label, (value, _delta) in cards.items():
        if value.endswith("%"):
            assert 0 <= float(value.rstrip("%")) <= 100, (label, value)
    assert cards["Internal commit share"][1].endswith("pp")  # change from last week in percentage points
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "Target ≥ 50%" in text and "No target set" in text
    assert "Behind plan" in text and "Milestones due or at risk" in text
    assert page.get_by_text("Scorecard of week 8 of 8").first.is_visible()
    details = page.locator('[data-testid="stPageLink"]', has_text="Details")
    assert details.count() == len(cards)
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

    page.goto(f"{server}/")
    settle(page, 0)
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=30_000)
    assert_no_exception(page)
    assert page.url.rstrip("/").endswith("/overview")
    assert [re.sub(r" \(week \d+\)$", "", label) for label in metric_cards(page)] == list(cards)


def test_weekly_review_shows_units_late_milestones_digests_and_drills(server, page, demo_files, tmp_path):
    """The review of week 7 after M1 is signed by two keys: values with their units, the signature's digest (short,
    full on hover), late milestone M3, the week's drill with its severity and SLA."""
    for name, comment in (("Ines Ortiz", "ours"), ("Marco Bianchi", "agreed")):
        run = subprocess.run([sys.executable, "-m", "metrics", "sign", "--config", str(demo_files["toml"]), "--db",
                              demo_files["url"], "--milestone", "M1", "--name", name, "--comment", comment],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
    page.goto(f"{server}/review?week=7")
    settle(page, 0)
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=30_000)
    page.wait_for_selector('[data-testid="stDataFrame"]', timeout=30_000)
    page.wait_for_timeout(1500)
    assert_no_exception(page)
    cards = metric_cards(page)
    assert cards["Evaluation coverage"][0].endswith(" tests")
    assert all(not v.endswith("%") or float(v.rstrip("%")) <= 100 for v, _ in cards.values())
    digests = page.locator("code.digest")
    assert digests.count() == 2
    full = digests.first.get_attribute("title")
    assert len(full) == 64 and digests.first.inner_text() == full[:12] + "…"
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "Drills and incidents" in text and "No drill restored" not in text
    page.screenshot(path=str(tmp_path / "review-week-7.png"), full_page=True)


def test_a_week_outside_the_engagement_says_so(server, page):
    page.goto(f"{server}/review?week=42")
    settle(page, 0)
    assert_no_exception(page)
    assert page.get_by_text("?week=42 is not a week of this engagement").first.is_visible()


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    """A freshly started server with [auth] configured (an OIDC provider that is never reached)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing")
    out = tmp_path_factory.mktemp("auth-demo")
    toml = build_demo(out)
    url = f"sqlite:///{out / 'baton.db'}"
    assert collectors_main(["collect", "--config", str(toml), "--db", url, "--quiet"]) == 0
    (out / ".streamlit").mkdir()
    (out / ".streamlit" / "secrets.toml").write_text(
        '[auth]\nredirect_uri = "http://127.0.0.1/oauth2callback"\ncookie_secret = "test-cookie-secret"\n'
        'client_id = "baton"\nclient_secret = "test-client-secret"\n'
        'server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"\n')
    with streamlit_app(toml, url, out, cwd=out) as base:  # cwd holds .streamlit/secrets.toml
        yield base


@pytest.mark.parametrize("path", ["milestones?milestone=M1&week=8", "review?week=5"])
def test_with_login_configured_a_deep_link_shows_no_data_and_no_action(auth_server, browser, path):
    context = browser.new_context(viewport={"width": 1400, "height": 1400})
    try:
        page = context.new_page()
        page.goto(f"{auth_server}/{path}")
        settle(page, 0)
        assert_no_exception(page)
        assert page.get_by_text("Log in to see this engagement.").first.is_visible()
        assert page.get_by_role("button", name="Log in").is_visible()
        for hidden in ("Sign M1", "Freeze week 5", "Local single-user mode"):
            assert page.get_by_text(hidden).count() == 0
        assert page.locator('[data-testid="stDataFrame"]').count() == 0
    finally:
        context.close()
