"""A disk cache of computed metrics (issue 11), so a fresh server, the next page or the CLI reuses them.

Keyed by everything a computed frame depends on, never by time alone:

    key = cache_key(data_version=db.reads.data_version(engine),   # collected rows (and schema)
                    engagement_sha256=engagement_hash(cfg.file),   # roster, capabilities, targets, plan...
                    filters={"repo": [...], "accepted": [...]},    # what the caller narrowed or added
                    as_of=local_date_in_engagement_tz.isoformat(), # compute() depends on today's week
                    code=code_version())                           # the metrics code that computed it
    frames = load_frames(folder, key)            # None when absent or unreadable
    if frames is None:
        frames = {"weekly": compute(...).weekly}
        store_frames(folder, key, frames)

`folder` is `engagement.cachedir.cache_dir(cfg.file)` (`$BATON_CACHE_DIR`, else `.baton-cache/` beside the
engagement file). Frames are stored as Parquet (one file per frame, pandas dtypes kept in the Parquet
metadata; not pickle, so a cache folder someone else can write is never code run here). A store is
atomic (written to a temporary folder, then renamed), so a reader never sees half an entry, and a
damaged entry is treated as absent. prune() keeps the newest entries.

Pure apart from the file system: no DB access, no Streamlit. The service (metrics/service.py on the kpi
branch) decides what to cache; `python -m metrics weekly` and every page can share entries.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engagement.cachedir import COMPUTED

PACKAGE = Path(__file__).resolve().parent
_CODE_ROOTS = [PACKAGE, PACKAGE.parent / "engagement", PACKAGE.parent / "db" / "queries.py",
               PACKAGE.parent / "db" / "reads.py"]
FOLDER = COMPUTED  # under the cache dir


def _canonical(value: Any) -> Any:
    """JSON-ready and order-independent where order carries no meaning (sets, dict keys)."""
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, set | frozenset):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # dates, paths


def cache_key(data_version: str, engagement_sha256: str, filters: Mapping[str, Any] | None = None,
              as_of: str = "", code: str = "") -> str:
    """The entry name for one computation: sha256 of its canonical inputs (pure; same inputs, same key)."""
    payload = {"data": data_version, "engagement": engagement_sha256, "filters": _canonical(filters or {}),
               "as_of": as_of, "code": code}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def engagement_hash(path: str | Path) -> str:
    """sha256 of the engagement file's bytes (any edit, even a comment, computes afresh)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def code_version() -> str:
    """sha256 of the source of the code that computes (metrics/, engagement/, the DB readers)."""
    digest = hashlib.sha256()
    for root in _CODE_ROOTS:
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for f in files:
            digest.update(str(f.relative_to(PACKAGE.parent)).encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()


def _entry(folder: Path, key: str) -> Path:
    return Path(folder) / FOLDER / key


def load_frames(folder: str | Path, key: str) -> dict[str, pd.DataFrame] | None:
    """The frames stored under `key`, or None when there is no complete, readable entry."""
    entry = _entry(Path(folder), key)
    try:
        index = json.loads((entry / "frames.json").read_text())
        frames = {}
        for i, name in enumerate(index["names"]):
            frame = pd.read_parquet(entry / f"{i}.parquet")
            for col, null, *kind in index["object_columns"][i]:
                if kind == ["json"]:  # lists and dicts (runbook interventions): stored as tagged JSON text
                    frame[col] = pd.Series([_from_json(v) for v in frame[col]], index=frame.index, dtype=object)
                    continue
                # Parquet stores text columns as strings; give back the object column it was, with the
                # missing values it had (None, or NaN when any was NaN).
                values = frame[col].astype(object)
                frame[col] = values.where(values.notna(), None if null == "none" else np.nan)
            frames[name] = frame
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    try:
        os.utime(entry)  # recently used: prune() keeps it
    except OSError:
        pass
    return frames


def _holds_containers(column: pd.Series) -> bool:
    return bool(column.map(lambda v: isinstance(v, list | tuple | dict)).any())


def _tagged(value: Any) -> Any:
    """A list/dict value as JSON-ready data that _untagged() turns back into an equal value (times keep their
    type and zone; Parquet would give lists back as numpy arrays and timestamps as whatever pyarrow picks)."""
    if isinstance(value, dict):
        return {"$dict": [[str(k), _tagged(v)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return [_tagged(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return {"$ts": None if pd.isna(value) else value.isoformat()}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _untagged(value: Any) -> Any:
    if isinstance(value, list):
        return [_untagged(v) for v in value]
    if isinstance(value, dict) and "$dict" in value:
        return {k: _untagged(v) for k, v in value["$dict"]}
    if isinstance(value, dict) and "$ts" in value:
        return pd.NaT if value["$ts"] is None else pd.Timestamp(value["$ts"])
    return value


def _to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(_tagged(value), separators=(",", ":"))


def _from_json(text: Any) -> Any:
    return None if text is None or text is pd.NA or (isinstance(text, float) and text != text) else \
        _untagged(json.loads(text))


def _null_kind(column: pd.Series) -> str:
    """How an object column marks missing values: "nan" when any is a float NaN, else "none"."""
    return "nan" if column.map(lambda v: isinstance(v, float) and v != v).any() else "none"


def store_frames(folder: str | Path, key: str, frames: Mapping[str, pd.DataFrame]) -> bool:
    """Store `frames` under `key` atomically; False (and nothing stored) when the folder is not writable or a
    frame cannot be written as Parquet. Never raises: a cache must not break the computation."""
    entry = _entry(Path(folder), key)
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=entry.parent))
    except OSError:
        return False
    try:
        object_columns = []
        for i, frame in enumerate(frames.values()):
            columns = []
            for c in frame.columns:
                if frame[c].dtype != object:
                    continue
                if _holds_containers(frame[c]):
                    frame = frame.assign(**{c: frame[c].map(_to_json)})
                    columns.append([str(c), "none", "json"])
                else:
                    columns.append([str(c), _null_kind(frame[c])])
            frame.to_parquet(tmp / f"{i}.parquet", index=True)
            object_columns.append(columns)
        (tmp / "frames.json").write_text(json.dumps({"names": list(frames), "object_columns": object_columns}))
        try:
            tmp.rename(entry)
        except OSError:  # another process stored the same key first: theirs is as good
            shutil.rmtree(tmp, ignore_errors=True)
        return True
    except Exception:  # noqa: BLE001 - e.g. a column pyarrow cannot write: compute without caching
        shutil.rmtree(tmp, ignore_errors=True)
        return False


def prune(folder: str | Path, keep: int = 20) -> int:
    """Remove all but the `keep` most recently used entries; returns how many were removed."""
    root = Path(folder) / FOLDER
    if not root.is_dir():
        return 0
    entries = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    return max(0, len(entries) - keep)
