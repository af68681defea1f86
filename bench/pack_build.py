"""Benchmark: the steering pack of a demo week, end to end, as a user runs it (issue 10: "built in < 5 s").

    python bench/pack_build.py [--week 5] [--runs 3] [--github]

Builds the demo engagement into a temporary folder and collects it (git and Jira; with --github also its GitHub
data from the local replay server), then times `python -m metrics pack --config F --week N --out DIR` (HTML, PDF
through /usr/bin/chromium, CSVs) --runs times. Prints each run's wall and CPU seconds (the process and its
children: Playwright's driver and Chromium), the median, and the load average, because on a shared machine
the wall time says as much about the neighbours as about the pack.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collectors.__main__ import main as collectors_main  # noqa: E402
from collectors.demo import github_data  # noqa: E402
from collectors.demo.build import build_demo  # noqa: E402
from collectors.demo.github_replay import ReplayServer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def collect(out: Path, github: bool) -> tuple[Path, str]:
    toml = build_demo(out)
    url = f"sqlite:///{out / 'baton.db'}"
    if github:
        with ReplayServer() as server:
            github_data.demo_repo().script(server)
            github_data.add_github_source(toml, server.base_url)
            assert collectors_main(["collect", "--config", str(toml), "--db", url, "--quiet"]) == 0
    else:
        assert collectors_main(["collect", "--config", str(toml), "--db", url, "--quiet"]) == 0
    return toml, url


def run_pack(toml: Path, url: str, week: int, out: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # As a user's Python runs: bytecode written and reused (a sandbox's PYTHONDONTWRITEBYTECODE=1 would recompile
    # the project on every run, ~1 s).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "metrics", "pack", "--config", str(toml), "--db", url, "--week", str(week),
                    "--out", str(out)], cwd=ROOT, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--week", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--github", action="store_true", help="collect the demo's GitHub data too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        toml, url = collect(Path(tmp) / "demo", args.github)
        walls = []
        for i in range(args.runs):
            wall, cpu = run_pack(toml, url, args.week, Path(tmp) / f"pack-{i}")
            walls.append(wall)
            print(f"run {i + 1}: {wall:.2f} s wall, {cpu:.2f} s CPU (load average {os.getloadavg()[0]:.2f})")
        print(f"median {statistics.median(walls):.2f} s wall, best {min(walls):.2f} s "
              f"({os.cpu_count()} CPUs, load average {', '.join(f'{x:.2f}' for x in os.getloadavg())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
