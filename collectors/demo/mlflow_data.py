"""MLflow data of the demo engagement (SPEC §12): written as a `collect --record` recording (collectors/http.py
Recorder format) that the engagement file's `[[sources.mlflow]]` replays (`replay = "recordings"`),
so plain `collect` reads it through the real MLflow client with no server.

The story: the vendor trains from scripts and a scheduled job at first; from week 2 the client team (Ines, Ivan,
Priya) trains from notebooks in the `fraud-train` experiment, listed under `[pipeline].train.mlflow_experiments`,
so these runs are train runs beside the GitHub Actions ones. Priya is a Databricks-style user (her email, matched
through the roster's emails); the others are MLflow logins on `[[people]]` (`mlflow = [...]`). Every run starts
on a Wednesday to Friday afternoon, when no data cut is waiting for its train: the retrain cycles of the GitHub
demo are unchanged. The registry: `fraud-model` v1 (from Marco's week-2 run), v2 (Ines, week 5, moved to the
Staging stage), v3 (Ivan, week 7) promoted to the `production` alias by Ines (the version's `promoted_by` and
`promoted_at` tags say so; MLflow itself records no actor for alias changes): a two-key release.
`INTENDED_TRAIN_RUNS` is written by hand from `RUNS`.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from pathlib import Path
from zoneinfo import ZoneInfo

BASE_URL = "https://mlflow.fraud-model.example"  # the recorded server: evidence links point there
API = "/api/2.0/mlflow"
EXPERIMENT, EXPERIMENT_ID, MODEL = "fraud-train", "4", "fraud-model"
RECORDING = "mlflow-demo.jsonl"
START = dt.date(2026, 9, 7)
TZ = ZoneInfo("Europe/Berlin")
# Roster name -> MLflow users (Priya has none: her runs carry her email, as Databricks writes them).
IDENTITIES = {"Marco Bianchi": ["mbianchi"], "Sofia Lindqvist": ["sofia"], "Ines Ortiz": ["ines"],
              "Ivan Kowalski": ["ivan.k"]}
PRIYA = "priya.nair@client.com"

# week, weekday (2 = Wednesday), local hour, user, mlflow.source.type, status, ci.trigger
RUNS = [
    (1, 2, 14, "mbianchi", "LOCAL", "FINISHED", None), (1, 3, 14, "sofia", "LOCAL", "FINISHED", None),
    (2, 2, 14, "mbianchi", "LOCAL", "FINISHED", None), (2, 3, 15, "ines", "NOTEBOOK", "FINISHED", None),
    (3, 2, 14, "ines", "NOTEBOOK", "FINISHED", None), (3, 3, 14, "mbianchi", "JOB", "FINISHED", "schedule"),
    (3, 4, 14, "ivan.k", "NOTEBOOK", "FINISHED", None),
    (4, 2, 14, "ivan.k", "NOTEBOOK", "FINISHED", None), (4, 3, 14, PRIYA, "NOTEBOOK", "FINISHED", None),
    (5, 2, 14, "ines", "NOTEBOOK", "FINISHED", None), (5, 3, 14, "mbianchi", "LOCAL", "FAILED", None),
    (6, 2, 14, PRIYA, "NOTEBOOK", "FINISHED", None), (6, 4, 14, "ivan.k", "NOTEBOOK", "FINISHED", None),
    (7, 2, 14, "ines", "NOTEBOOK", "FINISHED", None), (7, 3, 14, "ivan.k", "NOTEBOOK", "FINISHED", None),
    (8, 2, 14, PRIYA, "NOTEBOOK", "FINISHED", None), (8, 3, 14, "ines", "NOTEBOOK", "FINISHED", None),
]
# week -> (internal, vendor, scheduled) MLflow train runs (by hand from RUNS; Marco and Sofia are vendor)
INTENDED_TRAIN_RUNS = {1: (0, 2, 0), 2: (1, 1, 0), 3: (2, 0, 1), 4: (2, 0, 0), 5: (1, 1, 0), 6: (2, 0, 0),
                       7: (2, 0, 0), 8: (2, 0, 0)}


def _ms(week: int, day: int, hour: float) -> int:
    local = dt.datetime.combine(START + dt.timedelta(days=7 * (week - 1) + day), dt.time(0), tzinfo=TZ)
    return int((local + dt.timedelta(hours=hour)).timestamp() * 1000)


def run_id(i: int) -> str:
    return f"{i:02d}" + "d3m0" * 7 + "ab"  # 32 hex-ish characters, stable


def _runs() -> list[dict]:
    out = []
    for i, (week, day, hour, user, source_type, status, trigger) in enumerate(RUNS):
        start = _ms(week, day, hour)
        end = start + (10 if status == "FAILED" else 45) * 60_000
        tags = {"mlflow.user": user, "mlflow.source.type": source_type, "mlflow.runName": f"train-w{week}-{i}",
                "mlflow.source.name": "/Workspace/fraud/train" if source_type == "NOTEBOOK" else "train.py"}
        if trigger:
            tags["ci.trigger"] = trigger
        out.append({"info": {"run_id": run_id(i), "run_uuid": run_id(i), "experiment_id": EXPERIMENT_ID,
                             "run_name": f"train-w{week}-{i}", "user_id": "", "status": status, "start_time": start,
                             "end_time": end, "lifecycle_stage": "active"},
                    "data": {"params": [{"key": "data_version", "value": f"data-v{week}"}],
                             "metrics": [{"key": "pr_auc", "value": round(0.70 + week / 100, 2), "timestamp": end,
                                          "step": 0}],
                             "tags": [{"key": k, "value": v} for k, v in tags.items()]},
                    "inputs": {}})
    return out


def _versions() -> list[dict]:
    def version(v: int, run: int, created: int, updated: int, stage: str, tags: dict) -> dict:
        return {"name": MODEL, "version": str(v), "creation_timestamp": created, "last_updated_timestamp": updated,
                "current_stage": stage, "source": f"runs:/{run_id(run)}/model", "run_id": run_id(run),
                "status": "READY", "tags": [{"key": k, "value": val} for k, val in tags.items()]}

    promoted = dt.datetime.fromtimestamp(_ms(7, 4, 10) / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [version(3, 14, _ms(7, 3, 15), _ms(7, 4, 10), "None", {"promoted_by": "ines", "promoted_at": promoted}),
            version(2, 9, _ms(5, 2, 15), _ms(5, 3, 10), "Staging", {}),
            version(1, 2, _ms(2, 3, 16), _ms(2, 3, 16), "None", {})]


def _exchange(method: str, endpoint: str, body: dict, *, params: dict | None = None,
              request_json: dict | None = None) -> dict:
    url = f"{API}/{endpoint}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    doc = {"method": method, "url": url, "request_headers": {}, "status": 200,
           "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
    if request_json is not None:
        doc["request_json"] = request_json
    return doc


def recording_lines() -> list[str]:
    """The exchanges the MLflow client (collectors/mlflow/client.py) makes for the demo source, with answers."""
    from collectors.mlflow.client import REGISTRY_PAGE_SIZE, RUN_PAGE_SIZE

    experiment = {"experiment_id": EXPERIMENT_ID, "name": EXPERIMENT, "lifecycle_stage": "active",
                  "creation_time": _ms(1, 0, 9), "last_update_time": _ms(1, 0, 9)}
    search = {"experiment_ids": [EXPERIMENT_ID], "max_results": RUN_PAGE_SIZE,
              "order_by": ["attributes.start_time ASC"]}
    versions = _versions()
    model = {"name": MODEL, "creation_timestamp": _ms(2, 3, 16), "last_updated_timestamp": _ms(7, 4, 10),
             "aliases": [{"alias": "production", "version": "3"}]}
    docs = [
        _exchange("GET", "experiments/get-by-name", {"experiment": experiment},
                  params={"experiment_name": EXPERIMENT}),
        _exchange("POST", "runs/search", {"runs": _runs()}, request_json=search),
        _exchange("GET", "registered-models/search", {"registered_models": [model]},
                  params={"max_results": REGISTRY_PAGE_SIZE}),
        _exchange("GET", "model-versions/search", {"model_versions": versions},
                  params={"filter": f"name='{MODEL}'", "max_results": REGISTRY_PAGE_SIZE}),
        _exchange("GET", "registered-models/get", {"registered_model": model}, params={"name": MODEL}),
    ]
    header = {"baton_recording": 1, "service": "MLflow", "base_url": BASE_URL}
    return [json.dumps(header), *(json.dumps(d) for d in docs)]


def write_recording(recordings: Path) -> Path:
    recordings.mkdir(parents=True, exist_ok=True)
    path = recordings / RECORDING
    path.write_text("\n".join(recording_lines()) + "\n", encoding="utf-8")
    return path


def toml_section(recordings: str) -> str:
    return ("\n# MLflow source of the demo (collectors/demo/mlflow_data.py), replayed from its recording\n"
            f'[[sources.mlflow]]\nname = "mlflow"\ntracking_uri = "{BASE_URL}"\nexperiments = ["{EXPERIMENT}"]\n'
            f'replay = "{recordings}"\n')
