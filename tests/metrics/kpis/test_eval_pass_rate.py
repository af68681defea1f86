"""eval_pass_rate (SPEC §11): share of evaluation testcases passed in the week's latest JUnit run on the tracked
branch, with silent releases (successful non-staging deploys whose commit had no passing evaluation before them)
beside it. Hand-computed tables: a small engagement, the demo, and real recorded runs (DevLake's panjf2000/ants,
with a real pytest JUnit report served as the Tests run's artifact and collected by the real JUnit collector)."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile

import pytest

from collectors.demo import github_data as gh
from metrics.engagement import SourceData, compute
from metrics.engagement_file import parse_engagement
from metrics.service import evidence
from tests.support.system_kpis import (
    SAMPLES,
    collect_recorded,
    config,
    demo,
    devlake_runs,
    junit,
    metrics,
    needs_samples,
    reconciliation_problems,
    row,
    run,
)

KPI = "eval_pass_rate"

RUNS = [
    run(40, "eval.yml", "iortiz", "2026-09-08T12:00Z", updated="2026-09-08T12:20Z", head_sha="aaa"),  # passing eval
    run(41, "deploy.yml", "marco", "2026-09-08T13:00Z", updated="2026-09-08T13:30Z", head_sha="aaa"),  # gated
    run(42, "eval.yml", "pnair", "2026-09-11T09:00Z", updated="2026-09-11T09:15Z", conclusion="failure",
        head_sha="bbb"),  # JUnit 10 testcases, 2 failed, 1 skipped: the week's latest on main
    run(43, "deploy.yml", "marco", "2026-09-11T09:20Z", updated="2026-09-11T09:40Z", head_sha="bbb"),  # silent
    run(44, "deploy.yml", "iortiz", "2026-09-11T10:00Z", updated="2026-09-11T10:05Z", conclusion="failure",
        head_sha="ddd"),  # a failed deploy released nothing
    run(45, "eval.yml", "marco", "2026-09-11T10:00Z", updated="2026-09-11T10:10Z", head_sha="ccc",
        branch="feature-x"),  # JUnit 12/12 passing, on a feature branch: gates its commit, not in the rate
    run(46, "deploy.yml", "iortiz", "2026-09-12T08:00Z", updated="2026-09-12T08:30Z", head_sha="ccc"),  # gated
    run(47, "deploy.yml", "iortiz", "2026-09-12T09:00Z", updated="2026-09-12T09:20Z", head_sha="eee"),  # silent:
    run(48, "eval.yml", "iortiz", "2026-09-12T09:10Z", updated="2026-09-12T09:30Z", head_sha="eee"),  # ... too late
    run(49, "deploy-staging.yml", "iortiz", "2026-09-12T11:00Z", updated="2026-09-12T11:10Z", head_sha="fff"),
    run(50, "deploy.yml", "iortiz", "2026-09-12T12:00Z", updated="2026-09-12T12:10Z", conclusion="failure",
        head_sha="ggg"),
    run(50, "deploy.yml", "iortiz", "2026-09-12T12:00Z", attempt=2, started="2026-09-12T12:30Z",
        updated="2026-09-12T12:40Z", head_sha="ggg"),  # one release (silent), however many attempts
    run(51, "eval.yml", "pnair", "2026-09-15T08:00Z", updated="2026-09-15T08:30Z", conclusion="failure"),
    run(52, "eval.yml", "pnair", "2026-09-16T08:00Z", updated="2026-09-16T08:30Z"),
]
JUNIT = [junit(42, "2026-09-11T09:15Z", 10, 2, 1), junit(45, "2026-09-11T10:10Z", 12),
         junit(51, "2026-09-15T08:30Z", 11, 5), junit(52, "2026-09-16T08:30Z", 12, 0, 2)]
# week -> (passed, testcases, failed, skipped, silent releases)
# w1: run 42 (45 is later but on feature-x): 10 - 2 - 1 = 7; silent 43, 47, 50 (41 and 46 gated; 44 failed; 49 staging)
# w2: run 52 is the latest: 12 - 0 - 2 = 10
EXPECTED = {1: (7, 10, 2, 1, 3), 2: (10, 12, 0, 2, 0)}


def test_pass_rate_and_silent_releases_by_hand():
    m = metrics(config(), RUNS, JUNIT)
    for week, (passed, tests, failed, skipped, silent) in EXPECTED.items():
        r = row(m, KPI, week)
        assert (r["value"], r["n"], r["passed"], r["failed"], r["skipped"], r["silent_releases"]) == (
            pytest.approx(passed / tests), tests, passed, failed, skipped, silent), week
    r3 = row(m, KPI, 3)
    assert math.isnan(r3["value"]) and r3["silent_releases"] == 0
    assert reconciliation_problems(m, KPI) == []


def test_evidence_counts_the_junit_run_and_shows_each_release():
    rows = evidence(metrics(config(), RUNS, JUNIT), KPI, 1)
    junit_rows = rows[rows["counted"]]
    assert junit_rows[["id", "count"]].values.tolist() == [["42/1", 10]]
    releases = rows[rows["kind"] == "release"].set_index("id")
    assert not releases["counted"].any()
    assert releases["silent"].to_dict() == {"41/1": False, "43/1": True, "46/1": False, "47/1": True, "50/2": True}
    assert "gated by evaluation run 40" in releases.loc["41/1", "title"]


def test_demo_values():
    m = demo()
    for week, (passed, tests) in gh.INTENDED_EVAL_PASS.items():
        r = row(m, KPI, week)
        assert (r["value"], r["n"], r["passed"]) == (pytest.approx(passed / tests), tests, passed), week
    silent = m.weekly[m.weekly["kpi"] == KPI].set_index("week")["silent_releases"]
    assert silent[silent > 0].to_dict() == gh.INTENDED_SILENT_RELEASES
    assert reconciliation_problems(m, KPI) == []


def _zip(path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("junit.xml", path.read_bytes())
    return buf.getvalue()


@needs_samples
def test_devlake_runs_with_a_real_junit_report(tmp_path):
    """panjf2000/ants: the pytest report junit.fail.xml served as the artifact of "Tests" run 2589885628 (attempt 2,
    head_branch master, completed 2022-07-01T13:40:47Z); CodeQL as the deploy workflow. Silent releases read from
    the recording: week of 27 Jun: 2566218976 (push, success) and 2600408985 (schedule, success), both of commit
    32664cb, which no passing evaluation covers (its Tests run is still in progress); 2589885635 failed.
    Week of 4 Jul: 2639945362."""
    sample = SAMPLES / "junit-xml" / "pytest" / "junit.fail.xml"
    text = sample.read_bytes()
    cases = len(re.findall(rb"<testcase\b", text))
    failed = len(re.findall(rb"<failure\b", text)) + len(re.findall(rb"<error\b", text))
    skipped = len(re.findall(rb"<skipped\b", text))
    frames = collect_recorded(tmp_path, devlake_runs(), junit_workflows=["ci.yml"],
                              artifacts={2589885628: [(1, "junit", _zip(sample))], 2559400714: []})
    cfg = parse_engagement({"engagement": {"name": "ants", "start": dt.date(2022, 6, 27), "weeks": 2},
                            "pipeline": {"deploy": {"workflows": ["codeql.yml"]}}})
    m = compute(cfg, SourceData(**frames), today=dt.datetime(2022, 7, 11, tzinfo=dt.UTC))
    w1, w2 = row(m, KPI, 1), row(m, KPI, 2)
    assert (w1["n"], w1["failed"], w1["skipped"]) == (cases, failed, skipped)
    assert w1["value"] == pytest.approx((cases - failed - skipped) / cases)
    assert (w1["silent_releases"], w2["silent_releases"]) == (2, 1)
    assert reconciliation_problems(m, KPI) == []
