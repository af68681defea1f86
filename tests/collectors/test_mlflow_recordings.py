"""The MLflow collector on real recorded MLflow answers (../shared/api-samples; skipped when absent):
- mlflow-local-recording (a real `mlflow server` 3.17.2 session) is turned into a `replay:DIR` recording and
  collected through the same client code: every run field, `page_token` paging, a RUNNING run, no registry;
- the same runs computed as train runs give a hand-computed internal_train_share;
- mlflow-export-import runs (open-source and Databricks) map to rows: `mlflow.user` before `user_id`, a
  Databricks email user resolved through the roster's emails, Databricks UI links;
- a 400 (bad filter) and an unknown experiment are one clear line each, the run logged failed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from collectors.driver import run_source
from collectors.mlflow.source import MlflowRunSource, run_row
from collectors.runs import CollectError
from db.engine import make_engine
from db.queries import load_source_frames
from engagement.config import MlflowSource
from metrics.engagement import SourceData, compute
from metrics.engagement_file import parse_engagement
from metrics.identity import attribute
from metrics.other_sources import mlflow_runs
from tests.support.paths import SAMPLES

SESSION = SAMPLES / "mlflow-local-recording" / "mlflow-rest-session.json"
EXPORTS = SAMPLES / "mlflow-export-import"
RECORDED = "http://127.0.0.1:5000"  # where the recorded server was (links point there)
pytestmark = pytest.mark.skipif(not SESSION.exists(), reason="../shared/api-samples is not beside the clone")


def replay_dir(tmp_path: Path, names: set[str] | None = None, skip: set[str] = frozenset()) -> Path:
    """The recorded session as a `collect --record` directory (collectors/http.py Recorder format)."""
    out = tmp_path / "mlflow-replay"
    out.mkdir()
    lines = [json.dumps({"baton_recording": 1, "service": "MLflow", "base_url": RECORDED})]
    for ex in json.loads(SESSION.read_text()):
        if (names and ex["name"] not in names) or ex["name"] in skip:
            continue
        req, resp = ex["request"], ex["response"]
        query = "&".join(f"{k}={v}" for k, v in (req.get("params") or {}).items())
        body = resp["body"] if isinstance(resp["body"], str) else json.dumps(resp["body"])
        doc = {"method": req["method"], "url": req["path"] + (f"?{query}" if query else ""), "request_headers": {},
               "status": resp["status"], "headers": {"Content-Type": resp["headers"].get("content-type", "")},
               "body": body}
        if req.get("json") is not None:
            doc["request_json"] = req["json"]
        lines.append(json.dumps(doc))
    (out / "mlflow.jsonl").write_text("\n".join(lines) + "\n")
    return out


def dump(engine, table: str) -> list[dict]:
    from db.models import Base

    with engine.connect() as conn:
        frame = pd.read_sql(Base.metadata.tables[table].select(), conn)
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def ms(value: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(value / 1000, dt.UTC).replace(tzinfo=None)


def test_replayed_real_session_gives_every_run_field(tmp_path, db_url):
    replay = replay_dir(tmp_path, skip={"runs-search-bad-filter"})
    engine = make_engine(db_url)
    source = MlflowSource(tracking_uri="replay:unused", experiments=["fraud-model-train"], name="mlflow")
    result = run_source(engine, MlflowRunSource(source, replay=replay), progress=False)
    assert result.status == "success"
    runs = {r["run_name"]: r for r in dump(engine, "mlflow_runs")}
    assert sorted(runs) == ["ambitious-owl-69", "train-0", "train-1", "train-2"]  # page 1 + page 2 (page_token)
    sid = runs["train-0"]["source_id"]
    assert runs["train-0"] == {
        "source_id": sid, "run_id": "ccb983fe55f44092bfb596f070ecf7e0", "experiment_id": "1", "run_name": "train-0",
        "user_id": None, "mlflow_user": "dana", "status": "FINISHED", "start_time": ms(1795412565061),
        "end_time": ms(1795412865061), "lifecycle_stage": "active", "source_type": "LOCAL", "source_name": "train.py",
        "git_commit": "d38984e536ac5102ccd495fdafe487a418378009", "parent_run_id": None, "trigger": "push",
        "params": json.dumps({"data_version": "data-v3", "max_depth": "5"}),
        "metrics": json.dumps({"accuracy": 0.91, "loss": 0.3}),
        "tags": json.dumps({"ci.trigger": "push", "mlflow.runName": "train-0", "mlflow.source.git.commit":
                            "d38984e536ac5102ccd495fdafe487a418378009", "mlflow.source.name": "train.py",
                            "mlflow.source.type": "LOCAL", "mlflow.user": "dana"}, sort_keys=True),
        "datasets": "[]", "url": f"{RECORDED}/#/experiments/1/runs/ccb983fe55f44092bfb596f070ecf7e0"}
    owl = runs["ambitious-owl-69"]
    assert (owl["status"], owl["end_time"], owl["mlflow_user"], owl["trigger"]) == ("RUNNING", None, "github-actions",
                                                                                    None)
    assert [(r["mlflow_user"], r["status"], r["trigger"]) for r in (runs["train-1"], runs["train-2"])] == [
        ("vendor-bob", "FAILED", "manual"), ("dana", "FINISHED", "schedule")]
    with engine.connect() as conn:
        logged = conn.execute(text("SELECT status, items_written FROM collection_runs")).one()
        cursor = json.loads(conn.execute(text("SELECT value FROM cursors WHERE stream = 'runs:1'")).scalar_one())
    assert tuple(logged) == ("success", 5)  # the experiment and 4 runs
    assert cursor == {"start_ms": 1795423365061, "open": ["3e11eba655844a509b8525a182fe89cc"]}
    engine.dispose()


def test_recorded_runs_are_train_runs_of_a_hand_computed_week(tmp_path, sqlite_url):
    """Week 1 (from Mon 2026-11-23): train-0 dana push (internal), train-1 vendor-bob manual (vendor), train-2
    dana schedule (counted apart), ambitious-owl-69 github-actions (bot): internal 1, vendor 1, bots 1, 0.5."""
    engine = make_engine(sqlite_url)
    source = MlflowSource(tracking_uri="replay:unused", experiments=["fraud-model-train"], name="mlflow")
    run_source(engine, MlflowRunSource(source, replay=replay_dir(tmp_path)), progress=False)
    cfg = parse_engagement({
        "engagement": {"name": "Recorded", "start": dt.date(2026, 11, 23), "weeks": 2, "timezone": "UTC"},
        "people": [{"name": "Dana", "mlflow": ["dana"], "affiliations": [{"side": "internal"}]},
                   {"name": "Bob", "mlflow": ["vendor-bob"], "affiliations": [{"side": "vendor"}]}],
        "pipeline": {"train": {"mlflow_experiments": ["fraud-model-train"]}}})
    m = compute(cfg, SourceData(**load_source_frames(engine)), today=dt.datetime(2026, 11, 30, tzinfo=dt.UTC))
    row = m.kpi_row("internal_train_share", 1)
    assert [row[c] for c in ("internal", "vendor", "unattributed", "bots", "value", "n", "scheduled")] == [
        1, 1, 0, 1, 0.5, 3.0, 1.0]
    engine.dispose()


def _export_as_rest(path: Path) -> dict:
    """An mlflow-export-import run.json (info + flat params/tags + metric histories) in REST runs/get shape."""
    doc = json.loads(path.read_text())["mlflow"]
    return {"info": doc["info"], "data": {
        "params": [{"key": k, "value": v} for k, v in doc["params"].items()],
        "tags": [{"key": k, "value": v} for k, v in doc["tags"].items()],
        "metrics": [{"key": k, "value": h[-1]["value"]} for k, h in doc["metrics"].items()]}}


@pytest.mark.skipif(not EXPORTS.exists(), reason="../shared/api-samples is not beside the clone")
def test_exported_open_source_and_databricks_runs_map_and_attribute():
    runs = {str(p.relative_to(EXPORTS)): _export_as_rest(p) for p in EXPORTS.rglob("run.json")}
    rows = [run_row(1, r, "https://dbc-1.cloud.databricks.com" if "databricks" in k else "http://mlflow:5000")
            for k, r in sorted(runs.items())]
    by_id = {r["run_id"]: r for r in rows}
    databricks = by_id["68850173104649149678090f75d36d0a"]
    assert (databricks["user_id"], databricks["mlflow_user"], databricks["source_type"]) == (
        None, "andre@mycompany.com", "NOTEBOOK")
    assert databricks["url"] == ("https://dbc-1.cloud.databricks.com/#mlflow/experiments/536189130329831/runs/"
                                 "68850173104649149678090f75d36d0a")
    assert databricks["start_time"] == dt.datetime(2023, 5, 22, 2, 5, 1, 147000)
    assert {r["mlflow_user"] for r in rows} == {"andre", "andre@mycompany.com"}
    unknown = [r for r in rows if r["user_id"] == "unknown"]
    assert len(unknown) == 1 and unknown[0]["mlflow_user"] == "andre"  # the tag wins over user_id
    cfg = parse_engagement({"engagement": {"name": "E", "start": dt.date(2023, 5, 15)},
                            "people": [{"name": "Andre", "emails": ["andre@mycompany.com"], "mlflow": ["andre"],
                                        "affiliations": [{"side": "internal"}]}]})
    frame = pd.DataFrame(rows).assign(repo="mlflow", experiment="wine")
    for col in ("start_time", "end_time"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    events = mlflow_runs(frame, cfg)
    who = attribute(events.assign(at=events["created_at"], login=events["triggering_login"]), cfg)
    assert set(zip(who["person"], who["rule"], strict=True)) == {("Andre", "roster MLflow user"),
                                                                 ("Andre", "roster email")}


def test_a_bad_filter_and_an_unknown_experiment_are_one_line_and_logged(tmp_path, sqlite_url):
    engine = make_engine(sqlite_url)
    replay = replay_dir(tmp_path, names={"experiments-get-by-name", "runs-search-bad-filter"})
    source = MlflowSource(tracking_uri="replay:unused", experiments=["fraud-model-train"], name="mlflow")
    with pytest.raises(CollectError) as bad:
        run_source(engine, MlflowRunSource(source, replay=replay), progress=False)
    assert str(bad.value) == (f"MLflow {RECORDED}/api/2.0/mlflow/runs/search: HTTP 400: Invalid clause(s) in filter "
                              "string: 'tags.mlflow.user', '=='")
    nope = MlflowSource(tracking_uri="replay:unused", experiments=["nope"], name="mlflow")
    with pytest.raises(CollectError) as missing:
        run_source(engine, MlflowRunSource(nope, replay=replay), progress=False)
    assert str(missing.value) == (f"MLflow {RECORDED}: experiment 'nope' not found (expected an experiment name or id "
                                  "listed in [[sources.mlflow]].experiments)")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM collection_runs ORDER BY id")).scalars().all() == ["failed",
                                                                                                       "failed"]
    engine.dispose()
