"""A collection in progress records its progress in its run row (SPEC §8: a progress bar in the terminal and in
the UI; issue 11 item 5): the driver updates the counters and the current phase's bar with each committed page,
a reader sees them advance and end equal to the run's final counts, and `lock_held` tells a run still being
collected from one left 'running' by a process that died (SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import insert, select

from collectors.driver import Page, Run, RunResult, run_source
from collectors.git.source import collect_git
from db.engine import make_engine
from db.models import CollectionRun
from db.models import SourceLock as LockRow
from db.queries import load_runs_in_progress
from db.runs import SourceLock, ensure_source, start_run, utcnow

PROGRESS = (CollectionRun.status, CollectionRun.items_seen, CollectionRun.items_written, CollectionRun.items_removed,
            CollectionRun.progress_done, CollectionRun.progress_total, CollectionRun.progress_unit)


def run_row(engine, run_id: int) -> tuple:
    """The run's row as another connection (the Sources page) reads it."""
    with engine.connect() as conn:
        return tuple(conn.execute(select(*PROGRESS).where(CollectionRun.id == run_id)).one())


class Phases:
    """A source of two phases: 3 pages of 2 of 6 'record's (total known), a cursor-only page, then 5 'file's of
    unknown total. It reads its own run row after each page it yielded has been committed."""

    kind, key, name, label, main_stream, secrets = "test", "phases", "phases", "test phases", "main", ()

    def __init__(self):
        self.seen_by_reader: list[tuple] = []

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def pages(self, run: Run):
        look = lambda: self.seen_by_reader.append(run_row(run.engine, run.run_id))  # noqa: E731
        run.progress_total(6, "record")
        look()
        for i in range(3):
            yield Page(seen=2, written=1 + i % 2, progress=2, cursors={"main": str(i)})
            look()
        yield Page(cursors={"main": "done"})
        look()
        run.progress_total(None, "file")
        look()
        yield Page(progress=5, removed=1)
        look()

    def summary(self, result: RunResult) -> str:
        return ""


def test_the_run_row_counts_each_committed_page_and_ends_with_the_final_counts(db_url):
    engine = make_engine(db_url)
    source = Phases()
    result = run_source(engine, source, progress=False)
    assert source.seen_by_reader == [
        ("running", 0, 0, 0, 0, 6, "record"),  # the phase's total is there before its first page
        ("running", 2, 1, 0, 2, 6, "record"),
        ("running", 4, 3, 0, 4, 6, "record"),
        ("running", 6, 4, 0, 6, 6, "record"),
        ("running", 6, 4, 0, 6, 6, "record"),  # a cursor-only page moves nothing
        ("running", 6, 4, 0, 0, None, "file"),  # a new phase, total unknown
        ("running", 6, 4, 1, 5, None, "file"),
    ]
    assert (result.items_seen, result.items_written, result.items_removed) == (6, 4, 1)
    assert run_row(engine, result.run_id) == ("success", 6, 4, 1, 5, None, "file")
    with engine.connect() as conn:
        assert conn.execute(select(CollectionRun.progress_at).where(CollectionRun.id == result.run_id)).scalar()


def test_a_git_collect_records_the_rev_list_count_as_its_total(git_repo, sqlite_url):
    engine = make_engine(sqlite_url)
    for i in range(3):
        git_repo.commit(f"c{i}", {f"f{i}.txt": "x\n"})
    result = collect_git(engine, git_repo.path, "main", progress=False)
    assert run_row(engine, result.run_id) == ("success", 3, 3, 0, 3, 3, "commit")


def test_a_run_is_in_progress_while_its_lock_is_held_by_a_live_process(db_url):
    engine = make_engine(db_url)
    with engine.begin() as conn:
        source_id = ensure_source(conn, "git", "/repo#main", "repo")
    lock = SourceLock(engine, source_id)
    lock.acquire(wait=False)
    run_id = start_run(engine, source_id, None)
    try:
        runs = load_runs_in_progress(engine)
        assert runs[["id", "source", "live"]].values.tolist() == [[run_id, "repo", True]]
    finally:
        lock.release()
    # Released without logging the end (the process went on, or died on PostgreSQL): not being collected.
    assert load_runs_in_progress(engine)["live"].tolist() == [False]


def test_a_lock_row_of_a_dead_process_is_not_a_collection_in_progress(db_url):
    engine = make_engine(db_url)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with engine.begin() as conn:
        source_id = ensure_source(conn, "git", "/repo#main", "repo")
        conn.execute(insert(LockRow).values(source_id=source_id, token="x" * 32, pid=dead.pid,
                                            host=SourceLock(engine, source_id).host, process_start=None,
                                            acquired_at=utcnow()))
    start_run(engine, source_id, None)
    assert load_runs_in_progress(engine)["live"].tolist() == [False]
