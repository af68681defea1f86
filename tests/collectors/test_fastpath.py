"""The no-change rerun fast path (issue 11): same answer and same run log as the normal path, without
importing SQLAlchemy/pandas; anything it is not sure about goes to the normal path."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from collectors.git.source import collect_git
from db.engine import make_engine
from tests.support.paths import ROOT


@pytest.fixture
def engagement(tmp_path, git_repo):
    git_repo.commit("root", {"eval/test_a.py": "def test_one():\n    pass\ndef test_two():\n    pass\n"},
                    date="2026-09-08T10:00:00+02:00")
    git_repo.commit("more", {"eval/test_b.py": "def test_three():\n    pass\n", "src/x.py": "x = 1\n"},
                    date="2026-09-09T10:00:00+02:00")
    git_repo.git("tag", "data-v1")
    toml = tmp_path / "e.toml"
    toml.write_text('[engagement]\nname = "x"\nstart = 2026-09-07\ntimezone = "Europe/Berlin"\n'
                    f'[[sources.git]]\npath = "{git_repo.path}"\nname = "repo"\n'
                    '[[capabilities]]\nkey = "evaluation"\npaths = ["eval/**"]\n')
    return toml


def collect(toml: Path, db_url: str, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-X", "importtime", "-m", "collectors", "collect", "--config", str(toml), "--db", db_url,
           "--quiet", *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


def heavy(out: subprocess.CompletedProcess) -> bool:
    """Whether the run imported SQLAlchemy (i.e. took the normal path); -X importtime lists every import."""
    return any(line.startswith("import time:") and line.split("|")[-1].strip() == "sqlalchemy"
               for line in out.stderr.splitlines())


def messages(out: subprocess.CompletedProcess) -> list[str]:
    return [line for line in out.stderr.splitlines() if not line.startswith("import time:")]


def runs(db_url: str) -> list[tuple]:
    with make_engine(db_url).connect() as conn:
        return conn.execute(text("SELECT source_id, status, items_seen, items_written, items_removed, cursor_before, "
                                 "cursor_after, error FROM collection_runs ORDER BY id")).all()


def stored(db_url: str) -> dict[str, list[tuple]]:
    with make_engine(db_url).connect() as conn:
        return {t: sorted(conn.execute(text(f"SELECT * FROM {t}")).all(), key=repr)  # noqa: S608 - constant names
                for t in ("commits", "commit_files", "tags", "identities", "eval_test_counts", "cursors")}


def test_no_change_rerun_matches_the_normal_path_without_heavy_imports(engagement, db_url, tmp_path):
    first = collect(engagement, db_url)
    assert first.returncode == 0 and heavy(first)
    shutil.rmtree(tmp_path / ".baton-cache")  # no validated-config marker: the normal path answers the rerun
    normal = collect(engagement, db_url)
    assert normal.returncode == 0 and heavy(normal)
    before = stored(db_url)
    fast = collect(engagement, db_url)
    assert fast.returncode == 0 and not heavy(fast)
    assert fast.stdout == normal.stdout
    assert "git repo: 3 evaluation tests at the tip" in fast.stdout.splitlines()
    assert messages(fast) == messages(normal)
    assert stored(db_url) == before
    logged = runs(db_url)
    assert len(logged) == 3 and logged[2] == logged[1]  # the same run row as the normal no-change run
    assert logged[2][1:5] == ("success", 0, 0, 0) and logged[2][5] == logged[2][6]


@pytest.mark.parametrize("change", ["commit", "tag", "config", "running", "invalid-config", "renamed",
                                    "collected-without-eval-scan"])
def test_anything_new_goes_to_the_normal_path(engagement, git_repo, sqlite_url, change):
    assert collect(engagement, sqlite_url).returncode == 0
    assert not heavy(collect(engagement, sqlite_url))  # primed: the next run would be fast
    if change == "commit":
        git_repo.commit("new", {"src/y.py": "y\n"}, date="2026-09-10T10:00:00+02:00")
    elif change == "tag":
        git_repo.git("tag", "data-v2", "HEAD~1")
    elif change == "config":
        engagement.write_text(engagement.read_text() + "\n# edited\n")
    elif change == "running":
        with make_engine(sqlite_url).begin() as conn:
            conn.execute(text("INSERT INTO collection_runs (source_id, started_at, status, items_seen, items_written, "
                              "items_removed) VALUES (1, '2026-09-10 10:00:00.000000', 'running', 0, 0, 0)"))
    elif change == "invalid-config":
        engagement.write_text(engagement.read_text().replace('name = "x"', 'name = "x"\nweeks = "many"'))
    elif change == "renamed":
        engagement.write_text(engagement.read_text().replace('name = "repo"', 'name = "renamed"'))
    elif change == "collected-without-eval-scan":  # the tip is stored, its evaluation counts are not
        git_repo.commit("new test", {"eval/test_c.py": "def test_four():\n    pass\n"},
                        date="2026-09-10T10:00:00+02:00")
        collect_git(make_engine(sqlite_url), git_repo.path, "main", source_name="repo")
    out = collect(engagement, sqlite_url)
    assert heavy(out)
    if change == "invalid-config":
        assert out.returncode == 2 and messages(out) == ['error: e.toml: engagement.weeks: expected a whole number, '
                                                         'got "many"']
        return
    assert out.returncode == 0
    if change == "commit":
        assert "1 commits read (incremental)" in out.stdout
    if change == "tag":
        assert "2 tags" in out.stdout
        with make_engine(sqlite_url).connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM tags")).scalar_one() == 2
    if change == "running":
        assert [r[1] for r in runs(sqlite_url)][-2:] == ["abandoned", "success"]
    if change == "renamed":
        assert out.stdout.startswith("git renamed: 0 commits read")
    if change == "collected-without-eval-scan":
        assert "git repo: 4 evaluation tests at the tip" in out.stdout.splitlines()


@pytest.mark.parametrize("extra", ['[[sources.mlflow]]\ntracking_uri = "http://127.0.0.1:1/"\n',
                                   '[[sources.gitlab]]\nproject = "group/model"\nbase_url = "http://127.0.0.1:1"\n',
                                   '[[sources.github]]\nrepo = "client/model"\nbase_url = "http://127.0.0.1:1"\n'])
def test_another_kind_of_source_is_never_answered_by_the_fast_path(engagement, sqlite_url, extra):
    """A source the fast path cannot check (MLflow, GitLab, GitHub, ...): the normal path runs, even with the git
    source unchanged and the file validated."""
    from collectors.fastpath import fast_collect, remember_valid_config

    assert collect(engagement, sqlite_url).returncode == 0
    argv = ["collect", "--config", str(engagement), "--db", sqlite_url, "--quiet"]
    assert fast_collect(argv) == 0  # primed: git alone is answered
    engagement.write_text(engagement.read_text() + extra)
    remember_valid_config(engagement)
    assert fast_collect(argv) is None
    assert fast_collect([*argv, "--source", "repo"]) is None  # even when only the git source is asked for


def test_a_held_collection_lock_goes_to_the_driver(engagement, sqlite_url):
    from collectors.fastpath import fast_collect

    assert collect(engagement, sqlite_url).returncode == 0
    argv = ["collect", "--config", str(engagement), "--db", sqlite_url, "--quiet", "--no-wait"]
    assert fast_collect(argv) == 0
    with make_engine(sqlite_url).begin() as conn:
        conn.execute(text("INSERT INTO source_locks (source_id, token, pid, host, acquired_at) "
                          "VALUES (1, 'x', 1, 'elsewhere', '2026-09-10 10:00:00.000000')"))
    assert fast_collect(argv) is None
