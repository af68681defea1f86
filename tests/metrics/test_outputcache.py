"""`python -m metrics weekly` answered from its output cache (metrics/outputcache.py, issue 11): byte for byte what
the computation printed, before pandas or SQLAlchemy are imported, and never once an input changed (collected data,
a signature: tests/metrics/test_agreement.py, the engagement file) or the command failed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

import metrics.__main__ as cli
from tests.support.paths import ROOT


@pytest.fixture
def demo(full_demo, tmp_path, monkeypatch):
    """A private copy of the collected demo (the engagement file uses relative paths), its own cache folder."""
    folder = tmp_path / "demo"
    shutil.copytree(full_demo["dir"], folder, ignore=shutil.ignore_patterns(".baton-cache"))
    monkeypatch.delenv("BATON_CACHE_DIR", raising=False)
    monkeypatch.delenv("BATON_METRICS_CACHE", raising=False)
    return {"toml": folder / "engagement.toml", "url": f"sqlite:///{folder / 'baton.db'}", "dir": folder}


def weekly(demo, capsys, *extra) -> tuple[int, str]:
    code = cli.main(["weekly", "--config", str(demo["toml"]), "--db", demo["url"], "--format", "csv", *extra])
    return code, capsys.readouterr().out


def computed(monkeypatch) -> list[str]:
    """Records each time the command really runs (the cache missed)."""
    calls: list[str] = []
    real = cli.run_command
    monkeypatch.setattr(cli, "run_command", lambda args: calls.append(args.command) or real(args))
    return calls


def test_second_weekly_is_served_from_the_cache_until_an_input_changes(demo, capsys, monkeypatch):
    calls = computed(monkeypatch)
    code, first = weekly(demo, capsys)
    assert code == 0 and calls == ["weekly"] and first.startswith("week,week_start,kpi,")
    assert len(list((demo["dir"] / ".baton-cache" / "outputs").iterdir())) == 1
    assert weekly(demo, capsys) == (0, first) and calls == ["weekly"]  # cached: nothing recomputed

    # Other options are another entry.
    code, only_share = weekly(demo, capsys, "--kpi", "internal_commit_share")
    assert code == 0 and calls == ["weekly"] * 2 and only_share != first

    # A collection that wrote something: recomputed.
    engine = create_engine(demo["url"])
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO collection_runs (source_id, started_at, finished_at, status, items_seen, "
                          "items_written, items_removed) VALUES (1, '2026-12-01 10:00:00', '2026-12-01 10:00:01', "
                          "'success', 1, 1, 0)"))
    assert weekly(demo, capsys) == (0, first) and calls == ["weekly"] * 3
    assert weekly(demo, capsys) == (0, first) and calls == ["weekly"] * 3  # and cached again

    # A no-change rerun (a quiet successful git run) keeps it.
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO collection_runs (source_id, started_at, finished_at, status, items_seen, "
                          "items_written, items_removed) VALUES (1, '2026-12-01 11:00:00', '2026-12-01 11:00:01', "
                          "'success', 0, 0, 0)"))
    assert weekly(demo, capsys) == (0, first) and calls == ["weekly"] * 3

    # An edit of the engagement file, even a comment: recomputed.
    with open(demo["toml"], "a") as f:
        f.write("\n# reviewed on Monday\n")
    assert weekly(demo, capsys) == (0, first) and calls == ["weekly"] * 4

    # A purge or a retention run forgets every cached output (engagement/cachedir.py).
    from engagement.cachedir import forget_computed

    forget_computed(demo["toml"])
    assert weekly(demo, capsys) == (0, first) and calls == ["weekly"] * 5


def test_errors_are_not_cached(demo, capsys, monkeypatch):
    calls = computed(monkeypatch)
    argv = ["evidence", "--config", str(demo["toml"]), "--db", demo["url"], "--kpi", "internal_commit_share",
            "--week", "999"]
    assert cli.main(argv) == 2 and "week 999 is not an engagement week" in capsys.readouterr().err
    assert cli.main(argv) == 2 and "week 999 is not an engagement week" in capsys.readouterr().err
    assert calls == ["evidence", "evidence"]


def test_cache_off_and_unknown_options_take_the_normal_path(demo, capsys, monkeypatch):
    calls = computed(monkeypatch)
    monkeypatch.setenv("BATON_METRICS_CACHE", "off")
    weekly(demo, capsys)
    weekly(demo, capsys)
    assert calls == ["weekly", "weekly"] and not (demo["dir"] / ".baton-cache" / "outputs").exists()


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, timeout=300)


def test_a_cached_weekly_prints_the_same_bytes_without_importing_pandas(demo):
    """The point of the cache: a rerun answers before the heavy imports, and the bytes (CSV's CRLF included) are
    the ones the computation printed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("BATON_CACHE_DIR", None)
    argv = ["weekly", "--config", str(demo["toml"]), "--db", demo["url"], "--format", "csv"]
    fresh = run(["-m", "metrics", *argv], {**env, "BATON_METRICS_CACHE": "off"})
    assert fresh.returncode == 0, fresh.stderr
    filled = run(["-m", "metrics", *argv], env)
    probe = ("import sys; from metrics.__main__ import main; code = main(sys.argv[1:]); "
             "heavy = sorted(m for m in ('pandas', 'sqlalchemy', 'pydantic', 'numpy') if m in sys.modules); "
             "print('HEAVY', heavy, file=sys.stderr); sys.exit(code)")
    cached = run(["-c", probe, *argv], env)
    assert filled.stdout == fresh.stdout and b"\r\n" in fresh.stdout
    assert cached.returncode == 0 and cached.stdout == fresh.stdout
    assert b"HEAVY []" in cached.stderr, cached.stderr
