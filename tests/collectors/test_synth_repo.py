"""Tests for bench/synth_repo.py, checked with plain git commands."""

from __future__ import annotations

import datetime
import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

from tests.support.paths import ROOT

_ROOT = ROOT
_spec = importlib.util.spec_from_file_location("synth_repo", _ROOT / "bench" / "synth_repo.py")
synth_repo = importlib.util.module_from_spec(_spec)
sys.modules["synth_repo"] = synth_repo  # dataclasses need the module registered
_spec.loader.exec_module(synth_repo)

N = 300


def git(repo: pathlib.Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    out = subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)
    return out.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("synth") / "repo"
    return synth_repo.synthesize(path, commits=N, seed=7)


def test_commit_and_merge_counts(repo):
    assert repo.branch == "main"
    assert repo.commits == N
    assert int(git(repo.path, "rev-list", "--count", "main")) == repo.commits
    merges = int(git(repo.path, "rev-list", "--merges", "--count", "main"))
    assert merges == repo.merges > 0
    parents = [line.split() for line in git(repo.path, "log", "--format=%P", "main").splitlines()]
    assert sum(len(p) == 2 for p in parents) == repo.merges
    assert git(repo.path, "branch", "--format=%(refname:short)").split() == ["main"]


def test_worktree_checked_out(repo):
    assert git(repo.path, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git(repo.path, "status", "--porcelain") == ""
    assert (repo.path / "README.md").is_file()
    assert any((repo.path / "src" / "pkg").glob("mod_*.py"))


def test_numstat_matches_info(repo):
    numstat = git(repo.path, "log", "--numstat", "-M", "--format=", "main")
    lines = [ln for ln in numstat.splitlines() if ln]
    assert len(lines) == repo.files_touched
    binary = [ln for ln in lines if ln.startswith("-\t-\t")]
    assert len(binary) == repo.binary_changes > 0
    assert any(ln.endswith(".bin") for ln in binary)
    # text changes are mostly small edits
    small = [ln for ln in lines if not ln.startswith("-") and int(ln.split("\t")[0]) <= 10]
    assert len(small) > len(lines) / 2


def test_renames_detected(repo):
    status = git(repo.path, "log", "-M", "--name-status", "--format=", "main")
    renames = [ln for ln in status.splitlines() if ln.startswith("R")]
    assert len(renames) == repo.renames > 0


def test_authors_and_dates(repo):
    log = git(repo.path, "log", "--format=%an\t%ae\t%at\t%ai\t%ct", "main")
    rows = [ln.split("\t") for ln in log.splitlines()]
    names = {r[0] for r in rows}
    emails = {r[1] for r in rows}
    assert "José Müller" in names
    assert any(e.endswith("@users.noreply.github.com") for e in emails)
    assert "49699333+dependabot[bot]@users.noreply.github.com" in emails
    assert len({r[3][-5:] for r in rows}) >= 3  # several timezone offsets
    times = [int(r[2]) for r in rows]
    assert len(set(times)) == len(times)  # strictly increasing in creation order
    first = min(times)
    assert first == int(datetime.datetime(2024, 1, 1, 9, tzinfo=datetime.UTC).timestamp())
    assert all(int(r[4]) >= int(r[2]) for r in rows)
    trailers = git(repo.path, "log", "--format=%B", "main")
    assert "Co-authored-by: " in trailers


def test_deterministic(tmp_path, repo):
    again = synth_repo.synthesize(tmp_path / "again", commits=N, seed=7)
    assert git(again.path, "rev-parse", "main") == git(repo.path, "rev-parse", "main")
    assert dataclass_counts(again) == dataclass_counts(repo)
    other = synth_repo.synthesize(tmp_path / "other", commits=N, seed=8)
    assert git(other.path, "rev-parse", "main") != git(repo.path, "rev-parse", "main")


def dataclass_counts(info):
    return (info.commits, info.merges, info.files_touched, info.binary_changes, info.renames)


def test_bare(tmp_path):
    info = synth_repo.synthesize(tmp_path / "bare.git", commits=50, seed=3, bare=True)
    assert git(info.path, "rev-parse", "--is-bare-repository").strip() == "true"
    assert int(git(info.path, "rev-list", "--count", "main")) == info.commits == 50
    assert not (info.path / "README.md").exists()


def test_custom_authors_and_start(tmp_path):
    start = datetime.datetime(2023, 6, 1, 12, 0, tzinfo=datetime.UTC)
    authors = [("Zoë Ångström", "zoe@example.org"), ("Ann Lee", "ann@example.org")]
    info = synth_repo.synthesize(tmp_path / "c", commits=40, seed=1, start=start, authors=authors)
    log = git(info.path, "log", "--format=%an <%ae>|%at", "main").splitlines()
    assert {ln.split("|")[0] for ln in log} <= {"Zoë Ångström <zoe@example.org>", "Ann Lee <ann@example.org>"}
    assert min(int(ln.split("|")[1]) for ln in log) == int(start.timestamp())


def test_refuses_non_empty_dir(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f").write_text("hi")
    with pytest.raises(FileExistsError):
        synth_repo.synthesize(tmp_path / "x", commits=5)


def test_cli(tmp_path):
    out = subprocess.run(
        [sys.executable, str(_ROOT / "bench" / "synth_repo.py"), str(tmp_path / "cli"), "--commits", "30",
         "--seed", "2"],
        check=True, capture_output=True, text=True,
    ).stdout
    assert "SynthInfo(" in out and "commits=30" in out
