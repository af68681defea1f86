"""environment_rebuild (SPEC §11): successful / completed attempts of the `[pipeline].rebuild` workflows per week of
creation, by triggering side. Hand-computed tables: a small engagement, the demo, and real recorded runs
(DevLake's panjf2000/ants Lint workflow standing in for a rebuild)."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from collectors.demo import github_data as gh
from metrics.engagement import SourceData, compute
from metrics.engagement_file import parse_engagement
from metrics.service import evidence
from tests.support.system_kpis import (
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

KPI = "environment_rebuild"

RUNS = [
    run(30, "rebuild-env.yml", "iortiz", "2026-09-08T08:00Z", updated="2026-09-08T09:00Z", conclusion="failure"),
    run(31, "rebuild-env.yml", "iortiz", "2026-09-09T08:00Z", updated="2026-09-09T09:30Z"),
    run(32, "rebuild-env.yml", "marco", "2026-09-10T08:00Z", updated="2026-09-10T08:40Z"),
    run(33, "rebuild-env.yml", "pnair", "2026-09-11T08:00Z", conclusion=None),  # running: shown, not counted
    run(34, "rebuild-env.yml", "marco", "2026-09-15T08:00Z", updated="2026-09-15T08:30Z", conclusion="cancelled"),
    run(34, "rebuild-env.yml", "pnair", "2026-09-15T08:00Z", attempt=2, started="2026-09-16T07:00Z",
        updated="2026-09-16T08:00Z"),  # Priya's re-run: an attempt of its own, week of the run's creation
    run(35, "docker-build.yml", "marco", "2026-09-15T09:00Z", updated="2026-09-15T09:10Z"),  # not configured
]
# week -> (successful, completed, internal, vendor)
EXPECTED = {1: (2, 3, 2, 1), 2: (1, 2, 1, 1)}


def test_success_share_and_sides_by_hand():
    m = metrics(config(), RUNS)
    for week, (ok, done, internal, vendor) in EXPECTED.items():
        r = row(m, KPI, week)
        assert (r["value"], r["successful"], r["n"], r["internal"], r["vendor"]) == (
            pytest.approx(ok / done), ok, done, internal, vendor), week
    r3 = row(m, KPI, 3)
    assert math.isnan(r3["value"]) and r3["n"] == 0
    rows = evidence(m, KPI, 1)
    assert rows[["id", "counted"]].values.tolist() == [["30/1", True], ["31/1", True], ["32/1", True],
                                                       ["33/1", False]]
    assert "still running" in rows.iloc[3]["title"]
    assert reconciliation_problems(m, KPI) == []


def test_demo_values():
    m = demo()
    for week, (ok, done) in gh.INTENDED_REBUILD.items():
        r = row(m, KPI, week)
        assert (r["value"], r["successful"], r["n"], r["internal"]) == (pytest.approx(ok / done), ok, done, done)
    assert (m.weekly.loc[(m.weekly["kpi"] == KPI) & (m.weekly["week"] != 7), "n"] == 0).all()
    assert reconciliation_problems(m, KPI) == []


@needs_samples
def test_devlake_lint_runs_by_triggering_actor(tmp_path):
    """panjf2000/ants Lint (lint.yml), read from the recording: week of 27 Jun 2022: 2566218977 (push, failure) and
    2589885639 (attempt 2, success; first attempt by hanfezh, re-run by panjf2000); before it, 2559400713 (attempt 2,
    success, re-run by panjf2000 of zqkgo's PR)."""
    frames = collect_recorded(tmp_path, devlake_runs())
    people = [{"name": "Andy", "github": ["panjf2000"], "affiliations": [{"side": "internal"}]},
              {"name": "Han", "github": ["hanfezh"], "affiliations": [{"side": "vendor"}]},
              {"name": "Zq", "github": ["zqkgo"], "affiliations": [{"side": "vendor"}]}]
    cfg = parse_engagement({"engagement": {"name": "ants", "start": dt.date(2022, 6, 27), "weeks": 1},
                            "people": people, "pipeline": {"rebuild": {"workflows": ["lint.yml"]}}})
    m = compute(cfg, SourceData(**frames), today=dt.datetime(2022, 7, 4, tzinfo=dt.UTC))
    w1, w0 = row(m, KPI, 1), row(m, KPI, 0)
    assert (w1["value"], w1["n"], w1["internal"], w1["vendor"]) == (0.5, 2, 2, 0)
    assert (w0["value"], w0["n"], w0["internal"]) == (1.0, 1, 1)
    assert reconciliation_problems(m, KPI) == []
