"""Benchmark: the first surviving-lines computation (SPEC §10 internal_line_share) against the git ingest itself.

    python bench/blame.py REPO [--branch main] [--weeks 8] [--workers N]

An engagement of `--weeks` planned weeks is placed at the end of REPO's history (week `--weeks` holds the tip; the
clock is set to the tip's time, so weeks 0 .. `--weeks` are blamed). Prints the wall time of the git ingest
(`collect_git`, parse + write), of the first blame computation (`collect_blame`: the git source's run again, its
commits already in, then its `blame` stream: week-end commits, trees, parallel blame, writes) and of a rerun with
nothing new, into a fresh SQLite database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collectors.git.blame import collect_blame, default_workers  # noqa: E402
from collectors.git.source import collect_git  # noqa: E402
from db.engine import make_engine  # noqa: E402
from engagement.config import parse_config  # noqa: E402


def _cpu() -> float:
    """CPU seconds of this process and its finished children (git), user + system."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", type=Path)
    parser.add_argument("--branch", default="main")
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=1, help="measure each side this many times (median shown): "
                        "the machine may be shared")
    args = parser.parse_args()

    tip_time = subprocess.run(["git", "-C", str(args.repo), "log", "-1", "--format=%cI", args.branch],
                              capture_output=True, text=True, check=True).stdout.strip()
    now = dt.datetime.fromisoformat(tip_time).astimezone(dt.UTC) + dt.timedelta(minutes=1)
    start = now.date() - dt.timedelta(days=7 * args.weeks - 1)  # week `weeks` holds the tip
    cfg = parse_config({"engagement": {"name": "bench", "start": start, "weeks": args.weeks, "timezone": "UTC"}})
    workers = args.workers or default_workers()

    ingests, blames, reruns, cpu = [], [], [], {"ingest": [], "blame": []}
    for attempt in range(args.repeat):  # ingest and blame alternate, each into a fresh database
        with tempfile.TemporaryDirectory(prefix="baton-bench-") as tmp:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
            started, before = time.perf_counter(), _cpu()
            ingest = collect_git(engine, args.repo, args.branch, progress=False)
            ingests.append(time.perf_counter() - started)
            cpu["ingest"].append(_cpu() - before)

            started, before = time.perf_counter(), _cpu()
            first = collect_blame(engine, cfg, args.repo, args.branch, now=now, workers=workers, progress=False)
            blames.append(time.perf_counter() - started)
            cpu["blame"].append(_cpu() - before)

            started = time.perf_counter()
            rerun = collect_blame(engine, cfg, args.repo, args.branch, now=now, workers=workers, progress=False)
            reruns.append(time.perf_counter() - started)
            assert rerun.files_blamed == 0 and rerun.trees == 0, rerun
        print(f"run {attempt + 1}: ingest {ingests[-1]:.2f} s ({cpu['ingest'][-1]:.1f} s CPU), first blame "
              f"{blames[-1]:.2f} s ({cpu['blame'][-1]:.1f} s CPU); load average {os.getloadavg()[0]:.1f}", flush=True)
    ingest_s, blame_s, rerun_s = (statistics.median(x) for x in (ingests, blames, reruns))

    print(f"repository: {args.repo} — {ingest.commits_seen} commits on {args.branch}; engagement {start} + "
          f"{args.weeks} weeks (tip in week {args.weeks}); {workers} blame workers")
    print(f"git ingest (collect_git):          {ingest_s:7.2f} s  ({statistics.median(cpu['ingest']):.1f} s CPU: "
          "Python + git)")
    print(f"first blame (collect_blame):       {blame_s:7.2f} s  — {first.week_ends} week ends, {first.trees} trees, "
          f"{first.files_blamed} files blamed ({first.range_blames} since the previous week only), "
          f"{first.files_reused} reused")
    print(f"                                             ({statistics.median(cpu['blame']):.1f} s CPU over {workers} "
          "workers)")
    print(f"rerun with nothing new:            {rerun_s:7.2f} s")
    print(f"blame / ingest: {blame_s / ingest_s:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
