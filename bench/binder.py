"""Time the binder's week-end collection (collectors/git/week_ends.py) on a synthetic history.

    python bench/binder.py [REPO] [--weeks 8]

Without REPO it synthesises 30,000 commits (bench/synth_repo.py). The engagement is placed so that its planned
weeks end at the history's last commit; the binder is SPEC §11's default one plus an artifact matching every
Markdown and YAML file (a heavy case: hundreds of files whose last changes are looked up each week). Prints the
first run (every week resolved, listed and logged), a rerun (nothing changed: one rev-list per week) and the
files found at the tip.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synth_repo import synthesize  # noqa: E402
from collectors.git.week_ends import collect_week_ends  # noqa: E402
from db.engine import make_engine  # noqa: E402
from engagement.config import parse_config  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repo", nargs="?", type=Path)
    ap.add_argument("--weeks", type=int, default=8)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        repo = args.repo
        if repo is None:
            repo = Path(tmp) / "synth"
            started = time.perf_counter()
            synthesize(repo, commits=30000)
            print(f"synthesised 30,000 commits in {time.perf_counter() - started:.1f} s")
        last = int(subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%ct"], capture_output=True,
                                  text=True, check=True).stdout)
        end = dt.datetime.fromtimestamp(last, dt.UTC).date()
        start = end - dt.timedelta(days=7 * args.weeks - 1)
        cfg = parse_config({"engagement": {"name": "bench", "start": start, "weeks": args.weeks},
                            "artifacts": [{"key": "docs", "paths": ["**/*.md", "**/*.yaml", "**/*.yml"]}]})
        cfg_default = parse_config({"engagement": {"name": "bench", "start": start, "weeks": args.weeks}})
        now = dt.datetime.combine(end, dt.time(23), dt.UTC)
        for label, config in (("default binder", cfg_default), ("every .md/.yaml file", cfg)):
            engine = make_engine(f"sqlite:///{tmp}/{label.split()[0]}.db")
            t0 = time.perf_counter()
            files = collect_week_ends(engine, config, repo, "main", "synth", now=now)
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            collect_week_ends(engine, config, repo, "main", "synth", now=now)
            again = time.perf_counter() - t0
            print(f"{label}: {args.weeks + 1} week ends (0..{args.weeks}), {files} files at the tip: first run "
                  f"{first:.2f} s, rerun {again:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
