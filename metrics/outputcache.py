"""A command's printed output, reused while nothing it depends on changed (issue 11: `weekly` ≤ 2 s including
start-up on a real history): `python -m metrics weekly | evidence | competency` answer from here before pandas,
SQLAlchemy, pydantic or the metrics package are imported.

Standard library only (plus `sqlite3`, or psycopg for a PostgreSQL URL: db/rawdb.py). `lookup(argv)` is called
first thing by metrics/__main__.py:

- it returns an `Entry` only for a cacheable command (weekly, evidence, competency) whose arguments it fully
  understands, with a readable TOML engagement file, and a database it can open without SQLAlchemy (SQLite file,
  PostgreSQL) that is at this code's migration head; otherwise None and the command runs as always;
- the entry's key is the sha256 of: the command and its options (config and database resolved), the engagement
  file's bytes, the engagement-local date (what compute() calls "today": weeks so far, at-risk milestones), the
  data version (db/rawdb.py: the newest collection run that could have written something, with its counters and
  cursor, tags, evaluation counts, the ledger head — signatures, freezes, purges —, purge tombstones, the schema)
  and the code that computes and prints (metrics/, engagement/, db/);
- `entry.cached()` is the output stored under that key by an earlier run, or None; the normal path runs the
  command, and `entry.store(text)` keeps its output when it exited 0 (errors are never cached).

So a hit prints exactly what the normal path printed for the same inputs. Entries live in the engagement's cache
folder (engagement/cachedir.py `OUTPUTS`), written atomically, pruned to the newest; `forget_computed` (a purge,
a retention run) deletes them with the computed metrics. `BATON_METRICS_CACHE=off` disables it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from db import rawdb
from engagement.cachedir import OUTPUTS, cache_dir

ROOT = Path(__file__).resolve().parents[1]
CODE_ROOTS = ("metrics", "engagement", "db")
CACHE_ENV = "BATON_METRICS_CACHE"
KEEP = 64  # newest entries kept per engagement cache folder
# command -> {option: takes a value, repeatable}; anything else (--help, a typo, an option added later) is not cached
COMMANDS = {
    "weekly": {"--format": (True, False), "--repo": (True, True), "--kpi": (True, True),
               "--capability": (True, True)},
    "evidence": {"--format": (True, False), "--kpi": (True, False), "--week": (True, False),
                 "--capability": (True, False)},
    "competency": {"--format": (True, False), "--week": (True, False)},
}


def disabled() -> bool:
    return os.environ.get(CACHE_ENV, "").lower() in ("0", "off", "no", "false")


def _parse(argv: list[str]) -> tuple[str, Path, str | None, dict] | None:
    """(command, config, --db, other options) when every argument is one this cache knows; else None."""
    if not argv or argv[0] not in COMMANDS:
        return None
    known = COMMANDS[argv[0]]
    config, db, options = None, None, {}
    i = 1
    while i < len(argv):
        arg, value = argv[i], None
        if "=" in arg and arg.startswith("--"):
            arg, value = arg.split("=", 1)
        elif i + 1 < len(argv):
            value = argv[i + 1]
            i += 1
        if value is None:
            return None
        if arg == "--config":
            config = Path(value)
        elif arg == "--db":
            db = value
        elif arg in known:
            _, repeatable = known[arg]
            if repeatable:
                options.setdefault(arg, []).append(value)
            elif arg in options:
                return None  # argparse keeps the last one: let it
            else:
                options[arg] = value
        else:
            return None
        i += 1
    return (argv[0], config, db, options) if config else None


def code_version() -> str:
    """sha256 of the source that computes and prints (metrics/, engagement/, db/)."""
    digest = hashlib.sha256()
    for name in CODE_ROOTS:
        for f in sorted((ROOT / name).rglob("*.py")):
            digest.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Entry:
    """Where one command's output is (or will be) kept."""

    folder: Path
    key: str

    @property
    def path(self) -> Path:
        return self.folder / OUTPUTS / self.key

    def cached(self) -> str | None:
        try:
            with open(self.path, encoding="utf-8", newline="") as f:  # as printed: csv's \r\n stays
                text = f.read()
            os.utime(self.path)  # recently used: prune() keeps it
        except (OSError, UnicodeDecodeError):
            return None
        return text

    def store(self, text: str) -> None:
        """Keep `text` under the key (atomically: a reader never sees half of it); never raises."""
        target = self.path
        tmp = target.with_name(f".{self.key}.{os.getpid()}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            os.replace(tmp, target)
            _prune(target.parent)
        except OSError:
            tmp.unlink(missing_ok=True)


def _prune(folder: Path) -> None:
    entries = sorted((p for p in folder.iterdir() if not p.name.startswith(".")), key=lambda p: p.stat().st_mtime,
                     reverse=True)
    for old in entries[KEEP:]:
        old.unlink(missing_ok=True)


def lookup(argv: list[str]) -> Entry | None:
    """The cache entry of this command line, or None when it is not one this cache may answer (see module doc)."""
    if disabled():
        return None
    try:
        parsed = _parse(argv)
        if parsed is None:
            return None
        command, config, db_arg, options = parsed
        body = config.read_bytes()
        doc = tomllib.loads(body.decode("utf-8"))
        timezone = (doc.get("engagement") or {}).get("timezone", "UTC")
        today = dt.datetime.now(dt.UTC).astimezone(ZoneInfo(timezone)).date().isoformat()
        url = rawdb.resolve_db_url(db_arg, config)
        db = rawdb.RawDb(url)
        try:
            if not db.at_head():
                return None
            version = rawdb.data_version(db.all)
        finally:
            db.close()
        where = url
        if url.startswith("sqlite:///"):  # a relative file is relative to the working directory: key the file itself
            where = f"sqlite:///{Path(url.removeprefix('sqlite:///')).resolve()}"
        payload = {"command": command, "options": options, "config": str(config.resolve()), "db": where,
                   "engagement": hashlib.sha256(body).hexdigest(), "today": today, "data": version,
                   "code": code_version(), "python": sys.version_info[:2]}
        key = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
        return Entry(cache_dir(config), key)
    except Exception:  # noqa: BLE001 - anything unexpected (unreadable file, bad TOML, unknown zone, DB error):
        return None  # the normal path decides, and reports it properly
