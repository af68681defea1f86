"""Printing the steering pack's HTML to PDF with the system Chromium (/usr/bin/chromium, through Playwright; never a
downloaded browser).

Kept apart from metrics/report/pack.py on purpose: it imports nothing heavy, so `python -m metrics pack` can start
the browser before it imports pandas and computes the metrics, and the two run side by side.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def plotly_js_file() -> Path | None:
    """plotly.js as the installed plotly package ships it (what the pack inlines: plotly.offline.get_plotlyjs)."""
    import importlib.util

    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


# The <style> elements plotly.js added to the document (ids plotly.js-style-*), with the rules it inserted.
_PLOTLY_STYLES = """() => Array.from(document.querySelectorAll('style[id^="plotly.js-style"]')).map(s =>
    '<style id="' + s.id + '">' + Array.from(s.sheet.cssRules).map(r => r.cssText).join('\\n') + '</style>'
).join('')"""


class PdfPrinter(threading.Thread):
    """Prints the pack's HTML with the system Chromium. Started before the HTML exists, so launching the browser
    (about a second) and evaluating plotly.js (4.8 MB, about 2.7 s: most of a PDF's time) overlap with the Python
    side computing the metrics and the pack. `print(html, pdf, charts)` hands over the job; `cancel()` says there
    is none; `result()` waits and re-raises the browser's error, if any.

    The page that evaluated plotly.js ahead then receives the pack through document.open()/write(), which keeps
    the page's global object (HTML standard, "document open steps"; Chromium since 73), so the pack's own copy of
    plotly.js is left out and only its charts run. (A warm-up page followed by a navigation to the pack was tried
    before: the navigation evaluated plotly.js a second time, and on two shared cores it cost more than it saved.)
    When the pack does not inline this very plotly.js, it is opened as a file as before."""

    def __init__(self):
        super().__init__(daemon=True, name="pack-pdf")
        self._jobs: queue.Queue = queue.Queue()
        self._error: BaseException | None = None

    def run(self) -> None:
        from playwright.sync_api import sync_playwright

        try:
            if not Path(CHROMIUM).exists():
                raise RuntimeError(f"{CHROMIUM} is missing: the PDF is printed by the system Chromium (never "
                                   "downloaded)")
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page(viewport={"width": 1200, "height": 1600})
                    plotly_file = plotly_js_file()
                    plotly_js = plotly_file.read_text(encoding="utf-8") if plotly_file else None
                    if plotly_js:
                        page.set_content(f"<!doctype html><html><head><script>{plotly_js}</script></head></html>")
                    job = self._jobs.get()
                    if job is None:
                        return
                    html_path, pdf_path, charts = job
                    html = html_path.read_text(encoding="utf-8")
                    inlined = f"<script>{plotly_js}</script>" if plotly_js else None
                    if inlined and inlined in html and page.evaluate("() => typeof Plotly !== 'undefined'"):
                        # plotly.js put its stylesheet (modebar, .main-svg positions) into the warm-up page's
                        # head as it loaded; it goes with the old document, so the pack gets a copy of it.
                        styles = page.evaluate(_PLOTLY_STYLES)
                        page.evaluate("(html) => { document.open(); document.write(html); document.close(); }",
                                      html.replace(inlined, styles, 1))
                    else:
                        page.goto(html_path.resolve().as_uri())
                    page.wait_for_function("(n) => document.querySelectorAll('.main-svg').length >= n", arg=charts,
                                           timeout=30_000)
                    page.pdf(path=str(pdf_path), format="A4", landscape=True, print_background=True,
                             margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"})
                finally:
                    browser.close()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by result()
            self._error = exc

    def print(self, html_path: Path, pdf_path: Path, charts: int) -> None:
        self._jobs.put((html_path, pdf_path, charts))

    def cancel(self) -> None:
        self._jobs.put(None)

    def result(self) -> None:
        self.join()
        if self._error is not None:
            raise self._error


def print_pdf(html_path: Path, pdf_path: Path, charts: int) -> None:
    """Print the HTML with the system Chromium once its charts have drawn."""
    printer = PdfPrinter()
    printer.start()
    printer.print(html_path, pdf_path, charts)
    printer.result()
