"""`exit_readiness` (SPEC §10) counts MLflow runs and model promotions (SPEC §12) as operations, on a hand-countable
engagement (tests/support/readiness_rows.py people; Ann and Bob internal, Vic vendor; MLflow logins = their GitHub
logins). Training's operations are `mlflow_run` and `model_promotion`; 2 people needed in a 2-week window.

MLflow runs in experiment fraud-train (training's `ci_workflows`), one a week on Wednesday 10:00 (+ minutes):
  w1 vic; w2 ann; w3 bob (FAILED: a run counts whatever its status); w4 ann (ci.trigger = schedule: not counted),
  vic.
Promotions of model "fraud" to the production alias (the promoter from the `promoted_by` version tag):
  w2 v1 by ann; w3 v2 by nobody known (open-source MLflow records no promoter: unattributed); w4 v3 by bob.

week | window | mlflow_run people  | promotion people     | covered | n
  1  | 1      | - (vic)            | -                    | 0/2     | 0
  2  | 1-2    | ann                | ann                  | 0/2     | 1
  3  | 2-3    | ann, bob           | ann (+ unknown)      | 1/2     | 1
  4  | 3-4    | bob (+ vic)        | bob (+ unknown)      | 0/2     | 1
Side counts (the window's items, internal/vendor): w1 0/1, w2 2/1, w3 3/0 (+1 unattributed), w4 2/1 (+1).
"""

from __future__ import annotations

import pandas as pd
import pytest

from metrics.engagement import SourceData, compute
from metrics.readiness import operations
from metrics.service import evidence, reconcile
from tests.support.readiness_rows import PEOPLE, START, TODAY, at, commits

KPI = "exit_readiness"
RUNS = [(1, "vic", "FINISHED", None), (2, "ann", "FINISHED", None), (3, "bob", "FAILED", None),
        (4, "ann", "FINISHED", "schedule"), (4, "vic", "FINISHED", None)]
PROMOTIONS = [(2, 1, "ann"), (3, 2, None), (4, 3, "bob")]  # (week, version, promoter)
INTENDED = {1: (0, 2, 0, 0, 1), 2: (0, 2, 1, 2, 1), 3: (1, 2, 1, 3, 0), 4: (0, 2, 1, 2, 1)}


def config(readiness: dict | None = None):
    from metrics.engagement_file import parse_engagement

    return parse_engagement({
        "engagement": {"name": "Tiny", "start": START, "weeks": 4, "timezone": "UTC"},
        "people": [{"name": name, "emails": [email], "github": [login], "mlflow": [login],
                    "affiliations": [{"side": "vendor" if login == "vic" else "internal"}]}
                   for login, (name, email) in PEOPLE.items()],
        "capabilities": [{"key": "data", "paths": ["data/**"]},
                         {"key": "training", "paths": ["train/**"], "ci_workflows": ["fraud-train"]}],
        "pipeline": {"train": {"mlflow_experiments": ["fraud-train"]}},
        "sources": {"mlflow": [{"tracking_uri": "https://mlflow.client.example", "name": "mlflow"}]},
        **({"readiness": readiness} if readiness else {}),
    })


def mlflow_frames() -> dict[str, pd.DataFrame]:
    runs = pd.DataFrame([{
        "source_id": 3, "repo": "mlflow", "experiment": "fraud-train", "run_id": f"r{i}", "experiment_id": "1",
        "run_name": f"r{i}", "user_id": None, "mlflow_user": login, "status": status,
        "start_time": at(week, 2, i), "end_time": at(week, 2, i) + pd.Timedelta(minutes=20),
        "lifecycle_stage": "active", "source_type": "JOB", "source_name": None, "git_commit": None,
        "parent_run_id": None, "trigger": trigger, "tags": "{}", "datasets": "[]",
        "url": f"https://mlflow.client.example/#/experiments/1/runs/r{i}"}
        for i, (week, login, status, trigger) in enumerate(RUNS)])
    versions = pd.DataFrame([{
        "source_id": 3, "repo": "mlflow", "model": "fraud", "version": v, "created_at": at(week, 1),
        "updated_at": at(week, 3), "user_id": "vic", "current_stage": "None", "aliases": "",
        "status": "READY", "run_id": None, "source": None, "tags": "{}",
        "url": f"https://mlflow.client.example/#/models/fraud/versions/{v}"} for week, v, _who in PROMOTIONS])
    events = pd.DataFrame([{
        "source_id": 3, "model": "fraud", "target": "alias:production", "seq": k + 1, "version": v,
        "previous_version": v - 1 if v > 1 else None, "at": at(week, 3),
        "at_source": "tag" if who else "collection", "window_start": at(week, 3) - pd.Timedelta(days=1),
        "window_end": at(week, 3) + pd.Timedelta(hours=1), "actor": who, "actor_tag": "promoted_by" if who else None}
        for k, (week, v, who) in enumerate(PROMOTIONS)])
    return {"mlflow_runs": runs, "mlflow_model_versions": versions, "mlflow_registry_events": events}


def source_data() -> SourceData:
    c, f = commits([(1, "vic", "data/a.py")])
    return SourceData(c, f, **mlflow_frames())


@pytest.fixture(scope="module")
def m():
    readiness = {"operations": {"training": ["mlflow_run", "model_promotion"]}, "min_people": 2, "window_weeks": 2}
    return compute(config(readiness), source_data(), today=TODAY)


def test_mlflow_runs_and_promotions_are_operations_counted_as_by_hand(m):
    for week, (covered, ops, bus, internal, vendor) in INTENDED.items():
        row = m.kpi_row(KPI, week, "training")
        assert (row["covered"], row["operations"], row["n"]) == (covered, ops, bus), week
        assert (row["internal"], row["vendor"]) == (internal, vendor), week
        assert row["value"] == pytest.approx(covered / ops)
        assert reconcile(m, KPI, week, "training") == []


def test_evidence_names_the_promoters_and_the_last_vendor_run(m):
    rows = evidence(m, KPI, 4, "training")
    summary = rows[rows["row_type"] == "operation"].set_index("operation")
    assert summary.loc["mlflow_run", ["covered", "people", "last_vendor"]].tolist() == [False, "Bob Client",
                                                                                        "Vic Vendor"]
    assert summary.loc["model_promotion", ["covered", "people"]].tolist() == [False, "Bob Client"]
    assert summary.loc["model_promotion", "last_vendor"] in (None, "") or pd.isna(
        summary.loc["model_promotion", "last_vendor"])  # the unknown promoter is nobody's side


def test_default_operations_include_mlflow_runs_on_the_capability_of_their_experiment():
    bare = compute(config(), source_data(), today=TODAY)
    # the runs are training's (its ci_workflows name the experiment); a promotion is on no capability; the MLflow
    # train runs are training's train runs too
    assert operations(bare.facts, "training") == (["train_run", "mlflow_run"], False)
    assert operations(bare.facts, "data") == (["commit"], False)
