"""Parallel git ingest (issue 11 "Fast at scale"): one commit range read by several `git log` processes at
once, parsed in worker processes, written by one writer in batches.

1. `git rev-list tip ^exclude` lists the range in the order `git log` shows it (no diffs: cheap).
2. The list is cut into `min(cores, commits / MIN_SLICE)` contiguous slices of equal size. Each worker
   process runs ONE `git log --numstat --no-walk=unsorted --stdin` over its slice (client.log_command: the
   same fields and options as the single-stream reader), parses the records into row tuples and sends
   them back in batches of BATCH commits. Few, large slices: every extra git process pays again for
   mapping the pack (measured: 14 slices of 2,000 cost ~40% more git time than 2 slices).
3. The parent process is the only writer: one transaction per batch. SQLite: `executemany` on one prepared
   INSERT .. ON CONFLICT. PostgreSQL: `COPY` into a temporary table, then INSERT .. SELECT .. ON CONFLICT
   (COPY alone cannot skip rows a stopped run already wrote).

Same rows as the single stream (tests/test_git_parallel.py compares both on SQLite and PostgreSQL):
commits and files are keyed rows, so the order of writing does not matter; identities keep the name of
their first appearance in `git log` order, so they are written in slice order (a later slice's names wait
until every earlier slice is written).

Crash safety is unchanged (SPEC §8, collectors/git/source.py): each batch commits whole, the cursor moves
only after the last one, and a rerun upserts what a stopped run left. Workers die with the parent
(PR_SET_PDEATHSIG on Linux, and they stop when their parent changes), and git dies with its worker (SIGPIPE).
Ranges under MIN_PARALLEL commits (an incremental rerun) are read in-process: no fork for a few commits.

API: `read_batches(repo, tip, exclude, source_id, run_id)` yields `Batch`es (row tuples, identities already
released in order); `write_batch(conn, batch)` writes one in the caller's transaction. collectors/git/source.py
makes each batch one driver Page (collectors/driver.py: one transaction with its counters and progress).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import queue
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Connection

from collectors.git.client import log_command, log_records, parse_record, range_shas
from collectors.runs import CollectError
from db.models import Commit, Identity
from db.upsert import upsert

BATCH = 2000  # commits per write transaction (and per message from a worker)
MIN_SLICE = 2000  # fewer commits per worker than this are not worth a process
MIN_PARALLEL = 2 * MIN_SLICE  # below this the range is read in-process
SQLITE_CACHE_KIB = 256 * 1024  # page cache of the writing connection (memory, only as used)

# seen_run_id only while the schema has it (the collect branch finds removed commits by rev-list instead).
_SEEN = "seen_run_id" in Commit.__table__.c
COMMIT_COLUMNS = ("source_id", "sha", "parents", "is_merge", "author_name", "author_email", "authored_at",
                  "author_tz_minutes", "committer_name", "committer_email", "committed_at",
                  "committer_tz_minutes", "subject", "co_authors", "files_changed", "lines_added",
                  "lines_deleted") + (("seen_run_id",) if _SEEN else ())
COMMIT_UPDATE = ("seen_run_id",) if _SEEN else ()
FILE_COLUMNS = ("source_id", "sha", "path", "old_path", "added", "deleted", "binary")


@dataclass
class Batch:
    """Rows of up to BATCH consecutive commits of one slice; `last` marks the slice's final batch."""

    slice_no: int
    commits: list[tuple]
    files: list[tuple]
    identities: dict[str, str]  # lower-cased email -> first name seen, in git log order
    last: bool


def _utc_text(value: dt.datetime) -> tuple[str, int]:
    """Naive UTC as SQLAlchemy's SQLite DateTime text ('2026-09-08 08:15:00.000000', so rows read back as if
    written through it; PostgreSQL's COPY parses the same text) and the offset in minutes."""
    offset = value.utcoffset() or dt.timedelta(0)
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds"), \
        int(offset.total_seconds() // 60)


def _batches(repo: Path, args: list[str], stdin: bytes | None, slice_no: int, source_id: int,
             run_id: int | None) -> Iterator[Batch]:
    """Parse one git log into row batches (the mapping of collectors/git/source.py commit_rows, as tuples)."""
    commits: list[tuple] = []
    files: list[tuple] = []
    ids: dict[str, str] = {}
    for record in log_records(repo, args, stdin):
        c = parse_record(record)
        authored, author_tz = _utc_text(c.authored_at)
        committed, committer_tz = _utc_text(c.committed_at)
        commits.append((
            source_id, c.sha, " ".join(c.parents), len(c.parents) > 1, c.author_name, c.author_email, authored,
            author_tz, c.committer_name, c.committer_email, committed, committer_tz, c.subject,
            "\n".join(c.co_authors), len(c.files), sum(f.added or 0 for f in c.files),
            sum(f.deleted or 0 for f in c.files), *((run_id,) if _SEEN else ()),
        ))
        files.extend((source_id, c.sha, f.path, f.old_path, f.added, f.deleted, f.added is None) for f in c.files)
        ids.setdefault(c.author_email.lower(), c.author_name)
        ids.setdefault(c.committer_email.lower(), c.committer_name)
        for co in c.co_authors:
            name, _, email = co.rpartition("<")
            if email.endswith(">"):
                ids.setdefault(email[:-1].strip().lower(), name.strip())
        if len(commits) >= BATCH:
            yield Batch(slice_no, commits, files, ids, False)
            commits, files, ids = [], [], {}
    yield Batch(slice_no, commits, files, ids, True)


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when the collector dies (even by kill -9)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the parent-changed check below still stops the worker
        pass


def _worker(repo: Path, shas: list[str], slice_no: int, source_id: int, run_id: int | None,
            out: mp.Queue, parent: int) -> None:
    """Worker process: read and parse one slice, send its batches (or one error line) to the writer."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops the workers
    try:
        stdin = ("\n".join(shas) + "\n").encode()
        for batch in _batches(repo, log_command(repo, stdin=True), stdin, slice_no, source_id, run_id):
            if os.getppid() != parent:
                os._exit(1)
            out.put(batch)
    except CollectError as exc:
        out.put(exc)
    except Exception as exc:  # noqa: BLE001 - reported by the writer as one line, never a worker traceback
        out.put(CollectError(f"git source {repo}: reading commits failed: {type(exc).__name__}: {exc}"))


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def plan_slices(shas: list[str], workers: int | None = None, min_slice: int | None = None) -> list[list[str]]:
    """Cut the range into contiguous slices of (nearly) equal size, one per worker."""
    min_slice = MIN_SLICE if min_slice is None else min_slice
    if not shas:
        return []
    n = max(1, min(workers or available_cores(), len(shas) // max(1, min_slice) or 1))
    size, extra = divmod(len(shas), n)
    slices, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        slices.append(shas[start:end])
        start = end
    return slices


class _IdentityOrder:
    """Releases identities in git log order: a slice's names wait until every earlier slice is done."""

    def __init__(self, slices: int):
        self.done = [False] * slices
        self.held: list[list[dict[str, str]]] = [[] for _ in range(slices)]

    def release(self, batch: Batch) -> dict[str, str]:
        self.held[batch.slice_no].append(batch.identities)
        self.done[batch.slice_no] = batch.last
        first_open = next((i for i, d in enumerate(self.done) if not d), len(self.done))
        merged: dict[str, str] = {}
        for i in range(min(first_open + 1, len(self.done))):
            for ids in self.held[i]:
                for email, name in ids.items():
                    merged.setdefault(email, name)
            self.held[i] = []
        return merged


def write_batch(conn: Connection, batch: Batch) -> None:
    """Write one batch in the caller's transaction (collectors/driver.py: one Page). SQLite: executemany on
    a prepared INSERT .. ON CONFLICT; PostgreSQL: COPY into a temporary table, INSERT .. SELECT .. ON CONFLICT.
    `batch.identities` must be the released ones (read_batches yields them so)."""
    if conn.dialect.name == "postgresql":
        _copy_upsert(conn, "commits", COMMIT_COLUMNS, batch.commits, ("source_id", "sha"), COMMIT_UPDATE)
        _copy_upsert(conn, "commit_files", FILE_COLUMNS, batch.files, ("source_id", "sha", "path"), ())
    else:
        if not conn.info.get("baton_cache_size"):
            # A large page cache for the key B-trees: ~20% less writer CPU at 300k file rows.
            conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            conn.info["baton_cache_size"] = True
        _executemany_upsert(conn, "commits", COMMIT_COLUMNS, batch.commits, ("source_id", "sha"), COMMIT_UPDATE)
        _executemany_upsert(conn, "commit_files", FILE_COLUMNS, batch.files, ("source_id", "sha", "path"), ())
    rows = [{"kind": "email", "value": k, "display_name": v} for k, v in batch.identities.items() if k]
    upsert(conn, Identity.__table__, rows, key=["kind", "value"])


def _q(names: tuple[str, ...]) -> str:
    """Quoted column names (`binary` is a reserved word in PostgreSQL)."""
    return ", ".join(f'"{n}"' for n in names)


def _executemany_upsert(conn: Connection, table: str, columns: tuple[str, ...], rows: list[tuple],
                        key: tuple[str, ...], update: tuple[str, ...]) -> None:
    if not rows:
        return
    action = ("DO UPDATE SET " + ", ".join(f'"{c}" = excluded."{c}"' for c in update)) if update else "DO NOTHING"
    # Table and column names are the constants above, never input; values are bound parameters.
    sql = (f"INSERT INTO {table} ({_q(columns)}) VALUES ({', '.join('?' * len(columns))}) "  # noqa: S608
           f"ON CONFLICT ({_q(key)}) {action}")
    conn.connection.dbapi_connection.cursor().executemany(sql, rows)


def _copy_upsert(conn: Connection, table: str, columns: tuple[str, ...], rows: list[tuple],
                 key: tuple[str, ...], update: tuple[str, ...]) -> None:
    if not rows:
        return
    stage = f"_baton_stage_{table}"
    cols = _q(columns)
    action = ("DO UPDATE SET " + ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in update)) if update else "DO NOTHING"
    cur = conn.connection.dbapi_connection.cursor()
    cur.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} (LIKE {table}) ON COMMIT DELETE ROWS")
    with cur.copy(f"COPY {stage} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} "  # noqa: S608 - constant names
                f"ON CONFLICT ({_q(key)}) {action}")


def read_batches(repo: Path, tip: str, exclude: str | None, source_id: int, run_id: int | None = None,
                 on_total: Callable[[int], None] | None = None, workers: int | None = None,
                 min_parallel: int | None = None, min_slice: int | None = None,
                 shas: list[str] | None = None) -> Iterator[Batch]:
    """Every commit of `tip ^exclude` as row batches, read by parallel workers; write each with write_batch,
    in the order yielded (identities are released in git log order). `on_total(n)` once the range is known.
    Stopping the iteration early (an error, Ctrl-C, close()) stops the workers and their git processes.
    `shas`: the range as range_shas gives it, when the caller already listed it."""
    min_parallel = MIN_PARALLEL if min_parallel is None else min_parallel
    min_slice = MIN_SLICE if min_slice is None else min_slice
    if shas is None:
        shas = range_shas(repo, tip, exclude)
    if on_total:
        on_total(len(shas))
    if len(shas) < min_parallel or (workers or available_cores()) < 2:
        slices: list[list[str]] = [shas]
    else:
        slices = plan_slices(shas, workers, min_slice)
    order = _IdentityOrder(len(slices))

    if len(slices) == 1:
        stdin = ("\n".join(shas) + "\n").encode()
        for batch in _batches(repo, log_command(repo, stdin=True), stdin, 0, source_id, run_id):
            batch.identities = order.release(batch)
            yield batch
        return

    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    out: mp.Queue = ctx.Queue(maxsize=4 * len(slices))
    procs = [ctx.Process(target=_worker, args=(repo, part, i, source_id, run_id, out, os.getpid()), daemon=True)
             for i, part in enumerate(slices)]
    for p in procs:
        p.start()
    try:
        finished = 0
        while finished < len(slices):
            try:
                item = out.get(timeout=1.0)
            except queue.Empty:
                dead = [p for p in procs if p.exitcode not in (None, 0)]
                if dead:
                    raise CollectError(f"git source {repo}: a reader process stopped (exit code "
                                       f"{dead[0].exitcode})") from None
                continue
            if isinstance(item, BaseException):
                raise item
            finished += item.last
            item.identities = order.release(item)
            yield item
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
        for p in procs:
            p.join()
        out.close()
        out.join_thread()
