"""The Readiness page in a real browser (system Chromium, never a downloaded one) on the whole demo: the vendor-exit
view, the competency matrix whose week slider and person picker change what the charts draw."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.__main__ import main as collectors_main
from collectors.demo.build import build_demo
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, assert_no_exception, settle, streamlit_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: the browser tests use the system Chromium, never a downloaded one")
    out = tmp_path_factory.mktemp("readiness-browser")
    toml = build_demo(out)
    url = f"sqlite:///{out / 'baton.db'}"
    assert collectors_main(["collect", "--config", str(toml), "--db", url, "--quiet"]) == 0  # self-contained demo
    with streamlit_app(toml, url, out) as base:
        yield base


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = chromium.new_context(viewport={"width": 1400, "height": 2600})
        try:
            yield context.new_page()
        finally:
            context.close()
            chromium.close()


def heatmap_text(page) -> str:
    return page.locator('[data-testid="stPlotlyChart"]').first.inner_text()


def test_readiness_page_vendor_exit_and_competency(server, page, tmp_path):
    page.goto(f"{server}/readiness?week=8")
    settle(page, 2)
    assert_no_exception(page)
    for text in ("Vendor exit · week 8", "Not covered: operations fewer than 2 internal people did in the last 4 weeks",
                 "RACI: planned vs actual", "Competency matrix", "Progression"):
        assert page.get_by_text(text).first.is_visible(), text
    assert "Competency, week 8" in heatmap_text(page)
    assert "independent" in heatmap_text(page)  # Ines and Ivan on data, Priya on operations
    page.screenshot(path=str(tmp_path / "readiness-week-8.png"), full_page=True)

    # the person picker: Ivan's progression
    page.get_by_label("Person").click()
    page.get_by_role("option", name="Ivan Kowalski").click()
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')]"
                           ".some(c => c.innerText.includes('Progression: Ivan Kowalski'))", timeout=30_000)
    settle(page, 2)
    assert page.get_by_text("Ivan Kowalski · data · week 8: independent (2 item(s) behind the level)").is_visible()

    # the week slider: two steps back, the matrix is week 6's
    thumb = page.get_by_role("slider").first
    thumb.focus()
    thumb.press("ArrowLeft")
    settle(page, 2)
    thumb = page.get_by_role("slider").first
    thumb.focus()
    thumb.press("ArrowLeft")
    page.wait_for_function("() => document.querySelector('[data-testid=\"stPlotlyChart\"]')"
                           ".innerText.includes('Competency, week 6')", timeout=30_000)
    settle(page, 2)
    assert_no_exception(page)
    assert page.get_by_text("Ivan Kowalski · data · week 6: intermediate (1 item(s) behind the level)").is_visible()
    page.screenshot(path=str(tmp_path / "readiness-week-6.png"), full_page=True)
    print(f"screenshots: {tmp_path}")
