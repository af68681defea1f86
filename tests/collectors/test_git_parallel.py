"""Parallel git ingest (issue 11) stores exactly the rows the single `git log` stream stores, on SQLite and
PostgreSQL: commits, per-file stats (renames, binaries), identities (first name seen in git log order)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bench.synth_repo import synthesize
from collectors.git import parallel
from collectors.git.client import range_shas, resolve_tip, stream_commits
from collectors.git.source import BATCH, _write_batch, collect_git
from db.engine import make_engine
from db.models import Commit, CommitFile, Identity
from db.runs import ensure_source


def rows(engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {
            "commits": sorted(conn.execute(select(Commit)).all()),
            "files": sorted(conn.execute(select(CommitFile)).all(), key=repr),
            "identities": sorted(conn.execute(select(Identity.kind, Identity.value, Identity.display_name)).all()),
        }


def sqlite_reference(tmp_path: Path, repo: Path, branch: str = "main") -> dict[str, list[tuple]]:
    """What the collector stored before issue 11 (one git log, dict rows upserted through SQLAlchemy), in a
    fresh SQLite file: the parallel result on either database must equal it."""
    engine = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    with engine.begin() as conn:
        source_id = ensure_source(conn, "git", "reference", "reference")
    batch = []
    for commit in stream_commits(repo, resolve_tip(repo, branch)):
        batch.append(commit)
        if len(batch) == BATCH:
            with engine.begin() as conn:
                _write_batch(conn, source_id, batch)
            batch = []
    with engine.begin() as conn:
        _write_batch(conn, source_id, batch)
    return rows(engine)


@pytest.fixture
def varied_repo(git_repo):
    """A history with renames, a merge, binaries, co-authors, a Latin-1 name, and one email under three names
    in different parts of the history (so the slices disagree about which name comes first)."""
    g = git_repo
    g.commit("root", {"src/old.py": "x = 1\n" * 20, "model.bin": b"\x00\x01"}, author="Ann <ann@x.com>",
             date="2026-09-01T10:00:00+02:00")
    for i in range(12):
        g.commit(f"work {i}", {f"src/f{i % 4}.py": f"v = {i}\n"}, date=f"2026-09-{2 + i:02d}T10:00:00-05:00",
                 author="Old Name <same@x.com>" if i < 4 else "Bo <bo@client.com>")
    g.git("checkout", "-q", "-b", "feature")
    g.git("mv", "src/old.py", "src/new.py")
    g.commit("rename\n\nCo-authored-by: Cy <cy@x.com>\nCo-authored-by: Mid Name <SAME@x.com>",
             {"src/new.py": "x = 1\n" * 20 + "y\n"}, date="2026-09-20T10:00:00+02:00")
    g.git("checkout", "-q", "main")
    g.commit("main side", {"b.bin": b"\x00\xff" * 10}, date="2026-09-20T11:00:00+00:00")
    env = {"GIT_AUTHOR_DATE": "2026-09-21T10:00:00+02:00", "GIT_COMMITTER_DATE": "2026-09-21T10:00:00+02:00",
           "GIT_AUTHOR_NAME": "M", "GIT_AUTHOR_EMAIL": "m@x", "GIT_COMMITTER_NAME": "M", "GIT_COMMITTER_EMAIL": "m@x"}
    g.git("merge", "-q", "--no-ff", "-m", "Merge feature", "feature", env=env)
    tree, head = g.git("write-tree"), g.git("rev-parse", "HEAD")
    raw = (f"tree {tree}\nparent {head}\n".encode() + b"author Jos\xe9 <jose@x.com> 1790000000 +0200\n"
           b"committer Jos\xe9 <jose@x.com> 1790000000 +0200\n\nlatin-1 author\n")
    g.git("update-ref", "refs/heads/main", g.git("hash-object", "-t", "commit", "-w", "--stdin", input=raw))
    for i in range(12):
        g.commit(f"late {i}", {f"docs/d{i % 3}.md": f"{i}\n"}, date=f"2026-10-{1 + i:02d}T09:00:00+01:00",
                 author="New Name <same@x.com>" if i % 2 else "Ann <ann@x.com>")
    return g


@pytest.mark.parametrize("workers", [2, 3])
def test_parallel_slices_store_the_same_rows_as_one_stream(tmp_path, varied_repo, db_url, workers, monkeypatch):
    repo = varied_repo.path
    assert len(range_shas(repo, "main")) == 29
    monkeypatch.setattr(parallel, "available_cores", lambda: workers)
    monkeypatch.setattr(parallel, "MIN_PARALLEL", 1)
    monkeypatch.setattr(parallel, "MIN_SLICE", 1)
    monkeypatch.setattr(parallel, "BATCH", 4)  # several batches per slice, so identities wait for earlier slices
    engine = make_engine(db_url)
    result = collect_git(engine, repo, "main", source_name="reference")
    assert result.commits_seen == 29
    stored = rows(engine)
    assert stored == sqlite_reference(tmp_path, repo)
    # What a user checks: one name per email, the newest in git log order ("New Name"), renames kept.
    names = {value: name for _, value, name in stored["identities"]}
    assert names["same@x.com"] == "New Name" and names["jose@x.com"] == "José"
    renamed = [f for f in stored["files"] if f.old_path]
    assert [(f.old_path, f.path, f.added, f.deleted) for f in renamed] == [("src/old.py", "src/new.py", 1, 0)]


def test_synthetic_history_in_two_workers_equals_one_stream(tmp_path, db_url, monkeypatch):
    info = synthesize(tmp_path / "synth", commits=3000, seed=11)
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    monkeypatch.setattr(parallel, "MIN_PARALLEL", 1000)
    monkeypatch.setattr(parallel, "MIN_SLICE", 500)
    engine = make_engine(db_url)
    result = collect_git(engine, info.path, "main", source_name="reference")
    assert result.commits_seen == info.commits == 3000
    stored = rows(engine)
    assert len(stored["files"]) == info.files_touched
    assert stored == sqlite_reference(tmp_path, info.path)


def test_batches_report_the_total_and_stay_within_the_batch_size(varied_repo, monkeypatch):
    monkeypatch.setattr(parallel, "BATCH", 7)
    totals = []
    batches = list(parallel.read_batches(varied_repo.path, resolve_tip(varied_repo.path, "main"), None, 1,
                                         on_total=totals.append, workers=2, min_parallel=1, min_slice=1))
    sizes = [len(b.commits) for b in batches]
    assert sum(sizes) == 29 and totals == [29] and max(sizes) <= 7
    assert {b.slice_no for b in batches} == {0, 1}


def test_collect_through_the_driver_shows_progress_per_batch(varied_repo, sqlite_url, monkeypatch):
    """Each batch is one driver page: the run log counts them all, the cursor is the tip."""
    monkeypatch.setattr(parallel, "BATCH", 5)
    monkeypatch.setattr(parallel, "MIN_PARALLEL", 1)
    monkeypatch.setattr(parallel, "MIN_SLICE", 1)
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    engine = make_engine(sqlite_url)
    result = collect_git(engine, varied_repo.path, "main", source_name="r")
    assert result.commits_seen == 29 and result.full_walk
    again = collect_git(engine, varied_repo.path, "main", source_name="r")
    assert again.commits_seen == 0 and not again.full_walk


def test_plan_slices_are_contiguous_and_cover_the_range():
    shas = [f"{i:040x}" for i in range(10)]
    slices = parallel.plan_slices(shas, workers=3, min_slice=1)
    assert [len(s) for s in slices] == [4, 3, 3] and sum(slices, []) == shas
    assert parallel.plan_slices(shas, workers=8, min_slice=4) == [shas[:5], shas[5:]]
    assert parallel.plan_slices([], workers=2) == []
