"""The MLflow collector against a REAL `mlflow server` (SQLite backend, started here on a free 127.0.0.1 port; the
module is skipped when the `mlflow` package is not installed): runs logged as two users, a registered model whose
version is promoted, then collected — every stored field checked, a second collection changes nothing, a run
still RUNNING is re-read once it ends, a rollback is seen, and a collection killed with SIGKILL mid-way then rerun
loses and duplicates nothing (SQLite and PostgreSQL). Slow: the server takes ~30-70 s to start on this machine."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pandas as pd
import pytest
from sqlalchemy import text

from collectors.driver import run_source
from collectors.mlflow.source import MlflowRunSource
from db.engine import make_engine
from engagement.config import MlflowSource
from tests.support.mlflow_server import MlflowServer, mlflow_installed
from tests.support.paths import ROOT

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not mlflow_installed(), reason="the mlflow package is not installed "
                                                                 "(requirements-dev.txt)")]
NOW_MS = int(time.time() * 1000) // 1000 * 1000
HOUR = 3_600_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with MlflowServer(tmp_path_factory.mktemp("mlflow-server")) as srv:
        yield srv


def utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).replace(tzinfo=None)


class Scenario:
    """Two experiments and a model of its own (names prefixed) on the shared server."""

    def __init__(self, server: MlflowServer):
        self.server, p = server, uuid.uuid4().hex[:8]
        self.train, self.scratch, self.model = f"{p}-fraud-train", f"{p}-scratch", f"{p}-fraud"
        self.train_id = server.rest("POST", "experiments/create", name=self.train)["experiment_id"]
        self.scratch_id = server.rest("POST", "experiments/create", name=self.scratch)["experiment_id"]
        t0 = NOW_MS - 10 * HOUR
        s = server
        self.dana1 = s.create_run(self.train_id, "dana", t0, name="nb-train-1", end_ms=t0 + 90 * 60_000,
                                  tags={"mlflow.source.type": "NOTEBOOK", "mlflow.source.name": "/Users/dana/train",
                                        "mlflow.source.git.commit": "d38984e536ac5102ccd495fdafe487a418378009"},
                                  params={"max_depth": 5, "data_version": "data-v3"}, metrics={"auc": 0.91})
        self.bob = s.create_run(self.train_id, "vendor-bob", t0 + HOUR, name="pipeline-train", status="FAILED",
                                end_ms=t0 + HOUR + 600_000, tags={"mlflow.source.type": "LOCAL", "ci.trigger": "push"},
                                params={"max_depth": 6})
        self.dana2 = s.create_run(self.train_id, "dana", t0 + 2 * HOUR, name="nb-train-2", status="RUNNING",
                                  tags={"mlflow.source.type": "NOTEBOOK", "ci.trigger": "schedule"})
        self.scratch_run = s.create_run(self.scratch_id, "vendor-bob", t0 + 3 * HOUR, name="explore",
                                        end_ms=t0 + 3 * HOUR + 5000)
        s.rest("POST", "registered-models/create", name=self.model)
        self.v1 = s.rest("POST", "model-versions/create", name=self.model, source=f"runs:/{self.dana1}/model",
                         run_id=self.dana1)["model_version"]
        self.v2 = s.rest("POST", "model-versions/create", name=self.model, source=f"runs:/{self.bob}/model",
                         run_id=self.bob, tags=[{"key": "promoted_by", "value": "dana"}])["model_version"]
        s.rest("POST", "registered-models/alias", name=self.model, alias="production", version="2")
        self.v1 = s.rest("POST", "model-versions/transition-stage", name=self.model, version="1", stage="Staging",
                         archive_existing_versions=False)["model_version"]

    def source(self, **kw) -> MlflowSource:
        return MlflowSource(tracking_uri=self.server.url, experiments=[self.train, self.scratch],
                            models=[self.model], name="mlflow", **kw)


def dump(engine, table: str, drop: tuple[str, ...] = ()) -> list[dict]:
    from db.models import Base

    with engine.connect() as conn:
        frame = pd.read_sql(Base.metadata.tables[table].select(), conn)
    frame = frame.drop(columns=list(drop))
    frame = frame.sort_values(list(frame.columns[:3])).reset_index(drop=True)
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def collect(engine, scenario: Scenario, **kw):
    return run_source(engine, MlflowRunSource(scenario.source(), **kw), progress=False)


def test_collects_every_field_twice_the_same_then_follows_running_runs_and_rollbacks(server, db_url):
    sc = Scenario(server)
    engine = make_engine(db_url)
    before = time.time()
    result = collect(engine, sc)
    assert result.status == "success"
    runs = {r["run_id"]: r for r in dump(engine, "mlflow_runs")}
    assert set(runs) == {sc.dana1, sc.bob, sc.dana2, sc.scratch_run}
    t0 = NOW_MS - 10 * HOUR
    sid = runs[sc.dana1]["source_id"]
    assert runs[sc.dana1] == {
        "source_id": sid, "run_id": sc.dana1, "experiment_id": sc.train_id, "run_name": "nb-train-1",
        "user_id": "dana", "mlflow_user": "dana", "status": "FINISHED", "start_time": utc(t0),
        "end_time": utc(t0 + 90 * 60_000), "lifecycle_stage": "active", "source_type": "NOTEBOOK",
        "source_name": "/Users/dana/train", "git_commit": "d38984e536ac5102ccd495fdafe487a418378009",
        "parent_run_id": None, "trigger": None, "params": json.dumps({"data_version": "data-v3", "max_depth": "5"}),
        "metrics": json.dumps({"auc": 0.91}),
        "tags": json.dumps({"mlflow.runName": "nb-train-1", "mlflow.source.git.commit":
                            "d38984e536ac5102ccd495fdafe487a418378009", "mlflow.source.name": "/Users/dana/train",
                            "mlflow.source.type": "NOTEBOOK", "mlflow.user": "dana"}, sort_keys=True),
        "datasets": "[]", "url": f"{server.url}/#/experiments/{sc.train_id}/runs/{sc.dana1}"}
    assert (runs[sc.bob]["mlflow_user"], runs[sc.bob]["status"], runs[sc.bob]["trigger"]) == ("vendor-bob", "FAILED",
                                                                                              "push")
    assert (runs[sc.dana2]["status"], runs[sc.dana2]["end_time"], runs[sc.dana2]["trigger"]) == ("RUNNING", None,
                                                                                                 "schedule")
    assert [(e["experiment_id"], e["name"]) for e in dump(engine, "mlflow_experiments")] == sorted(
        [(sc.train_id, sc.train), (sc.scratch_id, sc.scratch)])

    versions = dump(engine, "mlflow_model_versions")
    assert [(v["version"], v["current_stage"], v["aliases"], v["run_id"], v["user_id"], v["status"])
            for v in versions] == [(1, "Staging", "", sc.dana1, None, "READY"),
                                   (2, "None", "production", sc.bob, None, "READY")]
    assert versions[0]["created_at"] == utc(int(sc.v1["creation_timestamp"]))
    assert versions[0]["updated_at"] == utc(int(sc.v1["last_updated_timestamp"]))  # the stage transition's time
    assert json.loads(versions[1]["tags"]) == {"promoted_by": "dana"}
    assert versions[1]["url"] == f"{server.url}/#/models/{sc.model}/versions/2"
    events = dump(engine, "mlflow_registry_events")
    assert [(e["target"], e["seq"], e["version"], e["previous_version"], e["at_source"], e["actor"], e["actor_tag"])
            for e in events] == [("alias:production", 1, 2, None, "collection", "dana", "promoted_by"),
                                 ("stage:Staging", 1, 1, None, "registry", None, None)]
    assert events[1]["at"] == utc(int(sc.v1["last_updated_timestamp"]))
    assert events[0]["window_start"] == utc(int(sc.v2["creation_timestamp"]))  # first sight: since the version
    assert before - 1 <= events[0]["window_end"].replace(tzinfo=dt.UTC).timestamp() <= time.time() + 1

    # A second collection changes no row (the registry state only records when it was checked).
    first = {t: dump(engine, t) for t in ("mlflow_runs", "mlflow_experiments", "mlflow_model_versions",
                                          "mlflow_registry_events")}
    state = dump(engine, "mlflow_registry_state", drop=("checked_at",))
    assert collect(engine, sc).status == "success"
    assert {t: dump(engine, t) for t in first} == first
    assert dump(engine, "mlflow_registry_state", drop=("checked_at",)) == state

    # The RUNNING run ends; production goes back to version 1 (a rollback), promoted by nobody the registry names.
    server.rest("POST", "runs/update", run_id=sc.dana2, status="FINISHED", end_time=t0 + 3 * HOUR)
    server.rest("POST", "registered-models/alias", name=sc.model, alias="production", version="1")
    assert collect(engine, sc).status == "success"
    ended = {r["run_id"]: r for r in dump(engine, "mlflow_runs")}[sc.dana2]
    assert (ended["status"], ended["end_time"]) == ("FINISHED", utc(t0 + 3 * HOUR))
    events = dump(engine, "mlflow_registry_events")
    assert [(e["target"], e["seq"], e["version"], e["previous_version"], e["actor"]) for e in events] == [
        ("alias:production", 1, 2, None, "dana"), ("alias:production", 2, 1, 2, None), ("stage:Staging", 1, 1, None,
                                                                                         None)]
    with engine.connect() as conn:
        cursor = json.loads(conn.execute(text("SELECT value FROM cursors WHERE stream = :s"),
                                         {"s": f"runs:{sc.train_id}"}).scalar_one())
    assert cursor == {"start_ms": t0 + 2 * HOUR, "open": []}
    engine.dispose()


KILLED_COLLECTOR = textwrap.dedent("""
    import sys, time
    from collectors.mlflow import client as c
    from collectors.driver import run_source
    from collectors.mlflow.source import MlflowRunSource
    from db.engine import make_engine
    from engagement.config import MlflowSource

    post = c.MlflowClient._post
    def slow_post(self, endpoint, body):
        out = post(self, endpoint, body)
        if endpoint == "runs/search":
            print("page", flush=True)
            time.sleep(0.4)  # the parent kills us while pages are still coming
        return out
    c.MlflowClient._post = slow_post
    url, db, experiment = sys.argv[1:4]
    source = MlflowSource(tracking_uri=url, experiments=[experiment], name="mlflow")
    run_source(make_engine(db), MlflowRunSource(source, page_size=2), progress=False)
    print("done", flush=True)
""")


def test_kill_9_mid_collection_then_rerun_loses_and_duplicates_nothing(server, db_url, tmp_path):
    name = f"{uuid.uuid4().hex[:8]}-many"
    exp = server.rest("POST", "experiments/create", name=name)["experiment_id"]
    users = ["dana", "vendor-bob"]
    ids = [server.create_run(exp, users[i % 2], NOW_MS - (20 - i) * HOUR, name=f"run-{i}", params={"i": i})
           for i in range(12)]
    make_engine(db_url).dispose()  # migrate before the child starts
    child = subprocess.Popen([sys.executable, "-c", KILLED_COLLECTOR, server.url, db_url, name], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pages = 0
    while pages < 3:
        line = child.stdout.readline()
        assert line, f"the collector ended early: {child.stderr.read()[-2000:]}"
        pages += line.strip() == "page"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        written = conn.execute(text("SELECT count(*) FROM mlflow_runs")).scalar_one()
        status = conn.execute(text("SELECT status FROM collection_runs")).scalars().all()
    assert 0 < written < 12 and status == ["running"]  # killed mid-way, whole pages only

    source = MlflowSource(tracking_uri=server.url, experiments=[name], name="mlflow")
    assert run_source(engine, MlflowRunSource(source, page_size=2), progress=False).status == "success"
    rows = dump(engine, "mlflow_runs")
    assert sorted(r["run_id"] for r in rows) == sorted(ids)  # every run, once (the key is (source, run id))
    assert {r["run_name"]: json.loads(r["params"])["i"] for r in rows} == {f"run-{i}": str(i) for i in range(12)}
    clean = make_engine(f"sqlite:///{tmp_path / 'clean.db'}")  # one uninterrupted collection gives the same rows
    run_source(clean, MlflowRunSource(source), progress=False)
    assert dump(clean, "mlflow_runs", drop=("source_id",)) == dump(engine, "mlflow_runs", drop=("source_id",))
    engine.dispose()
    clean.dispose()
