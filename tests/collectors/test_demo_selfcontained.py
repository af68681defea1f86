"""The self-contained demo (issue 8 item 4): `python -m collectors demo --out D` writes the git repository, the
recordings and an engagement file whose every source collects with plain `collect`, any number of times,
with no server, no network and no token warning; every SPEC §5 and §11 KPI then has values. A rebuild keeps an
edited engagement file unless forced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from collectors.git.blame import week_end_instants
from engagement.config import load_config

ROOT = Path(__file__).resolve().parents[2]
SPEC_KPIS = {"internal_pr_share", "internal_commit_share", "internal_review_share", "internal_train_share",
             "time_to_retrain", "runbook_completion", "drill_outcome", "eval_coverage", "two_key_compliance",
             "internal_line_share", "exit_readiness", "raci_drift",  # §10's weekly series
             # SPEC §11 (takeover_weeks is per capability: checked apart)
             "artifact_completeness", "rehearsal_retrain", "rollback_time", "train_run_minutes", "eval_pass_rate",
             "environment_rebuild"}
# Any request to a real site would go through this dead proxy and fail: the demo must not need the network.
NO_NETWORK = {**os.environ, "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
              "GITHUB_TOKEN": "", "DEMO_JIRA_TOKEN": ""}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=NO_NETWORK, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo-self") / "demo"
    built = cli("collectors", "demo", "--out", str(out))
    assert built.returncode == 0, built.stderr
    assert built.stdout.strip() == str(out / "engagement.toml")
    return out


def test_demo_collects_twice_from_its_recordings_with_no_server_and_no_warning(demo):
    toml = demo / "engagement.toml"
    assert "127.0.0.1" not in toml.read_text()  # nothing points at a local server
    first = cli("collectors", "collect", "--config", str(toml), "--quiet")
    second = cli("collectors", "collect", "--config", str(toml), "--quiet")
    for run in (first, second):
        assert run.returncode == 0, run.stderr
        assert run.stderr.strip().splitlines() == [f"Collecting into sqlite:///{demo / 'baton.db'}"]  # no warning
    # surviving lines at every week end from week 0 to the current one (the clock's): after the demo's last commit
    # each week end is the tip, one tree
    ends = len(week_end_instants(load_config(toml)))
    assert first.stdout.splitlines() == [
        "git fraud-model: 212 commits read (full walk), 0 removed, 0 tags, tip d07d2cc0f198",
        "git fraud-model: 23 evaluation tests at the tip",
        "git fraud-model: 12 binder files at the tip",
        f"git fraud-model: surviving lines at {ends} week ends: 9 new trees, 192 files blamed, 111 reused",
        "github client/fraud-model: 20 PRs, 29 reviews, 36 runs written; calls used: 55 (0 not modified)",
        "github client/fraud-model: JUnit reports of 3 new completed runs examined",
        "jira fraud-model Jira: 12 issues seen, 12 fetched, cursor 2026-10-27T09:00:00",
        "mlflow mlflow: 1 experiments, 17 runs read (0 still running), 1 models, 3 versions, 2 registry changes; "
        "calls used: 5"]
    assert second.stdout.splitlines() == [
        "git fraud-model: 0 commits read (incremental), 0 removed, 0 tags, tip d07d2cc0f198",
        "git fraud-model: 23 evaluation tests at the tip",
        "git fraud-model: 12 binder files at the tip",
        f"git fraud-model: surviving lines at {ends} week ends: 0 new trees, 0 files blamed, 0 reused",
        "github client/fraud-model: 0 PRs, 0 reviews, 0 runs written; calls used: 2 (2 not modified)",
        "github client/fraud-model: JUnit reports of 0 new completed runs examined",
        "jira fraud-model Jira: 1 issues seen, 0 fetched, cursor 2026-10-27T09:00:00",
        "mlflow mlflow: 1 experiments, 17 runs read (0 still running), 1 models, 3 versions, 0 registry changes; "
        "calls used: 5"]

    weekly = cli("metrics", "weekly", "--config", str(toml), "--format", "json")
    assert weekly.returncode == 0, weekly.stderr
    rows = json.loads(weekly.stdout)
    with_values = {r["kpi"] for r in rows if r["capability"] is None and r["value"] is not None}
    assert SPEC_KPIS <= with_values, SPEC_KPIS - with_values
    assert any(r["kpi"] == "takeover_weeks" and r["value"] is not None for r in rows)


def test_rebuild_keeps_an_edited_engagement_file_unless_forced(demo, tmp_path):
    out = tmp_path / "again"
    assert cli("collectors", "demo", "--out", str(out)).returncode == 0
    assert cli("collectors", "demo", "--out", str(out)).returncode == 0  # unedited: rebuilt as is
    toml = out / "engagement.toml"
    edited = toml.read_text().replace('name = "Fraud model handoff (demo)"', 'name = "Our pilot"')
    toml.write_text(edited)
    refused = cli("collectors", "demo", "--out", str(out))
    assert refused.returncode == 2
    assert refused.stderr.strip() == (f"error: {toml} was edited since the demo wrote it: not overwritten (rerun with "
                                      "--force to replace it and lose the edits, or use another --out)")
    assert toml.read_text() == edited
    forced = cli("collectors", "demo", "--out", str(out), "--force")
    assert forced.returncode == 0 and 'name = "Fraud model handoff (demo)"' in toml.read_text()
    assert (toml.read_text() == (demo / "engagement.toml").read_text())  # deterministic
    assert sorted(p.read_text() for p in (out / "recordings").iterdir()) == sorted(
        p.read_text() for p in (demo / "recordings").iterdir())
