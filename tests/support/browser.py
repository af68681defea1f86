"""Running `streamlit run app.py` for a browser test and waiting for a page to settle (system Chromium only)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from tests.support.paths import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
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


@contextmanager
def streamlit_app(config: Path, db_url: str, log_dir: Path, cwd: Path = ROOT):
    """The app on a free port of 127.0.0.1 (its base URL), always terminated. `cwd` is where Streamlit looks for
    `.streamlit/secrets.toml`; the app is always the repository's."""
    port = free_port()
    env = {**os.environ, "BATON_CONFIG": str(config), "BATON_DB_URL": db_url}
    with open(log_dir / "streamlit.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, proc)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


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
        arg=charts, timeout=30_000)
    page.wait_for_timeout(500)


def assert_no_exception(page) -> None:
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, exceptions.first.inner_text()
