"""The demo's MLflow source (collectors/demo/mlflow_data.py): replayed through the real MLflow client with nothing
left unanswered, twice with the same rows; its notebook runs by the client team are train runs with mlflow_run
evidence linking to the MLflow UI, and its promotion is a two-key release shown beside two_key_compliance."""

from __future__ import annotations

import pandas as pd
import pytest

from collectors.configured import configured_sources
from collectors.demo import mlflow_data
from collectors.driver import run_source
from db.engine import make_engine
from db.models import Base
from engagement.config import load_config
from metrics.service import engagement_metrics, evidence
from tests.support.demo_template import copy_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_mlflow")
    toml = copy_demo(out, collected=False)  # as built: only its MLflow source is collected here
    cfg = load_config(toml)
    engine = make_engine(f"sqlite:///{out / 'baton.db'}")
    (source,) = configured_sources(cfg, only=["mlflow"])
    results = [run_source(engine, source, progress=False)]
    unmatched = list(source.client.http.unmatched)
    first = dump(engine)
    (again,) = configured_sources(cfg, only=["mlflow"])
    results.append(run_source(engine, again, progress=False))
    return {"cfg": cfg, "engine": engine, "results": results, "unmatched": unmatched, "first": first}


def dump(engine) -> dict[str, pd.DataFrame]:
    with engine.connect() as conn:
        return {t: pd.read_sql(Base.metadata.tables[t].select(), conn) for t in
                ("mlflow_runs", "mlflow_model_versions", "mlflow_registry_events", "mlflow_experiments")}


def test_replayed_with_every_request_answered_and_twice_the_same_rows(demo):
    assert [r.status for r in demo["results"]] == ["success", "success"]
    assert demo["unmatched"] == []
    runs = demo["first"]["mlflow_runs"]
    assert len(runs) == len(mlflow_data.RUNS) and runs["url"].str.startswith(
        f"{mlflow_data.BASE_URL}/#/experiments/{mlflow_data.EXPERIMENT_ID}/runs/").all()
    again = dump(demo["engine"])
    for table, frame in demo["first"].items():
        pd.testing.assert_frame_equal(again[table], frame)


def test_notebook_runs_are_train_runs_and_the_promotion_a_two_key_release(demo):
    m = engagement_metrics(demo["cfg"], demo["engine"], accepted=())
    week4 = evidence(m, "internal_train_share", 4, None)
    mlflow = week4[week4["kind"] == "mlflow_run"]
    assert mlflow[["person", "side", "counted"]].values.tolist() == [["Ivan Kowalski", "internal", True],
                                                                      ["Priya Nair", "internal", True]]
    promo = evidence(m, "two_key_compliance", 7, None)
    promo = promo[promo["kind"] == "model_promotion"]
    assert promo[["person", "side", "counted", "compliant", "creator"]].values.tolist() == [
        ["Ines Ortiz", "internal", False, True, "Ivan Kowalski"]]
    assert promo["url"].tolist() == [f"{mlflow_data.BASE_URL}/#/models/fraud-model/versions/3"]
