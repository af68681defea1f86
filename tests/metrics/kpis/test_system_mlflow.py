"""train_run_minutes and rollback_time over MLflow runs (SPEC §11 with §12): an MLflow run of an experiment listed
under `[pipeline].train.mlflow_experiments` (or `.rollback`) is a CI run of that kind (metrics/other_sources.py), so
its start_time -> end_time counts beside the GitHub Actions attempts. Hand-computed, one small engagement."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from metrics.engagement import SourceData, compute
from tests.support.system_kpis import EMPTY_COMMITS, PIPELINE, T, config, reconciliation_problems, row, run

PIPELINE_ML = {**PIPELINE, "train": {**PIPELINE["train"], "mlflow_experiments": ["fraud-train"]},
               "rollback": {**PIPELINE["rollback"], "mlflow_experiments": ["rollback-*"]}}
INES, MARCO = "ines@client.com", "marco@acme-consulting.com"  # MLflow users as Databricks writes them: emails


def mlflow(run_id: str, experiment: str, user: str, start: str, end: str | None, status: str = "FINISHED") -> dict:
    return {"source_id": 2, "repo": "mlflow", "run_id": run_id, "experiment_id": experiment[:3],
            "experiment": experiment, "run_name": run_id, "user_id": None, "mlflow_user": user, "status": status,
            "start_time": T(start), "end_time": T(end), "lifecycle_stage": "active", "source_type": "NOTEBOOK",
            "source_name": None, "git_commit": None, "parent_run_id": None, "trigger": None, "tags": "{}",
            "datasets": "[]", "url": f"https://mlflow.example/#/runs/{run_id}"}


GITHUB = [
    run(10, "train.yml", "iortiz", "2026-09-08T08:00Z", updated="2026-09-08T09:30Z"),  # 90 min, Ines, w1
    run(20, "rollback.yml", "marco", "2026-09-16T10:00Z", updated="2026-09-16T10:45Z"),  # 45 min, Marco, w2
]
MLFLOW = [
    mlflow("m1", "fraud-train", INES, "2026-09-09T12:00Z", "2026-09-09T12:40Z"),  # 40 min, w1
    mlflow("m2", "fraud-train", MARCO, "2026-09-09T14:00Z", "2026-09-09T14:10Z", "FAILED"),  # 10 min: completed, w1
    mlflow("m3", "fraud-train", INES, "2026-09-10T09:00Z", None, "RUNNING"),  # still running: not counted
    mlflow("m4", "scratch", INES, "2026-09-10T10:00Z", "2026-09-10T13:00Z"),  # not a train experiment
    mlflow("r1", "rollback-prod", INES, "2026-09-15T08:00Z", "2026-09-15T08:25Z"),  # rollback 25 min, w2
    mlflow("r2", "rollback-prod", INES, "2026-09-22T08:00Z", "2026-09-22T08:05Z", "FAILED"),  # never succeeds, w3
]
# week 1 train minutes [10, 40, 90]: median 40, p90 = 40 + 0.8 x 50 = 80, total 140; Ines 2 (Actions + m1), Marco 1
TRAIN = {1: (40.0, 80.0, 3, 140.0, 2, 1)}
# rollback cycles: w2 [25 (r1, Ines), 45 (20, Marco)] -> median 35; w3 r2 open -> no value, n 1, open 1
ROLLBACK = {2: (35.0, 2, 0, 1, 1), 3: (None, 1, 1, 1, 0)}


@pytest.fixture(scope="module")
def m():
    data = SourceData(commits=pd.DataFrame(columns=EMPTY_COMMITS),
                      commit_files=pd.DataFrame(columns=["source_id", "sha", "path", "old_path"]),
                      workflow_runs=pd.DataFrame(GITHUB), junit_runs=pd.DataFrame(), tags=pd.DataFrame(),
                      mlflow_runs=pd.DataFrame(MLFLOW))
    return compute(config(pipeline=PIPELINE_ML, cost={"per_minute": 0.5}), data,
                   today=dt.datetime(2026, 10, 1, tzinfo=dt.UTC))


def test_train_run_minutes_counts_mlflow_runs_start_to_end(m):
    for week, (median, p90, n, total, internal, vendor) in TRAIN.items():
        r = row(m, "train_run_minutes", week)
        assert (r["value"], r["p90"], r["n"], r["total_minutes"], r["cost"]) == (
            pytest.approx(median), pytest.approx(p90), n, pytest.approx(total), pytest.approx(total * 0.5)), week
        assert (r["internal"], r["vendor"]) == (internal, vendor), week
    assert reconciliation_problems(m, "train_run_minutes") == []


def test_rollback_time_counts_mlflow_rollback_runs(m):
    for week, (median, n, open_, internal, vendor) in ROLLBACK.items():
        r = row(m, "rollback_time", week)
        assert (r["n"], r["open"], r["internal"], r["vendor"]) == (n, open_, internal, vendor), week
        assert math.isnan(r["value"]) if median is None else r["value"] == pytest.approx(median), week
    assert reconciliation_problems(m, "rollback_time") == []
