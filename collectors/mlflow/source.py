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
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from collectors.driver import Page
from collectors.http import REPLAY_PREFIX, Recorder, is_replay
from collectors.mlflow.client import MlflowClient
from collectors.runs import CollectError
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
# The driver source
# --------------------------------------------------------------------------------------------------------

def credentials(source: MlflowSource) -> tuple[str | None, tuple[str, str] | None]:
    """(bearer token, (user, password)) from the environment variables the source names."""
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


class MlflowRunSource:
    """One `[[sources.mlflow]]`, for collectors/driver.py (see the module docstring). `train_experiments` (the
    `[pipeline]` kinds' `mlflow_experiments`) are collected too when `experiments` lists some but not them."""

    kind = "mlflow"
    main_stream = "runs"

    def __init__(self, source: MlflowSource, *, extra_experiments: Iterable[str] = (),
                 client: MlflowClient | None = None, replay: str | Path | None = None,
                 recorder: Recorder | None = None, max_wait: float = 900.0,
                 page_size: int | None = None, now=None):
        self.config, self.client = source, client
        self.name = source.display_name
        self.key = source.tracking_uri.rstrip("/")
        self.label = f"mlflow {self.name}"
        self.wanted = list(dict.fromkeys([*source.experiments, *(extra_experiments if source.experiments else ())]))
        self._own_client = client is None
        self._replay, self._recorder, self._max_wait = replay, recorder, max_wait
        self.page_size = page_size
        self._now = now or (lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None))
        self.counts = {"experiments": 0, "runs": 0, "open": 0, "models": 0, "versions": 0, "events": 0}
        self.ui = ""

    @property
    def secrets(self) -> tuple[str, ...]:
        return self.client.secrets if self.client else ()

    def open(self) -> None:
        if self.client is None:
            replaying = self._replay is not None or is_replay(self.config.tracking_uri)
            token, basic = (None, None) if replaying else credentials(self.config)
            uri = f"{REPLAY_PREFIX}{self._replay}" if self._replay is not None else self.config.tracking_uri
            self.client = MlflowClient(uri, token=token, basic=basic, recorder=self._recorder,
                                       max_wait=self._max_wait)
        self.ui = ui_base(self.config, self.client.base_url)
        self.key = self.client.base_url  # a replay keeps the recorded server's key (and links)

    def close(self) -> None:
        if self._own_client and self.client is not None:
            self.client.close()

    def summary(self, result) -> str:
        c = self.counts
        return (f"mlflow {self.name}: {c['experiments']} experiments, {c['runs']} runs read ({c['open']} still "
                f"running), {c['models']} models, {c['versions']} versions, {c['events']} registry changes; "
                f"calls used: {self.client.calls if self.client else 0}")

    # -- the work ------------------------------------------------------------------------------------------------
    def pages(self, run) -> Iterator[Page]:
        experiments = self._experiments()
        rows = [experiment_row(run.source_id, e) for e in experiments]
        self.counts["experiments"] = len(rows)
        yield Page(write=lambda conn: upsert(conn, MlflowExperiment.__table__, rows, key=["source_id", "experiment_id"],
                                             update=["name", "lifecycle_stage", "created_at", "updated_at"]),
                   seen=len(rows), written=len(rows))
        for exp in rows:
            yield from self._runs(run, exp["experiment_id"])
        yield from self._registry(run)

    def _experiments(self) -> list[dict]:
        seen: dict[str, dict] = {}
        if self.wanted:
            for name in self.wanted:
                try:
                    exp = self.client.experiment(name)
                except CollectError:
                    if name in self.config.experiments:
                        raise
                    continue  # a [pipeline] experiment of another tracking server
                seen[str(exp["experiment_id"])] = exp
        else:
            for exp in self.client.experiments():
                seen[str(exp["experiment_id"])] = exp
        return list(seen.values())

    def _runs(self, run, exp_id: str) -> Iterator[Page]:
        stream = f"runs:{exp_id}"
        doc = json.loads(run.cursor(stream) or "{}")
        start_ms, open_set = doc.get("start_ms"), set(doc.get("open") or [])
        seen: set[str] = set()
        search_from = None if start_ms is None else max(0, int(start_ms) - RUN_LOOKBACK_MS)
        kwargs = {"page_size": self.page_size} if self.page_size else {}
        for runs in self.client.search_runs([exp_id], search_from, **kwargs):
            rows = [run_row(run.source_id, r, self.ui, self.config.trigger_tag) for r in runs]
            for row, raw in zip(rows, runs, strict=True):
                seen.add(row["run_id"])
                (open_set.add if row["status"] in OPEN_STATUSES else open_set.discard)(row["run_id"])
                start = int((raw.get("info") or {})["start_time"])
                start_ms = start if start_ms is None else max(int(start_ms), start)
            self.counts["runs"] += len(rows)
            yield self._run_page(rows, stream, start_ms, open_set, seen=len(rows))
        for run_id in sorted(open_set - seen):  # open at the last collection and not re-read by the search
            raw = self.client.get_run(run_id)
            rows = [] if raw is None else [run_row(run.source_id, raw, self.ui, self.config.trigger_tag)]
            if raw is None:
                run.notes.append(f"run {run_id} no longer exists in MLflow; its last stored state is kept")
            if not rows or rows[0]["status"] not in OPEN_STATUSES:
                open_set.discard(run_id)
            self.counts["runs"] += len(rows)
            yield self._run_page(rows, stream, start_ms, open_set, seen=len(rows))
        self.counts["open"] += len(open_set)

    def _run_page(self, rows: list[dict], stream: str, start_ms, open_set: set[str], seen: int) -> Page:
        cursor = json.dumps({"start_ms": start_ms, "open": sorted(open_set)})
        newest = dt.datetime.fromtimestamp(int(start_ms) / 1000, dt.UTC).replace(tzinfo=None).isoformat() \
            if start_ms is not None else None
        return Page(write=lambda conn: upsert(conn, MlflowRun.__table__, rows, key=["source_id", "run_id"],
                                              update=[c for c in RUN_COLUMNS if c not in ("source_id", "run_id")]),
                    cursors={stream: cursor, self.main_stream: newest}, seen=seen, written=len(rows),
                    progress=len(rows))

    def _registry(self, run) -> Iterator[Page]:
        models = self.client.registered_models()
        if models is None:
            run.notes.append("this MLflow server has no model registry (404): no model versions or promotions")
            return
        previous = run.cursor("registry")
        window_start = dt.datetime.fromisoformat(previous) if previous else None
        window_end = self._now()
        for model in _names(models, set(self.config.models)):
            versions = self.client.model_versions(model)
            aliases = (self.client.registered_model(model) or {}).get("aliases") or []
            yield self._model_page(run, model, versions, aliases, window_start, window_end)
        yield Page(cursors={"registry": window_end.isoformat()})

    def _model_page(self, run, model: str, versions: list[dict], aliases: list[dict],
                    window_start: dt.datetime | None, window_end: dt.datetime) -> Page:
        """Versions, the changes since the previous sweep and the new state of one model: one page. The state is
        read here, outside the page's transaction, which is safe: the driver holds the source's lock."""
        source_id = run.source_id
        by_version = {int(v["version"]): v for v in versions}
        alias_of: dict[int, list[str]] = {}
        for a in aliases:
            alias_of.setdefault(int(a["version"]), []).append(a["alias"])
        after = registry_targets(versions, aliases)
        with run.engine.connect() as conn:
            before = {t: {int(v) for v in vs.split()} for t, vs in conn.execute(
                select(MlflowRegistryState.target, MlflowRegistryState.versions)
                .where(MlflowRegistryState.source_id == source_id, MlflowRegistryState.model == model))}
            seqs: dict[str, int] = {}
            for target, seq in conn.execute(select(MlflowRegistryEvent.target, MlflowRegistryEvent.seq).where(
                    MlflowRegistryEvent.source_id == source_id, MlflowRegistryEvent.model == model)):
                seqs[target] = max(seqs.get(target, 0), int(seq))
        events = registry_events(model, before, after, by_version, seqs, window_start=window_start,
                                 window_end=window_end, promoted_by_tag=self.config.promoted_by_tag,
                                 source_id=source_id)
        version_rows = [version_row(source_id, v, alias_of.get(int(v["version"]), []), self.ui) for v in versions]
        state = [{"source_id": source_id, "model": model, "target": t, "versions": " ".join(map(str, sorted(vs))),
                  "checked_at": window_end} for t, vs in after.items()]

        def write(conn: Connection) -> None:
            upsert(conn, MlflowModelVersion.__table__, version_rows, key=["source_id", "model", "version"],
                   update=[c for c in VERSION_COLUMNS if c not in ("source_id", "model", "version")])
            upsert(conn, MlflowRegistryEvent.__table__, events, key=["source_id", "model", "target", "seq"])
            conn.execute(delete(MlflowRegistryState).where(MlflowRegistryState.source_id == source_id,
                                                           MlflowRegistryState.model == model))
            upsert(conn, MlflowRegistryState.__table__, state, key=["source_id", "model", "target"])

        self.counts["models"] += 1
        self.counts["versions"] += len(version_rows)
        self.counts["events"] += len(events)
        return Page(write=write, seen=len(versions), written=len(version_rows) + len(events))


def _names(models: Iterator[dict], wanted: set[str]) -> list[str]:
    names = [m["name"] for m in models if not wanted or m["name"] in wanted]
    missing = wanted - set(names)
    if missing:
        raise CollectError(f"MLflow: registered model(s) {', '.join(sorted(missing))} not found (listed in "
                           "[[sources.mlflow]].models)")
    return names
