"""Sources, cursors, the collection-run log and the per-source collection lock (SPEC §8; issue 9 item 1).

- `ensure_source` registers a source by natural key; `read_cursors`/`write_cursor` keep one resume point
  per stream, written in the same transaction as the page it follows.
- `start_run`/`finish_run` log each run: 'running', then 'success', 'failed' (with the redacted error) or
  'interrupted'. `finish_run` never leaves a run 'running' when the database still accepts a short write
  (after a "database or disk is full" it retries with the error cut short).
- `record_progress` writes a run's progress so far (counters and the current phase's bar, SPEC §8: shown in the
  terminal and in the UI) into its row: one UPDATE, in the transaction of the page it counts.
- `lock_held` tells a reader (the Sources page) whether a run logged 'running' is still being collected: its
  source's lock is held by a live process.
- `SourceLock`: one collection per (database, source) at a time. PostgreSQL: a session advisory lock (keyed
  by schema and source), released by the server if the process dies; the `source_locks` row only says who
  holds it. SQLite: the `source_locks` row is the lock, taken in `BEGIN IMMEDIATE` (the database's write
  lock, so two takers cannot both see it free); a row whose process has ended on this host (pid gone, or
  reused by another process) is stale and taken over. A second run waits (polling) or, with `wait=False`,
  raises `LockBusy` naming the holder.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from db.engine import advisory_key
from db.models import CollectionRun, Cursor, Source
from db.models import SourceLock as LockRow
from db.upsert import upsert


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --- sources and cursors ------------------------------------------------------------------------------------
def ensure_source(conn: Connection, kind: str, key: str, name: str) -> int:
    """Register a source by natural key (kind, key) and return its id."""
    upsert(conn, Source.__table__, [{"kind": kind, "key": key, "name": name, "created_at": utcnow()}],
           key=["kind", "key"], update=["name"])
    return conn.execute(select(Source.id).where(Source.kind == kind, Source.key == key)).scalar_one()


def read_cursors(conn: Connection, source_id: int) -> dict[str, str | None]:
    return dict(conn.execute(select(Cursor.stream, Cursor.value).where(Cursor.source_id == source_id)).all())


def read_cursor(conn: Connection, source_id: int, stream: str) -> str | None:
    return conn.execute(
        select(Cursor.value).where(Cursor.source_id == source_id, Cursor.stream == stream)
    ).scalar_one_or_none()


def write_cursor(conn: Connection, source_id: int, stream: str, value: str | None) -> None:
    upsert(conn, Cursor.__table__, [{"source_id": source_id, "stream": stream, "value": value,
                                     "updated_at": utcnow()}],
           key=["source_id", "stream"], update=["value", "updated_at"])


# --- the run log --------------------------------------------------------------------------------------------
def start_run(engine: Engine, source_id: int, cursor_before: str | None) -> int:
    """Log a run as 'running'. The caller holds the source's lock, so a run still 'running' was left by a
    process that ended before it could say so: it is marked 'abandoned'."""
    with engine.begin() as conn:
        conn.execute(
            update(CollectionRun)
            .where(CollectionRun.source_id == source_id, CollectionRun.status == "running")
            .values(status="abandoned", error="process ended before the run finished")
        )
        return conn.execute(
            CollectionRun.__table__.insert().values(
                source_id=source_id, started_at=utcnow(), status="running", cursor_before=cursor_before,
                items_seen=0, items_written=0, items_removed=0,
            )
        ).inserted_primary_key[0]


def finish_run(engine: Engine, run_id: int, status: str, *, items_seen: int = 0, items_written: int = 0,
               items_removed: int = 0, cursor_after: str | None = None, error: str | None = None) -> bool:
    """Log the run's end; True when written. On a database that refuses the write (disk full), try again
    with the error cut short and no cursor (the smallest change of the row), then give up quietly."""
    values = {"finished_at": utcnow(), "status": status, "items_seen": items_seen, "items_written": items_written,
              "items_removed": items_removed, "cursor_after": cursor_after, "error": error}
    for attempt in (values, {**values, "cursor_after": None, "error": (error or "")[:200] or None}):
        try:
            with engine.begin() as conn:
                conn.execute(update(CollectionRun).where(CollectionRun.id == run_id).values(**attempt))
            return True
        except SQLAlchemyError:
            continue
    return False


def record_progress(conn: Connection, run_id: int, **values: int | str | None) -> None:
    """Write a running run's progress (items_* counters, progress_done/total/unit) with the time of writing.

    Called in the transaction of the page it counts, so the row never counts a page that is not committed."""
    conn.execute(update(CollectionRun).where(CollectionRun.id == run_id).values(**values, progress_at=utcnow()))


# --- the per-source lock ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LockHolder:
    pid: int
    host: str
    acquired_at: dt.datetime | None  # UTC

    def since(self) -> str:
        """Local time the holder started, as a person reads it: 10:02 (or 2026-11-30 10:02 another day)."""
        if self.acquired_at is None:
            return "an unknown time"
        local = self.acquired_at.replace(tzinfo=dt.UTC).astimezone()
        return f"{local:%H:%M}" if local.date() == dt.datetime.now().astimezone().date() else f"{local:%Y-%m-%d %H:%M}"


class LockBusy(Exception):  # noqa: N818 - "the lock is busy" reads better than LockBusyError
    """The source is being collected by another process and the caller asked not to wait."""

    def __init__(self, holder: LockHolder):
        super().__init__(f"held by pid {holder.pid} on {holder.host} since {holder.since()}")
        self.holder = holder


def _process_start(pid: int) -> str | None:
    """The start time of process `pid` (Linux /proc), to tell a reused pid from the holder; None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22, counted after the command name


def _alive(pid: int, process_start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    if process_start is not None and Path("/proc").is_dir():
        return _process_start(pid) == process_start
    return True


def lock_held(conn: Connection, source_id: int, holder: tuple[int, str, str | None] | None) -> bool:
    """Whether the collection lock of `source_id` is held by a live process, as a reader sees it (nothing taken).

    `holder` is the source's `source_locks` row (pid, host, process_start), None when there is none: a run that
    ended released its lock, so a 'running' run without one was left by a process that died (SQLite: also with
    one whose pid is gone on this host; another host's holder cannot be checked and counts as live, as
    `SourceLock` counts it). PostgreSQL: the advisory lock is the truth (the server drops it with the process),
    read from pg_locks, where a bigint key is split into classid (high 32 bits) and objid (low 32 bits)."""
    if holder is None:
        return False
    if conn.dialect.name == "postgresql":
        key = advisory_key(conn, f"source:{source_id}") & 0xFFFF_FFFF_FFFF_FFFF
        return bool(conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid::bigint = :high AND objid::bigint = :low)"),
            {"high": key >> 32, "low": key & 0xFFFF_FFFF}).scalar_one())
    pid, host, process_start = holder
    return host != socket.gethostname() or _alive(pid, process_start)


class SourceLock:
    """The collection lock of one source (see the module docstring). Use `acquire()` then `release()`."""

    def __init__(self, engine: Engine, source_id: int, *, poll: float = 0.5):
        self.engine, self.source_id, self.poll = engine, source_id, poll
        self.token = secrets.token_hex(16)
        self.pid, self.host = os.getpid(), socket.gethostname()
        self.recovered: LockHolder | None = None  # a stale holder this lock took over from (SQLite)
        self._pg: Connection | None = None
        self._key: int | None = None

    def _row(self) -> dict:
        return {"source_id": self.source_id, "token": self.token, "pid": self.pid, "host": self.host,
                "process_start": _process_start(self.pid), "acquired_at": utcnow()}

    def _holder(self, conn: Connection) -> LockHolder | None:
        row = conn.execute(select(LockRow.__table__).where(LockRow.source_id == self.source_id)).first()
        return None if row is None else LockHolder(row.pid, row.host, row.acquired_at)

    def _try_sqlite(self) -> LockHolder | None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                row = conn.execute(select(LockRow.__table__).where(LockRow.source_id == self.source_id)).first()
                if row is not None:
                    live = row.host != self.host or _alive(row.pid, row.process_start)
                    if live and row.token != self.token:
                        conn.rollback()
                        return LockHolder(row.pid, row.host, row.acquired_at)
                    self.recovered = LockHolder(row.pid, row.host, row.acquired_at)
                    conn.execute(delete(LockRow).where(LockRow.source_id == self.source_id))
                conn.execute(insert(LockRow).values(**self._row()))
                conn.commit()
                return None
            except BaseException:
                conn.rollback()
                raise

    def _try_postgresql(self) -> LockHolder | None:
        if self._pg is None:
            self._pg = self.engine.connect()
            self._key = advisory_key(self._pg, f"source:{self.source_id}")
        got = self._pg.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar_one()
        self._pg.commit()  # a session lock: it outlives the transaction, not the connection
        if not got:
            with self.engine.connect() as conn:
                return self._holder(conn) or LockHolder(0, "another host", None)
        with self.engine.begin() as conn:
            upsert(conn, LockRow.__table__, [self._row()], key=["source_id"],
                   update=["token", "pid", "host", "process_start", "acquired_at"])
        return None

    def acquire(self, *, wait: bool = True, on_wait: Callable[[LockHolder], None] | None = None,
                timeout: float | None = None) -> None:
        """Take the lock; wait for it (calling `on_wait` once with the holder) or raise LockBusy."""
        started, told = time.monotonic(), False
        try_once = self._try_sqlite if self.engine.dialect.name == "sqlite" else self._try_postgresql
        while True:
            holder = try_once()
            if holder is None:
                return
            if not wait or (timeout is not None and time.monotonic() - started > timeout):
                self._close()
                raise LockBusy(holder)
            if not told and on_wait is not None:
                on_wait(holder)
                told = True
            time.sleep(self.poll)

    def release(self) -> None:
        """Give the lock back (the row goes; on PostgreSQL the advisory lock too). Never raises."""
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(LockRow).where(LockRow.source_id == self.source_id,
                                                      LockRow.token == self.token))
        except SQLAlchemyError:
            pass  # SQLite: a row left behind is stale once this process ends
        if self._pg is not None:
            try:
                self._pg.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
                self._pg.commit()
            except SQLAlchemyError:
                pass
        self._close()

    def _close(self) -> None:
        if self._pg is not None:
            self._pg.close()
            self._pg = None
