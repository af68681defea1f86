"""One collection per source at a time (issue 9 item 1): two or three `collect` runs started together on a fresh
database (git and GitHub sources; SQLite and PostgreSQL) end with the same rows as one clean run, spend the
GitHub API budget once (the later runs only ask with ETags), and say they wait; migrations of a fresh
database run once; `--no-wait` exits 3; a lock left by a killed collection is taken over."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import insert

from bench.synth_repo import synthesize
from db.engine import make_engine
from db.models import Source
from db.models import SourceLock as LockRow
from db.queries import load_runs
from db.runs import LockHolder, SourceLock, ensure_source, utcnow
from tests.collectors.conftest import db_snapshot
from tests.support.github_fixtures import FakeRepo, pull, review, run, user
from tests.support.replay import ReplayServer

pytestmark = pytest.mark.slow  # several collector processes at once: the slow tier of .ci/run

ROOT = Path(__file__).resolve().parents[2]
ANN, BOB = user("ann", 1), user("bob", 2)
TRAIN = ".github/workflows/train.yml"
COMMITS = 2000


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("concurrent") / "repo"
    synthesize(path, commits=COMMITS, seed=5)
    return path


def github_repo() -> FakeRepo:
    r = FakeRepo()
    r.pulls = [pull(n, ANN if n % 2 else BOB, f"2026-09-0{n}T10:00:00Z", f"2026-09-0{n + 1}T10:00:00Z",
                    merged=f"2026-09-0{n + 1}T10:00:00Z") for n in range(1, 6)]
    r.files = {n: [f"train/f{n}.py"] for n in range(1, 6)}
    r.reviews = {n: [review(10 + n, BOB if n % 2 else ANN, "APPROVED", f"2026-09-0{n + 1}T09:00:00Z", number=n)]
                 for n in range(1, 6)}
    r.runs = [run(100 + n, TRAIN, "push", ANN, f"2026-09-0{n}T10:00:00Z") for n in range(1, 6)]
    return r


def engagement(tmp_path: Path, repo: Path, github_url: str) -> Path:
    toml = tmp_path / "engagement.toml"
    toml.write_text(textwrap.dedent(f"""
        [engagement]
        name = "concurrent"
        start = 2026-09-07
        [[sources.git]]
        path = "{repo}"
        [[sources.github]]
        repo = "acme/model"
        base_url = "{github_url}"
        token_env = "CONC_GH_TOKEN"
    """))
    return toml


def collect_cmd(toml: Path, url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "collectors", "collect", "--config", str(toml), "--db", url, "--quiet", *extra]


ENV = {**os.environ, "CONC_GH_TOKEN": "t0ken", "PYTHONPATH": str(ROOT)}


@pytest.mark.parametrize("n", [2, 3])
def test_simultaneous_collects_equal_one_clean_run_and_spend_the_api_once(n, repo, tmp_path, db_url, second_db_url):
    with ReplayServer() as server:
        github_repo().script(server)
        # The first run to reach GitHub is held 3 s on its first request, so the others find the source locked.
        server.add_exchange(server._queues[("GET", "/repos/acme/model", ())].popleft())
        delayed = server._queues[("GET", "/repos/acme/model", ())]
        delayed.appendleft(type(delayed[0])("GET", "/repos/acme/model", 200, list(delayed[0].headers),
                                            delayed[0].body, delay=3.0))
        toml = engagement(tmp_path, repo, server.base_url)
        procs = [subprocess.Popen(collect_cmd(toml, db_url), cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(n)]
        outs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0] * n, [o[1] for o in outs]
        concurrent_calls = len(server.received)

        clean = subprocess.run(collect_cmd(toml, second_db_url), cwd=ROOT, env=ENV, capture_output=True, text=True)
        assert clean.returncode == 0, clean.stderr
        clean_calls = len(server.received) - concurrent_calls

    assert db_snapshot(make_engine(db_url)) == db_snapshot(make_engine(second_db_url))
    # the API budget is spent once: every later run asks each stream once with its ETag (a 304, free)
    assert concurrent_calls == clean_calls + 2 * (n - 1)
    stderr = "".join(err for _out, err in outs)
    assert "another collection of github acme/model has run since" in stderr and "; waiting…" in stderr
    assert "Traceback" not in stderr
    reads = sorted(int(out.split(" commits read")[0].rsplit(" ", 1)[1]) for out, _err in outs)
    assert reads == [0] * (n - 1) + [COMMITS]  # one full walk; the others found the tip collected
    runs = load_runs(make_engine(db_url))
    assert runs["status"].tolist() == ["success"] * (2 * n)


def test_three_first_opens_of_a_fresh_database_migrate_it_once(db_url):
    code = "import sys; from db.engine import make_engine; make_engine(sys.argv[1]); print('ok')"
    procs = [subprocess.Popen([sys.executable, "-c", code, db_url], cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _o, err in outs]
    assert [o.strip() for o, _e in outs] == ["ok"] * 3


def test_no_wait_exits_3_naming_the_holder(repo, tmp_path, db_url):
    engine = make_engine(db_url)
    with engine.begin() as conn:
        source_id = ensure_source(conn, "git", f"{repo}#main", "repo")
    held = SourceLock(engine, source_id)
    held.acquire(wait=False)
    with engine.connect() as conn:
        row = conn.execute(LockRow.__table__.select()).one()
    since = LockHolder(row.pid, row.host, row.acquired_at).since()
    try:
        toml = tmp_path / "git.toml"
        toml.write_text(f'[engagement]\nname = "x"\nstart = 2026-09-07\n[[sources.git]]\npath = "{repo}"\n')
        out = subprocess.run(collect_cmd(toml, db_url, "--no-wait"), cwd=ROOT, env=ENV, capture_output=True,
                             text=True)
    finally:
        held.release()
    assert out.returncode == 3
    lines = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert lines == [f"error: git repo: another collection has run since {since} "
                     f"(pid {os.getpid()} on {held.host}); not waiting (--no-wait)"]
    assert load_runs(engine).empty  # the busy source's run is the other one's: nothing logged here


def test_a_lock_left_by_a_dead_process_is_taken_over(repo, tmp_path, sqlite_url):
    engine = make_engine(sqlite_url)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with engine.begin() as conn:
        source_id = ensure_source(conn, "git", f"{repo}#main", "repo")
        conn.execute(insert(LockRow).values(source_id=source_id, token="x" * 32, pid=dead.pid,
                                            host=SourceLock(engine, source_id).host, process_start=None,
                                            acquired_at=utcnow()))
    toml = tmp_path / "git.toml"
    toml.write_text(f'[engagement]\nname = "x"\nstart = 2026-09-07\n[[sources.git]]\npath = "{repo}"\n')
    out = subprocess.run(collect_cmd(toml, sqlite_url, "--no-wait"), cwd=ROOT, env=ENV, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert f"git repo: took over the lock of a collection that ended without releasing it (pid {dead.pid}" in out.stderr
    with engine.connect() as conn:
        assert conn.execute(LockRow.__table__.select()).all() == []  # released at the end
        assert conn.execute(Source.__table__.select()).all()
