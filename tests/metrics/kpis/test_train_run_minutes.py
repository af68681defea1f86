"""train_run_minutes (SPEC §11): minutes of each completed train attempt, run_started_at → updated_at, by the week it
started; weekly median, p90, total and cost. Hand-computed tables: a small engagement, the demo, and real recorded
GitHub Actions runs (DevLake's panjf2000/ants re-runs, PyGithub's attempt 2, hub4j's 2021 runs without
run_started_at)."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from collectors.demo import github_data as gh
from collectors.demo.github_replay import load_pygithub, load_wiremock
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

KPI = "train_run_minutes"

# Berlin is UTC+2. run id / attempt, trigger: created -> started -> updated (UTC), conclusion = minutes, week of start
RUNS = [
    run(10, "train.yml", "iortiz", "2026-09-08T08:00Z", updated="2026-09-08T09:30Z"),  # 90, w1
    run(11, "train.yml", "marco", "2026-09-08T10:00Z", updated="2026-09-08T10:30Z", conclusion="failure"),  # 30, w1
    # Ines re-runs 11 two days later: GitHub keeps created_at, resets run_started_at -> 60 min, not 49 h
    run(11, "train.yml", "iortiz", "2026-09-08T10:00Z", attempt=2, actor="marco", started="2026-09-10T07:00Z",
        updated="2026-09-10T08:00Z"),
    # created Sun 23:30 in Berlin (week 1), started Mon 00:30 (week 2): compute is spent in week 2 -> 120, w2
    run(12, "train.yml", "pnair", "2026-09-13T21:30Z", started="2026-09-13T22:30Z", updated="2026-09-14T00:30Z"),
    run(13, "train.yml", "iortiz", "2026-09-15T08:00Z", conclusion=None),  # still running: not a completed run
    # a re-run payload without run_started_at: its start is unknown (created_at is the first attempt's) -> shown only
    run(14, "train.yml", "marco", "2026-09-15T09:00Z", attempt=2, started=None, updated="2026-09-15T10:00Z"),
    run(15, "train.yml", "marco", "2026-09-16T02:00Z", updated="2026-09-16T02:45Z", event="schedule"),  # 45, w2
    run(16, "deploy.yml", "iortiz", "2026-09-16T08:00Z", updated="2026-09-16T09:00Z"),  # not a train run
]
# week -> (median, p90, n, total minutes, internal, vendor); cost = total x 0.5
# w1: [30, 60, 90] -> median 60, p90 = 60 + 0.8 x 30 = 84; w2: [45, 120] -> 82.5, p90 = 45 + 0.9 x 75 = 112.5
EXPECTED = {1: (60.0, 84.0, 3, 180.0, 2, 1), 2: (82.5, 112.5, 2, 165.0, 1, 1)}


def test_weekly_minutes_p90_total_and_cost_by_hand():
    m = metrics(config(cost={"per_minute": 0.5}), RUNS)
    for week, (median, p90, n, total, internal, vendor) in EXPECTED.items():
        r = row(m, KPI, week)
        assert (r["value"], r["p90"], r["n"], r["total_minutes"], r["cost"]) == (
            pytest.approx(median), pytest.approx(p90), n, pytest.approx(total), pytest.approx(total * 0.5)), week
        assert (r["internal"], r["vendor"], r["unattributed"], r["bots"]) == (internal, vendor, 0, 0), week
    w3 = row(m, KPI, 3)
    assert math.isnan(w3["value"]) and (w3["n"], w3["total_minutes"], w3["cost"]) == (0, 0.0, 0.0)
    assert reconciliation_problems(m, KPI) == []


def test_evidence_shows_the_untimed_rerun_without_counting_it():
    m = metrics(config(), RUNS)
    rows = evidence(m, KPI, 2)
    assert rows[["id", "counted", "minutes"]].astype(object).values.tolist()[:1] == [["12/1", True, 120.0]]
    untimed = rows[rows["id"] == "14/2"].iloc[0]
    assert not untimed["counted"] and "no known start" in untimed["title"]
    assert set(rows["id"]) == {"12/1", "14/2", "15/1"}  # 13 is still running, 16 deploys


def test_without_a_cost_rate_there_is_no_money():
    r = row(metrics(config(), RUNS), KPI, 1)
    assert r["total_minutes"] == 180.0 and ("cost" not in r or math.isnan(r["cost"]))


def test_demo_values():
    m = demo()
    for week, (median, p90, n, total, cost) in gh.INTENDED_TRAIN_MINUTES.items():
        r = row(m, KPI, week)
        assert (r["value"], r["p90"], r["n"], r["total_minutes"], r["cost"]) == (
            pytest.approx(median), pytest.approx(p90), n, pytest.approx(total), pytest.approx(cost)), week
    assert reconciliation_problems(m, KPI) == []


@needs_samples
def test_devlake_reruns_count_from_their_own_start(tmp_path):
    """panjf2000/ants "Tests" (ci.yml): two attempt-2 re-runs created a day before they started, one run still in
    progress. Read from the recording: 2559400714 started 2022-06-26T12:35:50Z, updated 12:41:24 (334 s);
    2589885628 started 2022-07-01T13:34:14Z, updated 13:40:47 (393 s); 2566218975 is in_progress."""
    frames = collect_recorded(tmp_path, devlake_runs())
    cfg = parse_engagement({"engagement": {"name": "ants", "start": dt.date(2022, 6, 26), "weeks": 2},
                            "people": [{"name": "Andy", "github": ["panjf2000"],
                                        "affiliations": [{"side": "internal"}]}],
                            "pipeline": {"train": {"workflows": ["ci.yml"]}}})
    from metrics.engagement import SourceData, compute

    m = compute(cfg, SourceData(**frames), today=dt.datetime(2022, 7, 10, tzinfo=dt.UTC))
    r = row(m, KPI, 1)
    assert (r["n"], r["internal"]) == (2, 2)  # triggered by panjf2000, first attempts by zqkgo / hanfezh
    assert r["value"] == pytest.approx((334 + 393) / 2 / 60)
    assert r["p90"] == pytest.approx((334 + 0.9 * (393 - 334)) / 60)
    assert r["total_minutes"] == pytest.approx((334 + 393) / 60)
    assert reconciliation_problems(m, KPI) == []


@needs_samples
def test_pygithub_attempt_two_counts_from_run_started_at(tmp_path):
    """PyGithub WorkflowRun.testGetAttempt: CodeQL run 26365060973 created 2026-05-24T15:20:04Z, attempt 2
    started 2026-05-29T15:42:05Z, updated 15:43:47Z: 102 s, in the week of 29 May (not 5 days in the week of 24)."""
    exchanges = load_pygithub(SAMPLES / "pygithub-replaydata" / "WorkflowRun.testGetAttempt.txt")
    body = json.loads(next(ex.body for ex in exchanges if ex.target.endswith("/actions/runs/26365060973")))
    frames = collect_recorded(tmp_path, [body], full_name="EnricoMi/PyGithub", repo_id=1)
    cfg = parse_engagement({"engagement": {"name": "x", "start": dt.date(2026, 5, 25), "weeks": 1},
                            "pipeline": {"train": {"workflows": ["codeql.yml"]}}})
    from metrics.engagement import SourceData, compute

    m = compute(cfg, SourceData(**frames), today=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    r = row(m, KPI, 1)
    assert (r["value"], r["n"], r["unattributed"]) == (pytest.approx(102 / 60), 1, 1)


@needs_samples
def test_hub4j_runs_without_run_started_at_start_at_creation(tmp_path):
    """hub4j GHWorkflowRunTest (2021 payloads: no run_started_at, no run_attempt): the ten "Slow workflow" runs of
    2021-03-22 (nine cancelled, one success), created -> updated in seconds, read from the recording:
    71, 71, 78, 74, 77, 72, 66, 66, 71, 354."""
    exchanges = load_wiremock(SAMPLES / "hub4j-github-api-wiremock" / "GHWorkflowRunTest" /
                              "testManualRunAndBasicInformation")
    listed = [ex for ex in exchanges if ex.target.split("?")[0].endswith("/actions/runs")]
    runs = json.loads(listed[-1].body)["workflow_runs"]
    frames = collect_recorded(tmp_path, runs, full_name="hub4j-test-org/GHWorkflowRunTest", repo_id=2)
    cfg = parse_engagement({"engagement": {"name": "x", "start": dt.date(2021, 3, 22), "weeks": 1},
                            "pipeline": {"train": {"workflows": ["Slow workflow"]}}})
    from metrics.engagement import SourceData, compute

    m = compute(cfg, SourceData(**frames), today=dt.datetime(2021, 4, 1, tzinfo=dt.UTC))
    r = row(m, KPI, 1)
    seconds = sorted([71, 71, 78, 74, 77, 72, 66, 66, 71, 354])
    assert r["n"] == 10 and r["total_minutes"] == pytest.approx(sum(seconds) / 60)
    assert r["value"] == pytest.approx((71 + 72) / 2 / 60)  # 5th and 6th of the ten
    assert r["p90"] == pytest.approx((78 + 0.1 * (354 - 78)) / 60)
