"""The no-change rerun fast path (issue 11): `python -m collectors collect` answers in a blink when no git
source moved, before SQLAlchemy, pandas, pydantic or the metrics package are imported.

Standard library only (plus the `sqlite3` module, or psycopg for a PostgreSQL URL). `fast_collect(argv)` is
called first thing by collectors/__main__.py; it returns an exit code when it handled the run, or None to
let the normal path run — which it does whenever it is not CERTAIN the normal path would change nothing:

- the command is `collect` with a readable TOML engagement file that the normal path validated before
  (remember_valid_config(), called by the normal path, leaves a marker in the cache dir), and only git
  sources are configured: any other kind (GitHub, Jira, GitLab, MLflow, or one added later) must be asked,
  so the normal path runs;
- the database exists, is SQLite (file) or PostgreSQL through psycopg, and is at the migration head of this
  code (checked against db/migrations/versions without importing Alembic);
- for every selected git source: the source is registered under the same name, no collection holds its
  lock (no `source_locks` row: db/runs.py SourceLock) and no run of it is left 'running', the branch tip
  (refs/heads/B, else refs/remotes/origin/B) equals the stored cursor, and the repository's tags are the
  stored tags (name, commit, date, offset, tagger);
- evaluation-test counts (eval_coverage) cannot have moved: no `evaluation` paths, or the `eval_tests`
  cursor (collectors/git/eval_tests.py) is at this tip for the same paths.

Then it logs one successful run per source (0 items, cursor before = after = tip) as the normal path
does, prints the same lines, and exits 0. One `git for-each-ref` per source and a few indexed queries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from db.rawdb import NotAvailable, RawDb, resolve_db_url
from engagement.cachedir import cache_dir

ROOT = Path(__file__).resolve().parents[1]
CONFIG_CODE = ROOT / "engagement" / "config.py"  # validation rules: a marker holds only for the same rules
STREAM = "commits"  # collectors/git/source.py's cursor stream
EVAL_STREAM = "eval_tests"  # collectors/git/eval_tests.py's cursor stream
EVALUATION = "evaluation"
DEFAULT_EVAL_PATHS = ["eval/**"]  # engagement/config.py's default `evaluation` capability
_US = "\x1f"
_GIT_ENV = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}


class _NotSure(Exception):
    """Anything unexpected: the normal path decides."""


def _config_marker(config_file: Path) -> Path:
    digest = hashlib.sha256(config_file.read_bytes() + b"\0" + CONFIG_CODE.read_bytes()).hexdigest()
    return cache_dir(config_file) / "valid-config" / digest


def remember_valid_config(config_file: Path | None) -> None:
    """Called by the normal path once the engagement file validated: later reruns may take the fast path."""
    if config_file is None:
        return
    try:
        marker = _config_marker(Path(config_file))
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:  # a read-only folder only costs the fast path
        pass


def _fix_text(value: str) -> str:
    """As collectors/git/client.py: undecodable bytes (surrogates) are read as Latin-1."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("latin-1")


def _parse_args(argv: list[str]) -> tuple[Path, str | None, list[str] | None, bool] | None:
    """`collect --config F [--db URL] [--source NAME]... [--quiet] [--max-wait S]`, or None."""
    if not argv or argv[0] != "collect":
        return None
    config, db, sources, quiet = None, None, [], False
    i = 1
    while i < len(argv):
        arg, value = argv[i], None
        if "=" in arg and arg.startswith("--"):
            arg, value = arg.split("=", 1)
        if arg in ("--config", "--db", "--source", "--max-wait"):
            if value is None:
                if i + 1 >= len(argv):
                    return None
                value = argv[i + 1]
                i += 1
            if arg == "--config":
                config = Path(value)
            elif arg == "--db":
                db = value
            elif arg == "--source":
                sources.append(value)
        elif arg in ("--quiet", "--no-wait") and value is None:
            quiet = quiet or arg == "--quiet"  # --no-wait: a held lock sends the run to the normal path anyway
        else:
            return None  # --help, a typo, anything new: argparse's job
        i += 1
    return (config, db, sources or None, quiet) if config else None


def _git_refs(repo: Path, branch: str) -> tuple[str, int, list[tuple]]:
    """(tip sha, tip commit time as epoch seconds, tags as stored rows) from ONE `git for-each-ref`."""
    fmt = _US.join(["%(refname)", "%(objecttype)", "%(objectname)", "%(*objecttype)", "%(*objectname)",
                    "%(creatordate:iso-strict)", "%(taggername)", "%(taggeremail:trim)", "%(committerdate:unix)"])
    out = subprocess.run(["git", "-C", str(repo), "for-each-ref", f"--format={fmt}", f"refs/heads/{branch}",
                          f"refs/remotes/origin/{branch}", "refs/tags"], capture_output=True, env=_GIT_ENV)
    if out.returncode != 0:
        raise _NotSure("git for-each-ref failed")
    heads: dict[str, tuple[str, int]] = {}
    tags = []
    for line in out.stdout.decode("utf-8", "surrogateescape").splitlines():
        ref, otype, oid, ptype, pid, date, tagger, tagger_email, committed = line.split(_US)
        if ref.startswith("refs/tags/"):
            sha = pid if otype == "tag" else oid
            if (ptype if otype == "tag" else otype) != "commit":
                continue
            when, tz = None, None
            if date:
                at = dt.datetime.fromisoformat(date)
                when = at.astimezone(dt.UTC).replace(tzinfo=None)
                tz = int((at.utcoffset() or dt.timedelta(0)).total_seconds() // 60)
            tags.append((_fix_text(ref.removeprefix("refs/tags/")), sha, when, tz, _fix_text(tagger) or None,
                         _fix_text(tagger_email) or None))
        elif otype == "commit":
            heads[ref] = (oid, int(committed))
    for ref in (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}"):
        if ref in heads:
            return heads[ref][0], heads[ref][1], sorted(tags, key=lambda t: t[0])
    raise _NotSure("branch not found as a head")


def _eval_paths(doc: dict) -> list[str]:
    """As collectors/configured.py: the `evaluation` capability's paths (the default capabilities when the file
    lists none), [] when it has none."""
    caps = doc.get("capabilities")
    if caps is None:
        return DEFAULT_EVAL_PATHS
    return next((list(c.get("paths", [])) for c in caps if c.get("key") == EVALUATION and c.get("paths")), [])


def _plan(argv: list[str]) -> tuple[RawDb, list[dict], bool] | None:
    parsed = _parse_args(argv)
    if parsed is None:
        return None
    config, db_arg, only, quiet = parsed
    try:
        raw = config.read_bytes()
        if not _config_marker(config).exists():
            return None
        doc = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    sources = doc.get("sources", {})
    if not isinstance(sources, dict) or not sources.get("git") or any(
            v for k, v in sources.items() if k != "git"):
        return None  # another kind of source (GitHub, Jira, GitLab, MLflow, ...) is asked by the normal path
    folder = config.resolve().parent
    selected = []
    for src in sources["git"]:
        path = Path(src["path"]).expanduser()
        repo = (path if path.is_absolute() else folder / path).resolve()
        name = src.get("name") or Path(src["path"]).name.removesuffix(".git")
        if only and name not in only:
            continue
        selected.append({"repo": repo, "branch": src.get("branch", "main"), "name": name})
    if not selected:
        return None
    eval_paths = _eval_paths(doc)
    db = RawDb(resolve_db_url(db_arg, config))
    if not db.at_head():
        raise _NotSure("the database needs migrating")
    for s in selected:
        tip, _tip_time, tags = _git_refs(s["repo"], s["branch"])
        found = db.all("SELECT id, name FROM sources WHERE kind = 'git' AND key = ?", (f"{s['repo']}#{s['branch']}",))
        if not found or found[0][1] != s["name"]:
            raise _NotSure("new or renamed source")
        source_id = found[0][0]
        cursor = db.all("SELECT value FROM cursors WHERE source_id = ? AND stream = ?", (source_id, STREAM))
        if not cursor or cursor[0][0] != tip:
            raise _NotSure("the tip moved")
        if db.all("SELECT 1 FROM collection_runs WHERE source_id = ? AND status = 'running'", (source_id,)):
            raise _NotSure("a run is in progress or was killed")
        stored = sorted(((n, sha, db.time(at), tz, tn, te) for n, sha, at, tz, tn, te in db.all(
            "SELECT name, sha, tagged_at, tz_minutes, tagger_name, tagger_email FROM tags WHERE source_id = ?",
            (source_id,))), key=lambda t: t[0])
        if stored != tags:
            raise _NotSure("tags changed")
        if db.all("SELECT 1 FROM source_locks WHERE source_id = ?", (source_id,)):
            raise _NotSure("a collection holds the source's lock (or left it): the driver decides")
        s["eval_tests"] = None  # the normal path prints the evaluation line only with evaluation paths
        if eval_paths:
            value = db.all("SELECT value FROM cursors WHERE source_id = ? AND stream = ?", (source_id, EVAL_STREAM))
            try:
                counted = json.loads(value[0][0]) if value and value[0][0] else {}
            except ValueError:
                counted = {}
            if not isinstance(counted, dict) or counted.get("tip") != tip or counted.get("paths") != eval_paths:
                raise _NotSure("evaluation tests not counted at this tip for these paths")
            # As eval_tests.tests_at_tip: per file, the count after its latest change.
            total = db.all(
                "SELECT SUM(e.tests) FROM eval_test_counts e JOIN (SELECT path, MAX(seq) AS seq FROM eval_test_counts "
                "WHERE source_id = ? GROUP BY path) latest ON latest.path = e.path AND latest.seq = e.seq "
                "WHERE e.source_id = ?", (source_id, source_id))
            s["eval_tests"] = int(total[0][0] or 0) if total else 0
        s.update(source_id=source_id, tip=tip, tags=len(tags), **_week_end_streams(db, doc, source_id, tip))
    return db, selected, quiet


def _week_end_streams(db: RawDb, doc: dict, source_id: int, tip: str) -> dict:
    """The git source's week-end streams need nothing when every week end up to the current week (the clock's, in
    the engagement timezone) is stored at this tip: the binder's week-end commits and files (`week_ends`,
    collectors/git/week_ends.py) and the surviving-lines trees (`blame`, collectors/git/blame.py). The engagement
    file is unchanged (its validated marker), so their settings are. Returns what their summary lines print."""
    from zoneinfo import ZoneInfo

    engagement = doc["engagement"]
    start, tz = engagement["start"], ZoneInfo(engagement.get("timezone", "UTC"))
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise _NotSure("engagement start")
    days = (dt.datetime.now(tz).date() - start).days
    current = 0 if days < 0 else days // 7 + 1  # engagement.weeks.week_of
    weeks = dict(db.all("SELECT week, sha FROM week_end_commits WHERE source_id = ?", (source_id,)))
    if sorted(weeks) != list(range(current + 1)) or weeks[current] != tip:
        raise _NotSure("binder week ends not stored up to the current week at this tip")
    files = db.all("SELECT COUNT(*) FROM artifact_files WHERE source_id = ? AND week = ?", (source_id, current))
    # as engagement.weeks.week_end: local midnight starting week + 1, in UTC
    instants = [dt.datetime.combine(start + dt.timedelta(days=7 * w), dt.time(0), tzinfo=tz).astimezone(dt.UTC)
                .replace(tzinfo=None) for w in range(current + 1)]
    ends = db.all("SELECT ends_at, sha FROM git_week_ends WHERE source_id = ? ORDER BY ends_at", (source_id,))
    if [db.time(at) for at, _sha in ends] != instants or ends[-1][1] != tip:
        raise _NotSure("surviving-lines week ends not stored up to the current week at this tip")
    cursor = db.all("SELECT value FROM cursors WHERE source_id = ? AND stream = 'blame'", (source_id,))
    incomplete = db.all("SELECT COUNT(*) FROM git_week_ends w LEFT JOIN git_trees t ON t.source_id = w.source_id "
                        "AND t.sha = w.sha WHERE w.source_id = ? AND w.sha IS NOT NULL AND t.completed_at IS NULL",
                        (source_id,))
    if not cursor or cursor[0][0] != tip or incomplete[0][0]:
        raise _NotSure("surviving lines not complete at this tip")
    return {"binder_files": int(files[0][0]), "week_ends": len(instants)}


def fast_collect(argv: list[str]) -> int | None:
    """Handle a no-change `collect` and return 0, or return None for the normal path (see the module doc)."""
    try:
        plan = _plan(argv)
    except (_NotSure, NotAvailable, OSError, KeyError, TypeError, ValueError, AttributeError, ImportError):
        return None
    except Exception:  # noqa: BLE001 - a database driver error: the normal path reports it properly
        return None
    if plan is None:
        return None
    db, selected, _quiet = plan
    stamp = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        cur = db.conn.cursor()
        cur.execute("BEGIN")
        for s in selected:
            cur.execute(
                "INSERT INTO collection_runs (source_id, started_at, finished_at, status, items_seen, items_written, "
                "items_removed, cursor_before, cursor_after) VALUES (?, ?, ?, 'success', 0, 0, 0, ?, ?)".replace(
                    "?", db.mark), (s["source_id"], db.stamp(stamp), db.stamp(stamp), s["tip"], s["tip"]))
        cur.execute("COMMIT")
    except Exception:  # noqa: BLE001 - nothing logged: the normal path runs and logs
        try:
            db.conn.rollback()
        except Exception:  # noqa: BLE001
            pass
        return None
    print(f"Collecting into {db.label}", file=sys.stderr)
    for s in selected:
        print(f"git {s['name']}: 0 commits read (incremental), 0 removed, {s['tags']} tags, tip {s['tip'][:12]}")
        if s["eval_tests"] is not None:
            print(f"git {s['name']}: {s['eval_tests']} evaluation tests at the tip")
        print(f"git {s['name']}: {s['binder_files']} binder files at the tip")
        print(f"git {s['name']}: surviving lines at {s['week_ends']} week ends: 0 new trees, 0 files blamed, 0 reused")
    db.conn.close()
    return 0
