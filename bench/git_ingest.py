"""Benchmark: git collection (parse + write to SQLite) against plain `git log --numstat`, in one run.

    python bench/git_ingest.py [REPO] [--branch main] [--commits 30000]

Without REPO a realistic repository of --commits commits is synthesised with `git fast-import`
(bench/synth_repo.py). Prints commits/s for both, their ratio, and the no-change rerun time.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synth_repo import synthesize  # noqa: E402
from collectors.git.client import count_commits, resolve_tip  # noqa: E402
from collectors.git.source import collect_git  # noqa: E402
from db.engine import make_engine  # noqa: E402


def plain_git_log_seconds(repo: Path, branch: str) -> float:
    """Wall time of `git log --numstat <branch>` with its output read through a pipe and discarded."""
    started = time.perf_counter()
    proc = subprocess.Popen(["git", "-C", str(repo), "log", "--numstat", branch], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    while proc.stdout.read(1 << 20):
        pass
    if proc.wait() != 0:
        raise SystemExit(f"git log failed in {repo}")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", nargs="?", type=Path)
    parser.add_argument("--branch", default="main")
    parser.add_argument("--commits", type=int, default=30000, help="size of the synthesised repository")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="baton-bench-") as tmp:
        work = Path(tmp)
        repo = args.repo
        if repo is None:
            started = time.perf_counter()
            info = synthesize(work / "repo", commits=args.commits)
            repo = info.path
            print(f"synthesised {info.commits} commits ({info.merges} merges, {info.files_touched} file changes, "
                  f"{info.renames} renames, {info.binary_changes} binary) in {time.perf_counter() - started:.1f} s")
        commits = count_commits(repo, resolve_tip(repo, args.branch))
        plain_git_log_seconds(repo, args.branch)  # warm the OS cache so neither side pays for cold reads

        git_s = plain_git_log_seconds(repo, args.branch)
        engine = make_engine(f"sqlite:///{work / 'bench.db'}")
        started = time.perf_counter()
        result = collect_git(engine, repo, args.branch, progress=False)
        collect_s = time.perf_counter() - started
        assert result.commits_seen == commits, (result.commits_seen, commits)

        started = time.perf_counter()
        rerun = collect_git(engine, repo, args.branch, progress=False)
        rerun_s = time.perf_counter() - started
        assert rerun.commits_seen == 0

        started = time.perf_counter()
        subprocess.run(["git", "-C", str(repo), "rev-parse", args.branch], check=True, capture_output=True)
        rev_parse_s = time.perf_counter() - started

    print(f"repository: {repo if args.repo else 'synthetic'} — {commits} commits on {args.branch}")
    print(f"plain git log --numstat: {git_s:7.2f} s  {commits / git_s:9.0f} commits/s")
    print(f"collector (parse+write): {collect_s:7.2f} s  {commits / collect_s:9.0f} commits/s")
    print(f"ratio collector / git log throughput: {git_s / collect_s:.0%}")
    print(f"no-change rerun: {rerun_s:.3f} s (git rev-parse alone: {rev_parse_s:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
