"""Shared inputs of the SPEC §11 KPI tests (tests/metrics/kpis/test_<key>.py, tests/pages/test_binder_page.py): a
small engagement, builders of workflow-run and JUnit frames in the shapes db.queries reads, the demo engagement
collected once per session, and real GitHub Actions recordings (../shared/api-samples) collected through the real
GitHub collector."""

from __future__ import annotations

import atexit
import csv
import datetime as dt
import functools
import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from metrics.engagement import EngagementMetrics, SourceData, compute
from metrics.engagement_file import parse_engagement
from metrics.service import reconcile
from tests.support.paths import SAMPLES as BESIDE_CLONE

SAMPLES = BESIDE_CLONE
if not SAMPLES.is_dir():  # a worktree one level deeper than the main checkout: the main checkout's neighbour
    SAMPLES = Path("/work/shared/api-samples")
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"recordings not present at {SAMPLES}")

START = dt.date(2026, 9, 7)  # a Monday; Europe/Berlin is UTC+2 until 25 Oct
PEOPLE = [
    {"name": "Ines", "emails": ["ines@client.com"], "github": ["iortiz"],
     "affiliations": [{"side": "internal", "org": "Client"}]},
    {"name": "Priya", "github": ["pnair"], "affiliations": [{"side": "internal", "org": "Client"}]},
    {"name": "Marco", "emails": ["marco@acme-consulting.com"], "github": ["marco"],
     "affiliations": [{"side": "vendor", "org": "Acme"}]},
    {"name": "Tom", "github": ["tbecker"],
     "affiliations": [{"side": "vendor", "org": "Acme", "until": dt.date(2026, 9, 21)},
                      {"side": "internal", "org": "Client", "from": dt.date(2026, 9, 21)}]},
]
PIPELINE = {"data_cut": {"workflows": ["data-cut.yml"], "tags": ["data-v*"]}, "train": {"workflows": ["train.yml"]},
            "deploy": {"workflows": ["deploy.yml", "deploy-staging.yml"]}, "rollback": {"workflows": ["rollback.yml"]},
            "eval": {"workflows": ["eval.yml"]}, "rebuild": {"workflows": ["rebuild-env.yml"]}}


def config(weeks: int = 3, **extra):
    return parse_engagement({
        "engagement": {"name": "Systems", "start": START, "weeks": weeks, "timezone": "Europe/Berlin"},
        "people": PEOPLE, "classify": {"internal_email_domains": ["client.com"]},
        "capabilities": [{"key": "training", "paths": ["train/**"]}], "pipeline": PIPELINE, **extra})


def T(text: str | None) -> pd.Timestamp:
    """A UTC instant from ISO text ("2026-09-08T08:00Z"); NaT for None."""
    if text is None:
        return pd.NaT
    stamp = pd.Timestamp(text)
    return stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")


def run(run_id: int, workflow: str, login: str | None, created: str, *, attempt: int = 1, started: str | None = "=",
        updated: str | None = None, conclusion: str | None = "success", head_sha: str | None = None,
        branch: str = "main", event: str = "workflow_dispatch", actor: str | None = None) -> dict:
    """One stored attempt (times UTC, ISO); `started` "=" means the creation time, None a payload without it."""
    return {"source_id": 1, "repo": "acme/model", "run_id": run_id, "run_attempt": attempt,
            "workflow_path": f".github/workflows/{workflow}", "name": workflow.removesuffix(".yml"),
            "display_title": f"run {run_id}", "event": event, "actor_login": actor or login, "actor_type": "User",
            "triggering_login": login, "triggering_type": "User", "head_sha": head_sha or f"sha{run_id}",
            "head_branch": branch, "status": "completed" if conclusion else "in_progress", "conclusion": conclusion,
            "created_at": T(created), "run_started_at": T(created if started == "=" else started),
            "updated_at": T(updated or created), "html_url": f"https://github.com/acme/model/actions/runs/{run_id}"}


def runs_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def junit(run_id: int, completed: str, tests: int, failures: int = 0, skipped: int = 0, attempt: int = 1) -> dict:
    return {"source_id": 1, "repo": "acme/model", "run_id": run_id, "run_attempt": attempt,
            "workflow_path": ".github/workflows/eval.yml", "completed_at": T(completed), "artifacts": 1,
            "reports": 1, "tests": tests, "failures": failures, "skipped": skipped, "problems": "",
            "html_url": f"https://github.com/acme/model/actions/runs/{run_id}"}


EMPTY_COMMITS = ["source_id", "repo", "sha", "parents", "is_merge", "name", "email", "at", "committed_at"]


def metrics(cfg, runs: list[dict], junit_rows: list[dict] | None = None, tags: pd.DataFrame | None = None,
            today: dt.datetime | None = None) -> EngagementMetrics:
    """compute() over CI runs (and JUnit runs, tags) only: no commits."""
    data = SourceData(commits=pd.DataFrame(columns=EMPTY_COMMITS),
                      commit_files=pd.DataFrame(columns=["source_id", "sha", "path", "old_path"]),
                      workflow_runs=runs_frame(runs), junit_runs=pd.DataFrame(junit_rows or []),
                      tags=tags if tags is not None else pd.DataFrame())
    return compute(cfg, data, today=today or dt.datetime(2026, 10, 1, tzinfo=dt.UTC))


def row(m: EngagementMetrics, key: str, week: int, capability: str | None = None) -> pd.Series:
    found = m.kpi_row(key, week, capability)
    assert found is not None, (key, week, capability)
    return found


def reconciliation_problems(m: EngagementMetrics, key: str) -> list[str]:
    """Every weekly row of `key` (engagement-wide and per capability) against its evidence rows."""
    rows = m.weekly[m.weekly["kpi"] == key]
    problems = []
    for week, cap in zip(rows["week"], rows["capability"], strict=True):
        problems += reconcile(m, key, int(week), cap)
    return problems


# --------------------------------------------------------------------------------------------------------
# The demo, collected once per test session (git + its GitHub, Jira and MLflow recordings)
# --------------------------------------------------------------------------------------------------------

def demo() -> EngagementMetrics:
    """The demo's metrics, computed from its collected database (collected once per session)."""
    return demo_engagement()[2]


@functools.cache
def demo_engagement() -> tuple[Path, str, EngagementMetrics]:
    """(engagement file, database URL, metrics) of the demo, collected once per session."""
    from metrics.service import load
    from tests.support.demo_template import copy_demo

    out = Path(tempfile.mkdtemp(prefix="baton-demo-system-"))
    atexit.register(shutil.rmtree, out, True)
    toml = copy_demo(out)  # self-contained: git, and GitHub/Jira/MLflow recordings its sources replay
    url = f"sqlite:///{out / 'baton.db'}"
    return toml, url, load(toml, url)[2]


# --------------------------------------------------------------------------------------------------------
# Real GitHub Actions payloads, collected by the real collector from the replay server
# --------------------------------------------------------------------------------------------------------

def devlake_runs() -> list[dict]:
    """The 35 workflow runs DevLake recorded from api.github.com for panjf2000/ants (each object once)."""
    csv.field_size_limit(10**9)
    with open(SAMPLES / "devlake-raw-tables" / "github" / "_raw_github_api_runs.csv", newline="",
              encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    seen, out = set(), []
    for r in rows:
        data = json.loads(r["data"])
        if data["id"] not in seen:
            seen.add(data["id"])
            out.append(data)
    return out


def collect_recorded(tmp_path: Path, runs: list[dict], *, full_name: str = "panjf2000/ants", repo_id: int = 98765,
                     junit_workflows: list[str] | None = None, artifacts: dict | None = None) -> dict:
    """Serve `runs` (recorded run objects) as a repository's Actions runs, collect them with the real GitHub
    collector (earlier attempts GitHub no longer has are skipped, as on api.github.com), and return the frames."""
    from collectors.demo.github_fixtures import FakeRepo
    from collectors.demo.github_replay import ReplayServer
    from collectors.github.client import GitHubClient
    from collectors.github.source import collect_github
    from db.engine import make_engine
    from db.queries import load_source_frames

    repo = FakeRepo(full_name=full_name, repo_id=repo_id)
    repo.runs = runs
    repo.artifacts = artifacts or {}
    engine = make_engine(f"sqlite:///{tmp_path / 'recorded.db'}")
    with ReplayServer() as server:
        repo.script(server)
        # no token, and no pause between requests: the quarter second kept for api.github.com is only waiting here
        client = GitHubClient(server.base_url, None, max_wait=1, seconds_between_requests=0)
        collect_github(engine, full_name, server.base_url, "BATON_TEST_NO_TOKEN", max_wait=1, client=client,
                       junit_workflows=junit_workflows or [])
    return load_source_frames(engine)
