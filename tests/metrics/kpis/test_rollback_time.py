"""rollback_time (SPEC §11): per rollback run, from its creation to the completion of its first successful attempt;
weekly median, open cycles counted in n. Hand-computed tables: a small engagement, the demo, and real recorded
GitHub Actions runs (PyGithub's attempt 2 five days after creation, DevLake's panjf2000/ants CodeQL runs)."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from collectors.demo import github_data as gh
from collectors.demo.github_replay import load_pygithub
from metrics.engagement import SourceData, compute
from metrics.engagement_file import parse_engagement
from metrics.service import evidence
from tests.support.system_kpis import (
    SAMPLES,
    collect_recorded,
    config,
    demo,
    devlake_runs,
    metrics,
    needs_samples,
    reconciliation_problems,
    row,
    run,
)

KPI = "rollback_time"

RUNS = [
    # Tom (vendor until 21 Sep) starts a rollback that fails; Ines re-runs it: 12:00 -> 12:45 = 45 min, internal
    run(20, "rollback.yml", "tbecker", "2026-09-09T12:00Z", updated="2026-09-09T12:10Z", conclusion="failure"),
    run(20, "rollback.yml", "iortiz", "2026-09-09T12:00Z", attempt=2, actor="tbecker", started="2026-09-09T12:30Z",
        updated="2026-09-09T12:45Z"),
    run(21, "rollback.yml", "marco", "2026-09-10T08:00Z", updated="2026-09-10T08:20Z"),  # 20 min, vendor
    # attempt 2 as GitHub's /attempts/2 reports it (its own created_at): the cycle opens at the first attempt
    run(24, "rollback.yml", "pnair", "2026-09-15T09:00Z", updated="2026-09-15T09:10Z", conclusion="failure"),
    run(24, "rollback.yml", "pnair", "2026-09-16T10:00Z", attempt=2, updated="2026-09-16T10:30Z"),  # 25.5 h
    run(22, "rollback.yml", "tbecker", "2026-09-22T08:00Z", updated="2026-09-22T08:05Z", conclusion="failure"),
    run(23, "rollback.yml", "marco", "2026-09-23T09:00Z", conclusion=None),  # still running: open
    run(25, "deploy.yml", "marco", "2026-09-23T10:00Z", updated="2026-09-23T10:05Z"),  # not a rollback
]
# week -> (median minutes of the closed cycles, cycles, open, internal, vendor)
EXPECTED = {1: (32.5, 2, 0, 1, 1), 2: (1530.0, 1, 0, 1, 0), 3: (None, 2, 2, 1, 1)}


def test_weekly_median_open_cycles_and_sides_by_hand():
    m = metrics(config(), RUNS)
    for week, (median, n, still_open, internal, vendor) in EXPECTED.items():
        r = row(m, KPI, week)
        assert (math.isnan(r["value"]) if median is None else r["value"] == pytest.approx(median)), week
        assert (r["n"], r["open"], r["internal"], r["vendor"]) == (n, still_open, internal, vendor), week
    assert reconciliation_problems(m, KPI) == []


def test_evidence_lists_each_cycle_with_its_attempts():
    m = metrics(config(), RUNS)
    rows = evidence(m, KPI, 1)
    assert rows[["id", "person", "side", "minutes", "attempts"]].astype(object).values.tolist() == [
        ["20", "Ines", "internal", 45.0, 2], ["21", "Marco", "vendor", 20.0, 1]]
    open_rows = evidence(m, KPI, 3)
    assert open_rows["title"].str.contains("open").all() and open_rows["counted"].all()


def test_demo_values():
    m = demo()
    for week, (median, n, still_open, side) in gh.INTENDED_ROLLBACK.items():
        r = row(m, KPI, week)
        assert (math.isnan(r["value"]) if median is None else r["value"] == pytest.approx(median)), week
        assert (r["n"], r["open"], r[side]) == (n, still_open, n), week
    others = m.weekly[(m.weekly["kpi"] == KPI) & ~m.weekly["week"].isin(list(gh.INTENDED_ROLLBACK))]
    assert (others["n"] == 0).all()
    assert reconciliation_problems(m, KPI) == []


@needs_samples
def test_pygithub_rerun_five_days_later_counts_from_creation(tmp_path):
    """PyGithub WorkflowRun.testGetAttempt: run 26365060973 created 2026-05-24T15:20:04Z; its attempt 2 succeeded at
    2026-05-29T15:43:47Z (run_started_at 15:42:05): the rollback took 5 days 23 min 43 s, not 102 s."""
    exchanges = load_pygithub(SAMPLES / "pygithub-replaydata" / "WorkflowRun.testGetAttempt.txt")
    body = json.loads(next(ex.body for ex in exchanges if ex.target.endswith("/actions/runs/26365060973")))
    frames = collect_recorded(tmp_path, [body], full_name="EnricoMi/PyGithub", repo_id=1)
    cfg = parse_engagement({"engagement": {"name": "x", "start": dt.date(2026, 5, 18), "weeks": 2},
                            "pipeline": {"rollback": {"workflows": ["codeql.yml"]}}})
    m = compute(cfg, SourceData(**frames), today=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    r = row(m, KPI, 1)  # created Sunday 24 May: week 1
    assert (r["value"], r["n"], r["open"]) == (pytest.approx(5 * 24 * 60 + 23 + 43 / 60), 1, 0)


@needs_samples
def test_devlake_codeql_runs_as_rollbacks(tmp_path):
    """panjf2000/ants CodeQL runs, read from the recording. Week of 27 Jun 2022: 2566218976 (push, 01:29:54 ->
    01:30:55, 61 s), 2589885635 (attempt 2, failure: open), 2600408985 (schedule, 05:05:26 -> 05:06:23, 57 s).
    Week of 4 Jul: 2639945362 (05:02:44 -> 05:03:48, 64 s). Before: 2559400712, created 2022-06-25T04:17:45Z,
    attempt 2 succeeded 2022-06-26T12:36:58Z."""
    frames = collect_recorded(tmp_path, devlake_runs())
    cfg = parse_engagement({"engagement": {"name": "ants", "start": dt.date(2022, 6, 27), "weeks": 2},
                            "pipeline": {"rollback": {"workflows": ["codeql.yml"]}}})
    m = compute(cfg, SourceData(**frames), today=dt.datetime(2022, 7, 11, tzinfo=dt.UTC))
    w1, w2 = row(m, KPI, 1), row(m, KPI, 2)
    assert (w1["value"], w1["n"], w1["open"]) == (pytest.approx((61 + 57) / 2 / 60), 3, 1)
    assert (w2["value"], w2["n"], w2["open"]) == (pytest.approx(64 / 60), 1, 0)
    early = m.facts.rollbacks.set_index("run_id").loc[2559400712]
    assert early["minutes"] == pytest.approx(32 * 60 + 19 + 13 / 60)  # 04:17:45 -> next day 12:36:58
    assert reconciliation_problems(m, KPI) == []
