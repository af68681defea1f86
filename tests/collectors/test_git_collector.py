"""The git collector against real repositories and real databases (SQLite; PostgreSQL when configured)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bench.synth_repo import synthesize
from collectors.git.source import collect_git
from collectors.runs import CollectError
from db.engine import make_engine
from db.models import Commit, CommitFile, Identity, Tag
from db.queries import load_runs
from tests.support.paths import ROOT

# Large enough that the first 2,000-commit batch is a small part of the history.
BIG_REPO_COMMITS = 20000

# A `git` first on the PATH of the collector that is stopped: the real git, whose `log` output reaches the collector
# at full speed for its first MiB and then slowly, so the stop lands mid-run however fast the machine (or the
# parallel ingest) is. The collector itself is unchanged: it runs git by name.
SLOW_GIT = """#!{python}
import os, subprocess, sys, time
real, args = {real!r}, sys.argv[1:]
if "log" not in args:
    os.execv(real, [real, *args])
proc = subprocess.Popen([real, *args], stdout=subprocess.PIPE)
sent = 0
while chunk := proc.stdout.read(65536):
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()
    sent += len(chunk)
    if sent > 1 << 20:
        time.sleep(0.25)
sys.exit(proc.wait())
"""


def slow_git_path(tmp_path: Path) -> str:
    """A PATH with SLOW_GIT as `git` first."""
    real = shutil.which("git")
    bin_dir = tmp_path / "slow-bin"
    bin_dir.mkdir()
    shim = bin_dir / "git"
    shim.write_text(SLOW_GIT.format(python=sys.executable, real=real))
    shim.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def snapshot(engine) -> dict[str, list[tuple]]:
    """What a user can observe of collected data (run bookkeeping aside), in a stable order."""
    with engine.connect() as conn:
        commit_cols = list(Commit.__table__.c)
        return {
            "commits": sorted(conn.execute(select(*commit_cols)).all()),
            "files": sorted(conn.execute(select(CommitFile)).all(), key=repr),
            "tags": sorted(conn.execute(select(Tag)).all()),
            "identities": sorted(conn.execute(select(Identity.kind, Identity.value, Identity.display_name)).all()),
        }


def test_incremental_rerun_reads_only_new_commits(git_repo, db_url):
    engine = make_engine(db_url)
    for i in range(3):
        git_repo.commit(f"c{i}", {f"f{i}.txt": "x\n"}, date=f"2026-09-0{i + 1}T10:00:00+02:00")
    first = collect_git(engine, git_repo.path, "main")
    assert (first.commits_seen, first.full_walk) == (3, True)
    again = collect_git(engine, git_repo.path, "main")
    assert (again.commits_seen, again.full_walk) == (0, False)
    git_repo.commit("c3", {"f3.txt": "y\n"}, date="2026-09-05T10:00:00+02:00")
    third = collect_git(engine, git_repo.path, "main")
    assert (third.commits_seen, third.full_walk) == (1, False)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM commits")).scalar_one() == 4
    runs = load_runs(engine)
    assert list(runs["status"]) == ["success"] * 3 and list(runs["items_seen"]) == [1, 0, 3]


def test_force_push_removes_commits_no_longer_reachable(git_repo, db_url):
    engine = make_engine(db_url)
    base = git_repo.commit("base", {"a.txt": "a\n"})
    git_repo.commit("doomed", {"b.txt": "b\n"})
    collect_git(engine, git_repo.path, "main")
    git_repo.git("reset", "-q", "--hard", base)
    kept = git_repo.commit("rewritten", {"c.txt": "c\n"})
    result = collect_git(engine, git_repo.path, "main")
    assert result.full_walk and result.commits_removed == 1
    with engine.connect() as conn:
        subjects = set(conn.execute(select(Commit.subject)).scalars())
        files = set(conn.execute(select(CommitFile.path)).scalars())
    assert subjects == {"base", "rewritten"} and files == {"a.txt", "c.txt"}
    assert result.cursor == kept


def test_bare_repository_and_tags(tmp_path, git_repo, db_url):
    git_repo.commit("one", {"a.txt": "a\n"})
    git_repo.git("tag", "data-v1")
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(git_repo.path), str(bare)], check=True)
    engine = make_engine(db_url)
    result = collect_git(engine, bare, "main")
    assert (result.source_name, result.commits_seen, result.tags) == ("bare", 1, 1)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "git source {path}: no such path"),
        ("plain-dir", "git source {path}: not a git repository"),
        ("empty", "git source {path}: the repository is empty (no commits on any branch)"),
        ("no-branch", "git source {path}: branch 'main' not found (branches: trunk)"),
    ],
)
def test_bad_sources_fail_with_one_line_and_keep_data(tmp_path, git_repo, sqlite_url, setup, message):
    engine = make_engine(sqlite_url)
    git_repo.commit("kept", {"a.txt": "a\n"})
    collect_git(engine, git_repo.path, "main", source_name="good")
    path = tmp_path / setup
    if setup == "plain-dir":
        path.mkdir()
    elif setup == "empty":
        subprocess.run(["git", "init", "-q", str(path)], check=True)
    elif setup == "no-branch":
        subprocess.run(["git", "clone", "-q", str(git_repo.path), str(path)], check=True)
        subprocess.run(["git", "-C", str(path), "branch", "-q", "-m", "main", "trunk"], check=True)
        subprocess.run(["git", "-C", str(path), "branch", "-q", "-D", "-r", "origin/main"], check=True)
    with pytest.raises(CollectError) as info:
        collect_git(engine, path, "main")
    assert str(info.value) == message.format(path=path.resolve())
    runs = load_runs(engine)
    assert runs.iloc[0]["status"] == "failed" and runs.iloc[0]["error"] == str(info.value)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM commits")).scalar_one() == 1  # nothing lost

    # The command line says the same in one line and exits non-zero.
    toml = tmp_path / "e.toml"
    toml.write_text(f'[engagement]\nname = "x"\nstart = 2026-09-07\n[[sources.git]]\npath = "{path}"\n')
    out = subprocess.run([sys.executable, "-m", "collectors", "collect", "--config", str(toml), "--db", sqlite_url,
                          "--quiet"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == f"error: {message.format(path=path.resolve())}"


@pytest.fixture(scope="module")
def big_repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("big") / "repo"
    synthesize(repo, commits=BIG_REPO_COMMITS, seed=3)
    return repo


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "status"), [(signal.SIGKILL, "running"), (signal.SIGINT, "interrupted")],
                         ids=["kill-9", "ctrl-c"])
def test_stop_mid_collection_then_rerun_equals_a_clean_run(tmp_path, big_repo, db_url, sig, status):
    repo = big_repo
    toml = tmp_path / "e.toml"
    toml.write_text(f'[engagement]\nname = "x"\nstart = 2026-09-07\n[[sources.git]]\npath = "{repo}"\n')
    engine = make_engine(db_url)
    cmd = [sys.executable, "-m", "collectors", "collect", "--config", str(toml), "--db", db_url, "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PATH": slow_git_path(tmp_path)})
    deadline = time.monotonic() + 120
    written = 0
    while time.monotonic() < deadline and proc.poll() is None:
        with engine.connect() as conn:
            written = conn.execute(text("SELECT COUNT(*) FROM commits")).scalar_one()
        if written:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the collector finished before it could be stopped"
    os.kill(proc.pid, sig)
    proc.wait()
    with engine.connect() as conn:
        partial = conn.execute(text("SELECT COUNT(*) FROM commits")).scalar_one()
    assert 0 < partial < BIG_REPO_COMMITS
    # kill -9 leaves no chance to log the end; Ctrl-C is logged as interrupted.
    assert load_runs(engine).iloc[0]["status"] == status

    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    # the stopped run is the oldest (the rerun logs the commits, then the surviving lines)
    assert load_runs(engine).iloc[-1]["status"] == ("abandoned" if status == "running" else status)

    clean_url = f"sqlite:///{tmp_path / 'clean.db'}"
    subprocess.run([*cmd[:-3], "--db", clean_url, "--quiet"], cwd=ROOT, check=True, capture_output=True)
    assert snapshot(engine) == snapshot(make_engine(clean_url))
