"""The one source driver (SPEC §8): everything around a collection that is not the source's own business.

`run_source(engine, source)` registers the source, takes its collection lock (waiting with a message, or
`SourceBusy` with `wait=False`), reads its cursors, logs the run, writes each page the source yields in one
transaction together with the page's cursor moves and the run's progress so far (the run row's counters and
bar, which the Sources page shows live: SPEC §8), shows progress in the terminal, and logs the end: 'success',
'failed' with a one-line redacted error, or 'interrupted' (Ctrl-C). A source only yields `Page`s; it never opens a
transaction, writes a cursor or touches the run log. Because a cursor moves in the same transaction as
the rows it covers, a crash, kill -9 or Ctrl-C at any point leaves whole pages only, and the rerun resumes.

A source (the `Source` protocol) has:
- `kind`, `key`, `name`: its natural key and display name in `sources` (`key` may depend on `open()`);
- `label`: how messages name it ("git fraud-model", "github client/fraud-model", "jira MLOPS");
- `main_stream`: the cursor shown as the run's before/after in the run log;
- `open()`: build its clients (a bad base_url or recording fails here, inside the run: logged failed);
- `pages(run)`: the work, as an iterator of `Page`s (it may read the DB through `run.engine`);
- `summary(result)`: the line the command prints after a successful run;
- `secrets`: values to redact from any error it raises;
- `close()`: release its clients.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, TextIO

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from collectors.runs import CollectError, redact
from db.engine import redact_url
from db.runs import (
    LockBusy,
    LockHolder,
    SourceLock,
    ensure_source,
    finish_run,
    read_cursors,
    record_progress,
    start_run,
    write_cursor,
)


class SourceBusy(CollectError):
    """Another collection of the source is running and `--no-wait` was given (exit code 3)."""

    exit_code = 3


@dataclass
class Page:
    """One page of a source's work, written in ONE transaction with its cursor moves.

    `write(conn)` writes the rows (upserts and deletes by natural key); `cursors` maps stream -> new value
    (written after the rows, same transaction); the counters feed the run log and `progress` the bar."""

    write: Callable[[Connection], None] | None = None
    cursors: dict[str, str | None] = field(default_factory=dict)
    seen: int = 0
    written: int = 0
    removed: int = 0
    progress: int = 0


class Run:
    """What a source sees of the run in progress: its id, cursors as they stood at the start, the engine
    for reads, and the progress bar (the terminal's, and the run row's that the Sources page shows)."""

    def __init__(self, engine: Engine, source_id: int, run_id: int, cursors: dict[str, str | None],
                 progress: _Progress):
        self.engine, self.source_id, self.run_id = engine, source_id, run_id
        self.cursors = dict(cursors)
        self._progress = progress
        self.notes: list[str] = []
        self.done = 0  # units of the current phase committed so far (the bar's position)

    def cursor(self, stream: str) -> str | None:
        return self.cursors.get(stream)

    @property
    def progress_enabled(self) -> bool:
        """Whether a terminal bar is shown (a source skips counting a costly total when not)."""
        return self._progress.enabled

    def progress_total(self, total: int | None, unit: str) -> None:
        """A new phase of `total` units (None: unknown) starts: a new terminal bar, and the run row's bar is
        reset at once (one UPDATE), so the page shows the total before the phase's first page commits."""
        self._progress.start(total, unit)
        self.done = 0
        with self.engine.begin() as conn:
            record_progress(conn, self.run_id, progress_done=0, progress_total=total, progress_unit=unit)


class Source(Protocol):
    kind: str
    key: str
    name: str
    label: str
    main_stream: str

    @property
    def secrets(self) -> tuple[str, ...]: ...

    def open(self) -> None: ...

    def pages(self, run: Run) -> Iterator[Page]: ...

    def summary(self, result: RunResult) -> str: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class RunResult:
    label: str
    source_id: int
    run_id: int
    status: str  # success | failed | interrupted
    items_seen: int
    items_written: int
    items_removed: int
    cursor_before: str | None
    cursor_after: str | None
    cursors: dict[str, str | None]  # every stream's cursor at the end
    error: str | None = None
    waited_for: LockHolder | None = None  # the holder this run waited for, if it had to


class _Progress:
    """A tqdm bar on stderr when it is a terminal (or when asked); silent otherwise."""

    def __init__(self, label: str, enabled: bool | None, out: TextIO):
        self.label, self.out = label, out
        self.enabled = out.isatty() if enabled is None else enabled
        self.bar = None

    def start(self, total: int | None, unit: str) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        self.close()
        self.bar = tqdm(total=total, unit=unit, desc=self.label, file=self.out, leave=False)

    def update(self, n: int) -> None:
        if self.bar is not None and n:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _db_error(engine: Engine, exc: SQLAlchemyError) -> str:
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    text = detail[0] if detail else type(exc).__name__
    if "disk" in text.lower() and ("full" in text.lower() or "i/o" in text.lower()):
        text += " (is the disk full? free some space, then rerun to resume: every committed page is kept)"
    return f"cannot write to the database {redact_url(engine.url.render_as_string(hide_password=False))}: {text}"


def run_source(engine: Engine, source: Source, *, wait: bool = True, progress: bool | None = None,
               out: TextIO | None = None, lock_poll: float = 0.5) -> RunResult:
    """Collect one source (see the module docstring). Raises CollectError (the run logged 'failed'),
    SourceBusy (nothing logged: the other run is the one collecting) or KeyboardInterrupt ('interrupted')."""
    out = out or sys.stderr
    opened: CollectError | None = None
    try:
        source.open()
    except CollectError as exc:
        opened = exc  # logged below as a failed run of the source as configured
    with engine.begin() as conn:
        source_id = ensure_source(conn, source.kind, source.key, source.name)
    lock = SourceLock(engine, source_id, poll=lock_poll)
    waited: list[LockHolder] = []

    def say_waiting(holder: LockHolder) -> None:
        waited.append(holder)
        host = "" if holder.host == lock.host else f" on {holder.host}"
        where = "" if holder.pid == 0 else f" (pid {holder.pid}{host})"
        print(f"another collection of {source.label} has run since {holder.since()}{where}; waiting…", file=out,
              flush=True)

    try:
        lock.acquire(wait=wait, on_wait=say_waiting)
    except LockBusy as busy:
        source.close()
        h = busy.holder
        raise SourceBusy(f"{source.label}: another collection has run since {h.since()} (pid {h.pid} on {h.host}); "
                         "not waiting (--no-wait)") from None
    try:
        if lock.recovered is not None:
            print(f"{source.label}: took over the lock of a collection that ended without releasing it "
                  f"(pid {lock.recovered.pid}, since {lock.recovered.since()})", file=out)
        return _run_locked(engine, source, source_id, opened, progress, out, waited[0] if waited else None)
    finally:
        lock.release()
        source.close()


def _run_locked(engine: Engine, source: Source, source_id: int, opened: CollectError | None,
                progress: bool | None, out: TextIO, waited: LockHolder | None) -> RunResult:
    with engine.connect() as conn:
        cursors = read_cursors(conn, source_id)
    before = cursors.get(source.main_stream)
    run_id = start_run(engine, source_id, before)
    bar = _Progress(source.label, progress, out)
    run = Run(engine, source_id, run_id, cursors, bar)
    counts = {"items_seen": 0, "items_written": 0, "items_removed": 0}
    status, error = "success", None
    try:
        if opened is not None:
            raise opened
        for page in source.pages(run):
            try:
                with engine.begin() as conn:
                    if page.write is not None:
                        page.write(conn)  # may set page.removed (git: the commits no longer reachable)
                    for stream, value in page.cursors.items():
                        write_cursor(conn, source_id, stream, value)
                    after = {"items_seen": counts["items_seen"] + page.seen,
                             "items_written": counts["items_written"] + page.written,
                             "items_removed": counts["items_removed"] + page.removed}
                    if after != counts or page.progress:  # a cursor-only page moves no counter: no UPDATE
                        record_progress(conn, run_id, **after, progress_done=run.done + page.progress)
            except SQLAlchemyError as exc:
                raise CollectError(_db_error(engine, exc)) from None
            run.cursors.update(page.cursors)
            counts.update(after)
            run.done += page.progress
            bar.update(page.progress)
    except KeyboardInterrupt:
        status, error = "interrupted", "interrupted by the user (Ctrl-C); rerun to resume"
        raise
    except CollectError as exc:
        status, error = "failed", redact(str(exc), source.secrets)
        exc.args = (error,)  # the same error (RateLimitStop, HttpError with its status), secrets removed
        raise
    except SQLAlchemyError as exc:  # a read the source made
        status, error = "failed", _db_error(engine, exc)
        raise CollectError(error) from None
    except Exception as exc:
        status = "failed"
        first = str(exc).splitlines()[0] if str(exc) else ""
        error = redact(f"{source.label}: unexpected {type(exc).__name__}: {first}".rstrip(": "), source.secrets)
        raise CollectError(f"{error} (a bug or an answer of an unexpected shape; rerun with BATON_DEBUG=1 for the "
                           "traceback)") from exc
    finally:
        bar.close()
        finish_run(engine, run_id, status, cursor_after=run.cursors.get(source.main_stream), error=error, **counts)
    return RunResult(source.label, source_id, run_id, status, counts["items_seen"], counts["items_written"],
                     counts["items_removed"], before, run.cursors.get(source.main_stream), dict(run.cursors),
                     error, waited)
