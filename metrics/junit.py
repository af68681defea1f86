"""eval_coverage from JUnit XML reports (collected by collectors/github/junit.py), with the git count as fallback.

A week's JUnit count is the `tests` of the latest completed run (by completion time, bucketed into the
engagement week in the engagement timezone) of a configured JUnit workflow that produced at least one
readable report, summed over repositories. Weeks with such a run take the JUnit count; the other weeks
keep the count of test functions in git (metrics/quality.py).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from engagement.config import EngagementConfig
from engagement.weeks import current_week, local_dates, week_of
from metrics.quality import COLUMNS, eval_coverage

JUNIT_COLUMNS = ["source_id", "repo", "run_id", "run_attempt", "workflow_path", "completed_at", "week", "reports",
                 "tests", "failures", "skipped", "problems", "link"]


EVAL_COLUMNS = ["source_id", "week", "path", "sha", "tests"]


def eval_tests_by_week(changes: pd.DataFrame, cfg: EngagementConfig, now: dt.datetime | None = None) -> pd.DataFrame:
    """Evaluation tests per (source, week, file) as the tracked branch stood at each week's end (local
    midnight in the engagement timezone; the current week: now), for weeks 0 to the current one.

    `changes` holds, per first-parent commit of the branch that changed an evaluation file, that file's count
    after the commit (collectors/git/eval_tests.py): a file's count at a week's end is its row of the latest
    commit (by branch order) committed by then; files at 0 are left out, and `sha` is that commit."""
    if changes is None or changes.empty or "seq" not in changes:
        return pd.DataFrame(columns=EVAL_COLUMNS)
    now = now or dt.datetime.now(dt.UTC)
    last = current_week(cfg.engagement.start, cfg.engagement.timezone, now)
    ordered = changes.assign(_at=pd.to_datetime(changes["committed_at"], utc=True)).sort_values(["source_id", "seq"])
    ordered = ordered.reset_index(drop=True)
    # Per week, the last row (branch order) of each (source, file) committed by the week's end: on arrays, since
    # it runs once per week of the engagement over every change (one frame filter per week cost seconds).
    file_codes = ordered.groupby(["source_id", "path"], sort=False).ngroup().to_numpy()
    at = ordered["_at"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]")
    tests = ordered["tests"].to_numpy()
    zone, picked, picked_weeks = ZoneInfo(cfg.engagement.timezone), [], []
    for week in range(0, max(last, -1) + 1):
        end = dt.datetime.combine(cfg.engagement.start + dt.timedelta(days=7 * week), dt.time(0), tzinfo=zone)
        cut = np.datetime64(min(end, now).astimezone(dt.UTC).replace(tzinfo=None), "us")
        newest_first = np.flatnonzero(at <= cut)[::-1]
        _, first = np.unique(file_codes[newest_first], return_index=True)
        rows = newest_first[first]
        rows = rows[tests[rows] > 0]
        picked.append(rows)
        picked_weeks.append(np.full(len(rows), week, dtype="int64"))
    if not picked or not sum(len(p) for p in picked):
        return pd.DataFrame(columns=EVAL_COLUMNS)
    out = ordered.iloc[np.concatenate(picked)].assign(week=np.concatenate(picked_weeks))[EVAL_COLUMNS]
    return out.sort_values(["source_id", "week", "path"]).reset_index(drop=True)


def junit_week_runs(junit_runs: pd.DataFrame, cfg: EngagementConfig) -> pd.DataFrame:
    """The run each (repository, week) counts: its latest completed run with a readable JUnit report."""
    if junit_runs is None or junit_runs.empty:
        return pd.DataFrame(columns=JUNIT_COLUMNS)
    runs = junit_runs[(junit_runs["reports"] > 0) & junit_runs["completed_at"].notna()].copy()
    if runs.empty:
        return pd.DataFrame(columns=JUNIT_COLUMNS)
    runs["week"] = week_of(local_dates(runs["completed_at"], cfg.engagement.timezone), cfg.engagement.start)
    latest = (runs.sort_values(["completed_at", "run_id"])
              .drop_duplicates(["source_id", "week"], keep="last").sort_values(["week", "source_id"]))
    latest["link"] = latest["html_url"] if "html_url" in latest else None
    return latest.reindex(columns=JUNIT_COLUMNS).reset_index(drop=True)


def eval_coverage_with_junit(eval_tests: pd.DataFrame, junit_weeks: pd.DataFrame) -> pd.DataFrame:
    """eval_coverage: per week, the number of testcases in the JUnit reports of the latest completed run of
    the configured JUnit workflows (`junit_workflows`; every testcase of the workflow's matching artifacts
    counts as an evaluation test) when that week has one, else the number of Python test functions under
    the `evaluation` capability's paths in git at the week's end. `value` = `n` = that number; side
    counts are 0 (a count, not a share)."""
    git = eval_coverage(eval_tests)
    if junit_weeks is None or junit_weeks.empty:
        return git
    per_week = junit_weeks.groupby("week", as_index=False)["tests"].sum()
    junit = pd.DataFrame({"week": per_week["week"].astype("int64"), "capability": None, "internal": 0, "vendor": 0,
                          "unattributed": 0, "bots": 0, "value": per_week["tests"].astype("float64"),
                          "n": per_week["tests"].astype("float64")})
    keep = git[~git["week"].isin(junit["week"])]
    parts = [p for p in (keep, junit[COLUMNS]) if len(p)]
    return pd.concat(parts, ignore_index=True).sort_values("week").reset_index(drop=True)[COLUMNS]
