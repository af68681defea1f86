"""The engagement database without SQLAlchemy: what a command checks before anything heavy is imported.

Standard library only (plus the `sqlite3` module, or psycopg for a PostgreSQL URL). Two fast paths read it:
collectors/fastpath.py (a no-change `collect` rerun) and metrics/outputcache.py (a `weekly` whose data, engagement
file and code did not change); db/engine.py and db/reads.py use the same definitions, so "where is the database",
"is it migrated" and "did the data change" have one answer each.

- `resolve_db_url(cli_url, config_file)`: `--db URL`, else $BATON_DB_URL, else sqlite:///baton.db beside the file.
- `script_heads()`: head revisions of db/migrations, read from the files (importing Alembic costs more than a rerun).
- `RawDb(url)`: a DB-API connection with its parameter style; `NotAvailable` when the URL is not one it opens
  (another driver, an in-memory or missing SQLite file).
- `data_version(run_sql)`: a string that changes whenever collected data may have changed (see its docstring).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DB_URL_ENV = "BATON_DB_URL"


class NotAvailable(Exception):
    """This database cannot be read without SQLAlchemy here: the caller takes its normal path."""


def resolve_db_url(cli_url: str | None = None, config_file: str | Path | None = None) -> str:
    """`--db URL`, else $BATON_DB_URL, else sqlite:///baton.db beside the engagement file."""
    if cli_url:
        return cli_url
    if os.environ.get(DB_URL_ENV):
        return os.environ[DB_URL_ENV]
    folder = Path(config_file).resolve().parent if config_file else Path.cwd()
    return f"sqlite:///{folder / 'baton.db'}"


def script_heads() -> set[str]:
    """Head revisions of db/migrations, read from the migration files."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        body = path.read_text()
        rev = re.search(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", body, re.M)
        down = re.search(r"^down_revision\s*=\s*(.+)$", body, re.M)
        if rev:
            revisions.add(rev.group(1))
        if down:
            parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    return revisions - parents


class RawDb:
    """A DB-API connection to the engagement database with its parameter style (`?` in the SQL given to all())."""

    def __init__(self, url: str):
        if url.startswith("sqlite:///") and "?" not in url:
            import sqlite3

            path = Path(url.removeprefix("sqlite:///"))
            if not path.is_file():
                raise NotAvailable("no database yet")
            self.conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            self.conn.execute("PRAGMA busy_timeout=30000")
            self.mark = "?"
            self.text_times = True
        elif url.startswith(("postgresql+psycopg://", "postgresql://")):
            import psycopg

            self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True)
            self.mark = "%s"
            self.text_times = False
        else:
            raise NotAvailable("another database driver")
        self.label = re.sub(r"://([^:/@]+):[^@/]*@", r"://\1:***@", url)  # as engagement.redact shows it

    def all(self, sql: str, params: tuple = ()) -> list[tuple]:
        cur = self.conn.cursor()
        cur.execute(sql.replace("?", self.mark), params)
        return list(cur.fetchall())

    def time(self, value) -> dt.datetime | None:
        if value is None or isinstance(value, dt.datetime):
            return value
        return dt.datetime.fromisoformat(value)

    def stamp(self, value: dt.datetime):
        return value.isoformat(" ", "microseconds") if self.text_times else value

    def at_head(self) -> bool:
        """The database is migrated to this code's head (the normal path migrates otherwise)."""
        try:
            return {r[0] for r in self.all("SELECT version_num FROM alembic_version")} == script_heads()
        except Exception:  # no alembic_version table yet: a new database  # noqa: BLE001
            return False

    def close(self) -> None:
        self.conn.close()


# A git run that read, wrote and removed nothing and left its cursor where it was: a no-change rerun (the fast path
# logs it the same way). Any other run could have written something.
_QUIET_GIT_RUN = ("r.status = 'success' AND r.items_seen = 0 AND r.items_written = 0 AND r.items_removed = 0 "
                  "AND (r.cursor_before = r.cursor_after OR (r.cursor_before IS NULL AND r.cursor_after IS NULL)) "
                  "AND r.source_id IN (SELECT id FROM sources WHERE kind = 'git')")
DATA_VERSION_SQL = {
    # constant SQL (no value is interpolated): S608 sees only the f-string
    "run": "SELECT r.id, r.status, r.finished_at, r.items_seen, r.items_written, r.items_removed, r.cursor_after "  # noqa: S608
           "FROM collection_runs r WHERE r.id = "
           f"(SELECT max(r.id) FROM collection_runs r WHERE NOT ({_QUIET_GIT_RUN}))",
    "tags": "SELECT count(*), max(tagged_at), max(sha), min(sha), max(name) FROM tags",
    "eval": "SELECT count(*), coalesce(sum(tests), 0), max(seq), max(committed_at), max(sha) FROM eval_test_counts",
    "ledger": "SELECT max(seq) FROM ledger",
    "tombstones": "SELECT count(*) FROM privacy_tombstones",
    "schema": "SELECT version_num FROM alembic_version ORDER BY version_num",
}


def data_version(run_sql: Callable[[str], Sequence[Sequence]]) -> str:
    """A string that changes whenever collected data may have changed, and (almost) never otherwise.

    `run_sql(sql)` returns the rows of one query (a RawDb's `all`, or SQLAlchemy's `exec_driver_sql`: both give the
    driver's own values, so both give the same string).
    - The newest collection run that could have written something: any run except a successful git run that read,
      wrote and removed nothing and left its cursor where it was (a no-change rerun), with its status, end, counters
      and cursor: a cache filled while a run was still writing is not reused once it wrote more or ended. A run of
      any other kind of source always counts: their pages do not all report what they wrote, so only git's are
      trusted.
    - Fingerprints of what a no-change git run still writes: tags (synced every run) and evaluation-test counts
      (their own cursor, collectors/git/eval_tests.py).
    - The newest ledger row (db/ledger.py: signatures, freezes, purges — a purge rewrites collected rows outside any
      run) and the purge tombstones (db/privacy.py).
    - The schema revision.
    Contract for writers: every change to collected rows happens inside a logged run; a git run that changes rows
    other than tags or evaluation counts reports items or moves its cursor. Cost: a few indexed queries (~1 ms).
    """
    parts = []
    for name, sql in DATA_VERSION_SQL.items():
        rows = run_sql(sql)
        parts.append(f"{name} {[tuple(str(v) for v in row) for row in rows]}")
    return "; ".join(parts)
