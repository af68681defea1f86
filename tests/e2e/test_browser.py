"""Every page in a real browser: `streamlit run app.py` on the demo DB, driven by the system Chromium.

Never downloads a browser: the test skips when /usr/bin/chromium is missing. Screenshots of every page are
saved under the test's tmp dir (printed with -s) for a human look.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from collectors.__main__ import main as collectors_main
from collectors.demo.build import DEMO_NAME, build_demo
from tests.support.paths import ROOT

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# path -> (text a user would look for on it, number of charts). The default page (Overview) lives at "/".
PAGES = {
    "": ("Internal commit share, week 8", 1),
    "ladder": ("Evidence:", 1),
    "people": ("Unattributed identities", 1),
    "sources": ("Collection runs", 0),
    "runbooks": ("Executions", 1),
    "drills": ("Internal passes", 1),
    "review": ("Weekly review", 0),
    "milestones": ("Your name (as on the roster", 0),
    "delivery": ("Internal PR share", 2),
    "retraining": ("Time to retrain (hours)", 0),
    "quality": ("Two-key compliance", 1),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError("streamlit did not answer /_stcore/health")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run app.py` on the demo DB; always terminated."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: the browser tests use the system Chromium, never a downloaded one")
    out = tmp_path_factory.mktemp("browser-demo")
    toml = build_demo(out)
    url = f"sqlite:///{out / 'baton.db'}"
    assert collectors_main(["collect", "--config", str(toml), "--db", url, "--quiet"]) == 0
    port = _free_port()
    env = {**os.environ, "BATON_CONFIG": str(toml), "BATON_DB_URL": url}
    log = open(out / "streamlit.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


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


def settle(page, charts: int) -> None:
    """Wait until the script run finished and `charts` Plotly charts have drawn (they load lazily)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=30_000)
    page.wait_for_function(
        """(charts) => {
            const app = document.querySelector('[data-testid="stApp"]');
            if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
            const drawn = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                .filter(c => c.querySelector('.main-svg'));
            return drawn.length >= charts;
        }""",
        arg=charts,
        timeout=30_000,
    )
    page.wait_for_timeout(500)


def assert_no_exception(page) -> None:
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, exceptions.first.inner_text()


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
    assert page.get_by_text(text).first.is_visible()
    if path == "":
        assert page.get_by_text(DEMO_NAME).first.is_visible()
        assert page.locator('[data-testid="stMetricValue"]').first.inner_text().endswith("%")
    shot = tmp_path / f"{path or 'overview'}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")


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
    port = _free_port()
    env = {**os.environ, "BATON_CONFIG": str(toml), "BATON_DB_URL": url}
    log = open(out / "streamlit.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(  # cwd holds .streamlit/secrets.toml; the app is the repository's
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=out, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


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
