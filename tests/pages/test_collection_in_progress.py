"""Pages while a collection runs (SPEC §8: "a collection in progress shows a progress bar in the terminal and in the
UI"; issue 11 item 5): a real `collect` in another process, held mid-walk by a `git` shim, holds its source's lock
and has committed its first batch; the Overview and Sources pages render without waiting for it (SQLite in WAL
mode; PostgreSQL), the Sources page shows the run with its progress bar, and says it finished once it has. The run
row's counters only advance and end equal to the run's counts. A phase of unknown total shows a count; a run left
'running' by a dead process is not shown as in progress.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from db.engine import make_engine
from db.models import CollectionRun
from db.queries import load_runs, load_runs_in_progress
from db.runs import SourceLock, ensure_source, record_progress, start_run
from tests.support.paths import APP, ROOT

COMMITS = 6000
BATCH = 2000  # collectors/git/parallel.py BATCH: the first page the collector commits
FILES = 5
# A page that waits for the collector would wait out SQLite's busy timeout (30 s, db/engine.py) or PostgreSQL's
# lock for as long as the collector holds it; a page that does not renders in a few seconds.
RENDER_TIMEOUT = 20

# `git` first on the collector's PATH: the real git, except that a `git log --stdin` (the ingest's reader,
# collectors/git/client.py log_command) sends the first half of its output, then holds the rest until the test
# creates the release file. The collector (pinned to one core, so it reads one slice in batches of BATCH) then
# has committed its first batch and waits for the next, holding its lock: a collection in progress that stays
# put while the pages render, however fast or slow the machine.
HOLDING_GIT = """#!{python}
import os, subprocess, sys, time
real, release, args = {real!r}, {release!r}, sys.argv[1:]
if "--stdin" not in args:
    os.execv(real, [real, *args])
proc = subprocess.run([real, *args], stdout=subprocess.PIPE)
half = len(proc.stdout) // 2
sys.stdout.buffer.write(proc.stdout[:half])
sys.stdout.buffer.flush()
while not os.path.exists(release):
    time.sleep(0.05)
sys.stdout.buffer.write(proc.stdout[half:])
sys.stdout.buffer.flush()
sys.exit(proc.returncode)
"""
PINNED_COLLECT = ("import os, sys; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
                  "from collectors.__main__ import main; sys.exit(main(sys.argv[1:]))")


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """COMMITS commits, one a minute in the engagement's first week (one tree to blame), each rewriting one of
    FILES files. Their subjects are long enough for half of `git log` (~5 MB) to pass the collector's 1 MiB reads
    more than BATCH commits, and not twice BATCH."""
    path = tmp_path_factory.mktemp("in-progress") / "repo"
    subprocess.run(["git", "-c", "init.defaultBranch=main", "init", "-q", str(path)], check=True)
    start = int(dt.datetime(2026, 9, 7, 9, tzinfo=dt.UTC).timestamp())
    people = ["Ann <ann@client.example>", "Bob <bob@vendor.example>", "Cy <cy@client.example>"]
    stream = []
    for i in range(COMMITS):
        who, when, body, subject = people[i % 3], start + i * 60, f"line {i}\n", f"c{i} " + "x" * 800
        stream.append(f"commit refs/heads/main\nmark :{i + 1}\nauthor {who} {when} +0000\n"
                      f"committer {who} {when} +0000\ndata {len(subject)}\n{subject}\n" + (f"from :{i}\n" if i else "")
                      + f"M 100644 inline f{i % FILES}.txt\ndata {len(body)}\n{body}\n")
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input="".join(stream).encode(), check=True)
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "main"], check=True)
    return path


def holding_git_path(tmp_path: Path, release: Path) -> str:
    bin_dir = tmp_path / "holding-bin"
    bin_dir.mkdir()
    shim = bin_dir / "git"
    shim.write_text(HOLDING_GIT.format(python=sys.executable, real=shutil.which("git"), release=str(release)))
    shim.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def wait_for_first_batch(engine, proc: subprocess.Popen, deadline_s: float = 120) -> dict:
    """The collector's run once it is in progress (lock held) with its first batch committed."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else proc.returncode
        runs = load_runs_in_progress(engine)
        if len(runs) and runs["live"].iloc[0] and runs["progress_done"].iloc[0] == BATCH:
            return runs.iloc[0].to_dict()
        time.sleep(0.1)
    raise AssertionError(f"no batch committed in {deadline_s} s: {load_runs_in_progress(engine)}")


@pytest.mark.slow  # a collector process and three renders of the app: ~30 s per database
def test_pages_render_during_a_collection_and_show_its_progress(repo, tmp_path, db_url, monkeypatch):
    toml = tmp_path / "engagement.toml"
    toml.write_text(f'[engagement]\nname = "in progress"\nstart = 2026-09-07\n[[sources.git]]\npath = "{repo}"\n')
    release = tmp_path / "release"
    engine = make_engine(db_url)
    proc = subprocess.Popen([sys.executable, "-c", PINNED_COLLECT, "collect", "--config", str(toml), "--db", db_url,
                             "--quiet"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "PATH": holding_git_path(tmp_path, release)})
    try:
        run = wait_for_first_batch(engine, proc)
        monkeypatch.setenv("BATON_CONFIG", str(toml))
        monkeypatch.setenv("BATON_DB_URL", db_url)
        with engine.connect() as writer:
            # The collector's next page, as it writes it: a write transaction on its run row, held open.
            writer.execute(update(CollectionRun).where(CollectionRun.id == run["id"])
                           .values(items_seen=CollectionRun.items_seen))
            at = AppTest.from_file(APP, default_timeout=RENDER_TIMEOUT)
            at.run()  # the Overview
            assert not at.exception, [e.value for e in at.exception]
            assert at.title[0].value == "in progress"
            at.switch_page("pages/sources.py").run()
            assert not at.exception, [e.value for e in at.exception]
            writer.rollback()
        assert proc.poll() is None, "the collection ended before the pages rendered"

        assert [s.value for s in at.subheader][:2] == ["Configured sources", "Collection in progress"]
        assert any(m.value.startswith("**git repo** · started ") and " · running for " in m.value
                   for m in at.markdown)
        [bar] = at.progress
        assert (bar.value, bar.text) == (33, f"{BATCH:,} of {COMMITS:,} commits (33%)")
        assert f"{BATCH:,} items read, {BATCH:,} written, 0 removed so far; last page committed" in \
            " ".join(c.value for c in at.caption)
        runs = load_runs(engine)
        assert runs["status"].tolist() == ["running"]  # the runs table shows it too

        release.touch()
        samples = []
        while proc.poll() is None:
            samples += load_runs_in_progress(engine)[["items_seen", "items_written", "progress_unit"]].values.tolist()
            time.sleep(0.05)
        assert proc.returncode == 0, proc.stderr.read()
    finally:
        release.touch()
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    seen = [s[0] for s in samples]
    assert seen == sorted(seen) and BATCH <= seen[0] and seen[-1] <= COMMITS  # the counters only advance
    done = load_runs(engine).iloc[0]
    assert (done["status"], done["items_seen"], done["items_written"]) == ("success", COMMITS, COMMITS)

    at.run()  # the page's next refresh: the run it showed has finished
    assert not at.exception, [e.value for e in at.exception]
    assert not at.progress
    [finished] = [s.value for s in at.success if s.value.startswith("The collection of git repo finished at ")]
    assert finished.endswith(f": {COMMITS:,} items read, {COMMITS:,} written, 0 removed.")


def sources_page(monkeypatch, toml: Path, db_url: str) -> AppTest:
    monkeypatch.setenv("BATON_CONFIG", str(toml))
    monkeypatch.setenv("BATON_DB_URL", db_url)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/sources.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def registered_git_source(tmp_path: Path, sqlite_url: str) -> tuple[Path, object, int]:
    """A minimal engagement file and a database with one registered git source (no collection yet)."""
    toml = tmp_path / "engagement.toml"
    toml.write_text('[engagement]\nname = "x"\nstart = 2026-09-07\n')
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        source_id = ensure_source(conn, "git", "/repo#main", "repo")
    return toml, engine, source_id


def test_a_phase_of_unknown_total_shows_a_count(tmp_path, sqlite_url, monkeypatch):
    """The surviving-lines phase of a git run counts files without knowing how many (collectors/git/blame.py)."""
    toml, engine, source_id = registered_git_source(tmp_path, sqlite_url)
    lock = SourceLock(engine, source_id)
    lock.acquire(wait=False)  # this test's process is the live collector
    try:
        run_id = start_run(engine, source_id, None)
        with engine.begin() as conn:
            record_progress(conn, run_id, items_seen=1234, items_written=1234, items_removed=2, progress_done=403,
                            progress_total=None, progress_unit="file")
        at = sources_page(monkeypatch, toml, sqlite_url)
    finally:
        lock.release()
    assert "Collection in progress" in [s.value for s in at.subheader]
    assert not at.progress
    assert "403 files so far (total not known in advance)" in [m.value for m in at.markdown]
    assert any(c.value.startswith("1,234 items read, 1,234 written, 2 removed so far; last page committed ")
               for c in at.caption)


def test_a_run_left_running_by_a_dead_process_is_not_shown_in_progress(tmp_path, sqlite_url, monkeypatch):
    toml, engine, source_id = registered_git_source(tmp_path, sqlite_url)
    run_id = start_run(engine, source_id, None)  # no lock: whoever logged it is gone
    at = sources_page(monkeypatch, toml, sqlite_url)
    assert "Collection in progress" not in [s.value for s in at.subheader]
    assert not at.progress
    assert any(c.value.startswith(f"Run {run_id} of git repo is logged as running, but no process is collecting it")
               for c in at.caption)
