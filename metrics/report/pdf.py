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


class PdfPrinter(threading.Thread):
    """Prints the pack's HTML with the system Chromium. Started before the HTML exists, so launching the browser
    (about a second) overlaps with the Python side computing the metrics and the pack. `print(html, pdf, charts)`
    hands over the job; `cancel()` says there is none; `result()` waits and re-raises the browser's error, if
    any. (A warm-up page parsing plotly.js ahead was tried: on two shared cores it cost more CPU than it saved.)"""

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
                    job = self._jobs.get()
                    if job is None:
                        return
                    html_path, pdf_path, charts = job
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
