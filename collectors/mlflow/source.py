"""The MLflow source (SPEC §12): experiments, runs and the model registry of one tracking server -> rows.

Streams and cursors (JSON in `cursors.value`):
- `runs:<experiment id>`: `{"start_ms": …, "open": [run ids]}`. Each collection searches the experiment's runs
  with `attributes.start_time >= start_ms - RUN_LOOKBACK` (oldest first, `page_token` paging); every page is
  written with the advanced cursor in one transaction, so a crash or kill loses nothing and a rerun duplicates
  nothing (rows are upserted by run id). Runs seen RUNNING or SCHEDULED are kept in `open` and re-read with
  `runs/get` until they end (nothing in MLflow filters on "updated since"). The look-back re-reads a day of runs
  so a run logged late with an older `start_time` (clock skew, raw REST) is still found.
- `registry`: when the last complete registry sweep ended. Each sweep reads every registered model (or those
  listed), its versions and its aliases, compares where each alias and stage points with what the previous
  sweep stored (`mlflow_registry_state`) and writes every change as an `mlflow_registry_events` row, with the
  versions and the new state, in one transaction per model. Open-source MLflow records no actor and no time
  for alias or stage changes: a change is dated between the previous sweep and this one (`window_start`,
  `window_end`), at the registry's own time when it has one in that window (a stage transition updates the
  version's `last_updated_timestamp`; a `promoted_at` version tag), and its actor is the version tag named by
  `promoted_by_tag`, else unknown. A server without a model registry (404) is noted, not an error.
A run's actor is kept raw (`mlflow.user` tag and `user_id`; raw REST and Databricks leave `user_id` empty) and
resolved at metric time (SPEC §3). Links point at the MLflow UI (Databricks: `#mlflow/...`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Engine

from collectors.http import REPLAY_PREFIX, Recorder, is_replay
from collectors.mlflow.client import MlflowClient
from collectors.runs import CollectError, collection_run, ensure_source, read_cursor, utcnow, write_cursor
from collectors.times import db_utc, parse_time
from db.models import (
    MlflowExperiment,
    MlflowModelVersion,
    MlflowRegistryEvent,
    MlflowRegistryState,
    MlflowRun,
)
from db.upsert import upsert
from engagement.config import MlflowSource

RUN_LOOKBACK_MS = 24 * 3600 * 1000
OPEN_STATUSES = {"RUNNING", "SCHEDULED"}
RUN_COLUMNS = [c.name for c in MlflowRun.__table__.columns]
VERSION_COLUMNS = [c.name for c in MlflowModelVersion.__table__.columns]


@dataclass(frozen=True)
class MlflowCollectResult:
    source_name: str
    experiments: int
    runs: int  # run rows written (re-reads of open runs included)
    open_runs: int  # still RUNNING/SCHEDULED after this collection
    models: int
    versions: int
    registry_events: int
    calls: int
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------------------
# JSON -> rows (pure)
# --------------------------------------------------------------------------------------------------------

def ui_base(source: MlflowSource, client_base: str) -> str:
    """Where evidence links point: `ui_url`, else the tracking server (for a replay: the recorded server)."""
    base = source.ui_url or (client_base if not is_replay(client_base) else "")
    return base.rstrip("/")


def _is_databricks(base: str) -> bool:
    host = urllib.parse.urlsplit(base).netloc.lower()
    return "databricks" in host


def run_url(base: str, experiment_id: str, run_id: str) -> str | None:
    if not base:
        return None
    if _is_databricks(base):
        return f"{base}/#mlflow/experiments/{experiment_id}/runs/{run_id}"
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}"


def version_url(base: str, model: str, version: int) -> str | None:
    if not base:
        return None
    name = urllib.parse.quote(model, safe="")
    if _is_databricks(base):
        return f"{base}/#mlflow/models/{name}/versions/{version}"
    return f"{base}/#/models/{name}/versions/{version}"


def _pairs(items) -> dict[str, str]:
    """MLflow's [{key, value}] lists (or an already flat dict, as the export format has) as a dict."""
    if isinstance(items, dict):
        return {str(k): v for k, v in items.items()}
    return {str(i.get("key")): i.get("value") for i in items or [] if isinstance(i, dict) and "key" in i}


def run_row(source_id: int, run: dict, ui: str = "", trigger_tag: str = "ci.trigger") -> dict:
    """One `runs/search` / `runs/get` run as an `mlflow_runs` row (times: epoch ms -> naive UTC)."""
    info = run.get("info") or {}
    data = run.get("data") or {}
    tags = _pairs(data.get("tags"))
    params = _pairs(data.get("params"))
    metrics = {}
    for m in data.get("metrics") or []:
        if isinstance(m, dict) and "key" in m:
            metrics[m["key"]] = m.get("value")
    datasets = []
    for d in (run.get("inputs") or {}).get("dataset_inputs") or []:
        ds = d.get("dataset") or {}
        context = _pairs(d.get("tags")).get("mlflow.data.context")
        datasets.append({"name": ds.get("name"), "digest": ds.get("digest"), "source_type": ds.get("source_type"),
                         "context": context})
    run_id = info.get("run_id") or info.get("run_uuid")
    if not run_id or info.get("start_time") in (None, ""):
        raise CollectError(f"MLflow run {run_id or '?'}: expected info.run_id and info.start_time")
    experiment_id = str(info.get("experiment_id", ""))
    return {
        "source_id": source_id, "run_id": run_id, "experiment_id": experiment_id,
        "run_name": info.get("run_name") or tags.get("mlflow.runName"),
        "user_id": info.get("user_id") or None, "mlflow_user": tags.get("mlflow.user") or None,
        "status": info.get("status") or "RUNNING", "start_time": db_utc(int(info["start_time"])),
        "end_time": db_utc(int(info["end_time"])) if info.get("end_time") not in (None, "") else None,
        "lifecycle_stage": info.get("lifecycle_stage"), "source_type": tags.get("mlflow.source.type"),
        "source_name": tags.get("mlflow.source.name"), "git_commit": tags.get("mlflow.source.git.commit"),
        "parent_run_id": tags.get("mlflow.parentRunId"), "trigger": tags.get(trigger_tag) if trigger_tag else None,
        "params": json.dumps(params, sort_keys=True), "metrics": json.dumps(metrics, sort_keys=True),
        "tags": json.dumps(tags, sort_keys=True), "datasets": json.dumps(datasets, sort_keys=True),
        "url": run_url(ui, experiment_id, run_id),
    }


def experiment_row(source_id: int, exp: dict) -> dict:
    return {"source_id": source_id, "experiment_id": str(exp.get("experiment_id")), "name": exp.get("name") or "",
            "lifecycle_stage": exp.get("lifecycle_stage"), "created_at": db_utc(exp.get("creation_time")),
            "updated_at": db_utc(exp.get("last_update_time"))}


def version_row(source_id: int, v: dict, aliases: Iterable[str], ui: str = "") -> dict:
    version = int(v["version"])
    return {"source_id": source_id, "model": v["name"], "version": version,
            "created_at": db_utc(v.get("creation_timestamp")), "updated_at": db_utc(v.get("last_updated_timestamp")),
            "user_id": v.get("user_id") or None, "current_stage": v.get("current_stage"),
            "aliases": "\n".join(sorted(aliases)), "status": v.get("status"), "run_id": v.get("run_id") or None,
            "source": v.get("source"), "tags": json.dumps(_pairs(v.get("tags")), sort_keys=True),
            "url": version_url(ui, v["name"], version)}


def registry_targets(versions: list[dict], aliases: list[dict]) -> dict[str, set[int]]:
    """Where each alias and stage of one model points now: {"alias:production": {3}, "stage:Staging": {2, 4}}.
    The stage "None" is no target."""
    targets: dict[str, set[int]] = {}
    for a in aliases:
        targets.setdefault(f"alias:{a['alias']}", set()).add(int(a["version"]))
    for v in versions:
        stage = v.get("current_stage")
        if stage and stage != "None":
            targets.setdefault(f"stage:{stage}", set()).add(int(v["version"]))
    return targets


def _tag_time(value) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        return db_utc(int(value)) if str(value).isdigit() else db_utc(parse_time(str(value)))
    except (ValueError, OverflowError):
        return None


def registry_events(model: str, before: dict[str, set[int]], after: dict[str, set[int]],
                    versions: dict[int, dict], seqs: dict[str, int], *, window_start: dt.datetime | None,
                    window_end: dt.datetime, promoted_by_tag: str, source_id: int) -> list[dict]:
    """The changes between two sweeps of one model, as `mlflow_registry_events` rows (see the module docstring).

    A version newly at a target is one event (`previous_version`: the newest version the target held before);
    a target left empty is one event with `version` None. `seqs` holds the last sequence number per target."""
    rows = []
    for target in sorted(set(before) | set(after)):
        old, new = before.get(target, set()), after.get(target, set())
        if old == new:
            continue
        previous = max(old) if old else None
        changes: list[int | None] = sorted(new - old) or [None]
        for version in changes:
            v = versions.get(version) if version is not None else None
            tags = _pairs((v or {}).get("tags"))
            created = db_utc((v or {}).get("creation_timestamp"))
            low = window_start or created
            at, at_source = window_end, "collection"
            candidates = [("tag", _tag_time(tags.get("promoted_at")))]
            if target.startswith("stage:"):
                candidates.append(("registry", db_utc((v or {}).get("last_updated_timestamp"))))
            for label, when in candidates:
                if when is not None and when <= window_end and (low is None or when >= low):
                    at, at_source = when, label
                    break
            actor = tags.get(promoted_by_tag) if promoted_by_tag and version is not None else None
            seqs[target] = seqs.get(target, 0) + 1
            rows.append({"source_id": source_id, "model": model, "target": target, "seq": seqs[target],
                         "version": version, "previous_version": previous, "at": at, "at_source": at_source,
                         "window_start": low, "window_end": window_end, "actor": actor or None,
                         "actor_tag": promoted_by_tag if actor else None})
    return rows


# --------------------------------------------------------------------------------------------------------
# Collection
# --------------------------------------------------------------------------------------------------------

@dataclass
class _Counts:
    runs: int = 0
    versions: int = 0
    events: int = 0
    models: int = 0
    notes: list[str] = field(default_factory=list)


def _credentials(source: MlflowSource) -> tuple[str | None, tuple[str, str] | None]:
    token = os.environ.get(source.token_env) if source.token_env else None
    basic = None
    if source.username_env or source.password_env:
        user = os.environ.get(source.username_env or "")
        password = os.environ.get(source.password_env or "")
        if not user or not password:
            raise CollectError(f"MLflow {source.display_name}: basic auth needs both {source.username_env} and "
                               f"{source.password_env} set in the environment")
        basic = (user, password)
    return token or None, basic


def tracking_uri(source: MlflowSource, config_dir: Path | None) -> str:
    """`tracking_uri`, with a relative `replay:DIR` resolved against the engagement file's folder."""
    uri = source.tracking_uri.strip()
    if is_replay(uri) and config_dir is not None:
        path = Path(uri[len(REPLAY_PREFIX):]).expanduser()
        if not path.is_absolute():
            uri = REPLAY_PREFIX + str((config_dir / path).resolve())
    return uri


def collect_mlflow(engine: Engine, source: MlflowSource, *, config_dir: Path | None = None,
                   train_experiments: Iterable[str] = (), recorder: Recorder | None = None,
                   max_wait: float = 900.0, sleep=None, page_size: int | None = None,
                   now=utcnow) -> MlflowCollectResult:
    """Collect one `[[sources.mlflow]]` (see the module docstring). `train_experiments` ([pipeline] names or ids)
    are collected even when `experiments` is empty."""
    uri = tracking_uri(source, config_dir)
    token, basic = _credentials(source)
    kwargs = {"sleep": sleep} if sleep is not None else {}
    client = MlflowClient(uri, token=token, basic=basic, max_wait=max_wait, recorder=recorder, **kwargs)
    ui = ui_base(source, client.base_url)
    with engine.begin() as conn:
        source_id = ensure_source(conn, "mlflow", uri if is_replay(uri) else client.base_url, source.display_name)
    counts = _Counts()
    try:
        with collection_run(engine, source_id, None, secrets=client.secrets) as log:
            experiments = _experiments(engine, client, source_id, [*source.experiments, *train_experiments])
            for exp_id in experiments:
                _collect_runs(engine, client, source, source_id, exp_id, ui, counts, page_size, log)
            _collect_registry(engine, client, source, source_id, ui, counts, now)
            log.items_written = counts.runs + counts.versions + counts.events
            log.cursor_after = json.dumps({"experiments": experiments, "runs": counts.runs,
                                           "registry_events": counts.events})
            log.notes.extend(counts.notes)
            open_runs = _open_count(engine, source_id, experiments)
    finally:
        client.close()
    return MlflowCollectResult(source.display_name, len(experiments), counts.runs, open_runs, counts.models,
                               counts.versions, counts.events, client.calls, tuple(counts.notes))


def _experiments(engine: Engine, client: MlflowClient, source_id: int, wanted: list[str]) -> list[str]:
    """Resolve configured names or ids (every active experiment when none) and store them; their ids in order."""
    seen: dict[str, dict] = {}
    if wanted:
        for name in dict.fromkeys(wanted):
            exp = client.experiment(name)
            seen[str(exp["experiment_id"])] = exp
    else:
        for exp in client.experiments():
            seen[str(exp["experiment_id"])] = exp
    with engine.begin() as conn:
        upsert(conn, MlflowExperiment.__table__, [experiment_row(source_id, e) for e in seen.values()],
               key=["source_id", "experiment_id"], update=["name", "lifecycle_stage", "created_at", "updated_at"])
    return list(seen)


def _read_runs_cursor(conn: Connection, source_id: int, exp_id: str) -> tuple[int | None, list[str]]:
    raw = read_cursor(conn, source_id, f"runs:{exp_id}")
    if not raw:
        return None, []
    doc = json.loads(raw)
    return doc.get("start_ms"), list(doc.get("open") or [])


def _write_runs(conn: Connection, rows: list[dict]) -> None:
    upsert(conn, MlflowRun.__table__, rows, key=["source_id", "run_id"],
           update=[c for c in RUN_COLUMNS if c not in ("source_id", "run_id")])


def _collect_runs(engine: Engine, client: MlflowClient, source: MlflowSource, source_id: int, exp_id: str,
                  ui: str, counts: _Counts, page_size: int | None, log) -> None:
    with engine.connect() as conn:
        start_ms, open_ids = _read_runs_cursor(conn, source_id, exp_id)
    open_set = set(open_ids)
    seen: set[str] = set()
    search_from = None if start_ms is None else max(0, start_ms - RUN_LOOKBACK_MS)
    pages = client.search_runs([exp_id], search_from, **({"page_size": page_size} if page_size else {}))
    for runs in pages:
        rows = [run_row(source_id, r, ui, source.trigger_tag) for r in runs]
        log.items_seen += len(rows)
        if not rows:
            continue
        for row, run in zip(rows, runs, strict=True):
            seen.add(row["run_id"])
            if row["status"] in OPEN_STATUSES:
                open_set.add(row["run_id"])
            else:
                open_set.discard(row["run_id"])
            start = int((run.get("info") or {})["start_time"])
            start_ms = start if start_ms is None else max(start_ms, start)
        with engine.begin() as conn:  # the page and the cursor it advances: one transaction
            _write_runs(conn, rows)
            _write_runs_cursor(conn, source_id, exp_id, start_ms, open_set)
        counts.runs += len(rows)
    for run_id in sorted(open_set - seen):  # still open at the last collection, not re-read by the search
        run = client.get_run(run_id)
        with engine.begin() as conn:
            if run is None:
                counts.notes.append(f"run {run_id} no longer exists in MLflow; its last stored state is kept")
            else:
                row = run_row(source_id, run, ui, source.trigger_tag)
                _write_runs(conn, [row])
                counts.runs += 1
                if row["status"] in OPEN_STATUSES:
                    continue
            open_set.discard(run_id)
            _write_runs_cursor(conn, source_id, exp_id, start_ms, open_set)


def _write_runs_cursor(conn: Connection, source_id: int, exp_id: str, start_ms: int | None,
                       open_set: set[str]) -> None:
    write_cursor(conn, source_id, f"runs:{exp_id}", json.dumps({"start_ms": start_ms, "open": sorted(open_set)}))


def _open_count(engine: Engine, source_id: int, experiments: list[str]) -> int:
    with engine.connect() as conn:
        return sum(len(_read_runs_cursor(conn, source_id, e)[1]) for e in experiments)


def _last_seqs(conn: Connection, source_id: int, model: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for target, seq in conn.execute(select(MlflowRegistryEvent.target, MlflowRegistryEvent.seq)
                                    .where(MlflowRegistryEvent.source_id == source_id,
                                           MlflowRegistryEvent.model == model)):
        out[target] = max(out.get(target, 0), int(seq))
    return out


def _collect_registry(engine: Engine, client: MlflowClient, source: MlflowSource, source_id: int, ui: str,
                      counts: _Counts, now) -> None:
    models = client.registered_models()
    if models is None:
        counts.notes.append("this MLflow server has no model registry (404): no model versions or promotions")
        return
    with engine.connect() as conn:
        previous = read_cursor(conn, source_id, "registry")
    window_start = dt.datetime.fromisoformat(previous) if previous else None
    window_end = now()
    wanted = set(source.models)
    for model in _names(models, wanted):
        versions = client.model_versions(model)
        detail = client.registered_model(model) or {}
        aliases = detail.get("aliases") or []
        by_version = {int(v["version"]): v for v in versions}
        alias_of: dict[int, list[str]] = {}
        for a in aliases:
            alias_of.setdefault(int(a["version"]), []).append(a["alias"])
        after = registry_targets(versions, aliases)
        with engine.begin() as conn:  # versions, events and the new state of one model: one transaction
            before = {t: {int(v) for v in vs.split()} for t, vs in conn.execute(
                select(MlflowRegistryState.target, MlflowRegistryState.versions)
                .where(MlflowRegistryState.source_id == source_id, MlflowRegistryState.model == model))}
            events = registry_events(model, before, after, by_version, _last_seqs(conn, source_id, model),
                                     window_start=window_start, window_end=window_end,
                                     promoted_by_tag=source.promoted_by_tag, source_id=source_id)
            upsert(conn, MlflowModelVersion.__table__,
                   [version_row(source_id, v, alias_of.get(int(v["version"]), []), ui) for v in versions],
                   key=["source_id", "model", "version"],
                   update=[c for c in VERSION_COLUMNS if c not in ("source_id", "model", "version")])
            upsert(conn, MlflowRegistryEvent.__table__, events, key=["source_id", "model", "target", "seq"])
            conn.execute(delete(MlflowRegistryState).where(MlflowRegistryState.source_id == source_id,
                                                           MlflowRegistryState.model == model))
            upsert(conn, MlflowRegistryState.__table__,
                   [{"source_id": source_id, "model": model, "target": t,
                     "versions": " ".join(str(v) for v in sorted(vs)), "checked_at": window_end}
                    for t, vs in after.items()], key=["source_id", "model", "target"])
        counts.models += 1
        counts.versions += len(versions)
        counts.events += len(events)
    with engine.begin() as conn:
        write_cursor(conn, source_id, "registry", window_end.isoformat())


def _names(models: Iterator[dict], wanted: set[str]) -> list[str]:
    names = [m["name"] for m in models if not wanted or m["name"] in wanted]
    missing = wanted - set(names)
    if missing:
        raise CollectError(f"MLflow: registered model(s) {', '.join(sorted(missing))} not found (listed in "
                           "[[sources.mlflow]].models)")
    return names
