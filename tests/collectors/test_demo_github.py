"""The demo's GitHub data, collected by the real GitHub collector from the local replay server, gives the
KPI values the demo intends (collectors/demo/github_data.py INTENDED_* tables, written by hand)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from collectors.__main__ import main as collectors_main
from collectors.demo import github_data as gh
from collectors.demo.build import build_demo
from collectors.demo.github_replay import ReplayServer
from db.engine import make_engine
from db.queries import load_source_frames
from metrics.engagement import SourceData, compute
from metrics.engagement_file import load_engagement
from tests.support.paths import ROOT


@pytest.fixture(scope="module")
def weekly(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_gh")
    toml = build_demo(out)
    url = f"sqlite:///{out / 'baton.db'}"
    with ReplayServer() as server:
        gh.demo_repo().script(server)
        gh.add_github_source(toml, server.base_url)
        assert collectors_main(["collect", "--config", str(toml), "--db", url, "--quiet"]) == 0
        assert server.unmatched == []
    m = compute(load_engagement(toml), SourceData(**load_source_frames(make_engine(url))))
    return m.weekly[m.weekly["capability"].isna()].set_index(["kpi", "week"])


def test_demo_pr_review_and_two_key_values(weekly):
    for week, (i, v, u, b) in gh.INTENDED_PR_SHARE.items():
        row = weekly.loc[("internal_pr_share", week)]
        assert (row["internal"], row["vendor"], row["unattributed"], row["bots"]) == (i, v, u, b), week
        assert row["value"] == pytest.approx(i / (i + v))
    for week, (i, v) in gh.INTENDED_REVIEW_SHARE.items():
        row = weekly.loc[("internal_review_share", week)]
        assert (row["internal"], row["vendor"]) == (i, v), week
    for week, (ok, n) in gh.INTENDED_TWO_KEY.items():
        row = weekly.loc[("two_key_compliance", week)]
        assert (row["n"], row["value"]) == (n, pytest.approx(ok / n)), week


def test_demo_train_share_and_time_to_retrain(weekly):
    for week, (i, v, scheduled) in gh.INTENDED_TRAIN_SHARE.items():
        row = weekly.loc[("internal_train_share", week)]
        assert (row["internal"], row["vendor"], row["scheduled"]) == (i, v, scheduled), week
    for week, (median, p90, n, internal) in gh.INTENDED_TIME_TO_RETRAIN.items():
        row = weekly.loc[("time_to_retrain", week)]
        assert (row["value"], row["p90"], row["n"], row["internal"]) == (
            pytest.approx(median), pytest.approx(p90), n, internal), week


def test_demo_github_command_serves_until_stopped(tmp_path):
    toml = build_demo(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "collectors", "demo-github", "--config", str(toml)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("Serving the demo's GitHub data on http://127.0.0.1:")
        assert f'base_url = "{line.split(" on ")[1].strip()}"' in toml.read_text()
        url = f"sqlite:///{tmp_path / 'baton.db'}"
        out = subprocess.run([sys.executable, "-m", "collectors", "collect", "--config", str(toml), "--db", url,
                              "--quiet"], cwd=ROOT, capture_output=True, text=True, env={**os.environ})
        assert out.returncode == 0, out.stderr
        assert "github client/fraud-model: 20 PRs, 29 reviews, 26 runs written" in out.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
