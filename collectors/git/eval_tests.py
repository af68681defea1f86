"""Evaluation tests in git, for eval_coverage: test functions under the evaluation capability's paths.

For each engagement week that has ended (and the current one), the tracked branch's last commit at the
week's end (local midnight in the engagement timezone) is inspected: files matching the `evaluation`
capability's `paths` (gitignore-style globs) are searched with `git grep` for Python test functions
(`def test_...`, `async def test_...`). One row per (week, file) with its count; each week is replaced
whole in one transaction, so a rerun gives the same rows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pathspec
from sqlalchemy import delete
from sqlalchemy.engine import Engine

from collectors.git.client import _git
from collectors.runs import ensure_source
from db.models import EvalTestCount
from db.upsert import upsert
from engagement.config import EngagementConfig
from engagement.weeks import current_week

TEST_FUNCTION = r"^\s*(async\s+)?def\s+test"
EVALUATION = "evaluation"


def week_end_utc(week: int, cfg: EngagementConfig) -> dt.datetime:
    """The instant week `week` ends (start of week+1, local midnight), as naive UTC."""
    local = dt.datetime.combine(cfg.engagement.start + dt.timedelta(days=7 * week), dt.time(0),
                                tzinfo=ZoneInfo(cfg.engagement.timezone))
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def count_tests_at(repo: Path, sha: str, globs: list[str]) -> dict[str, int]:
    """Test functions per file under `globs` in commit `sha`."""
    spec = pathspec.GitIgnoreSpec.from_lines(globs)
    files = [f for f in _git(repo, "ls-tree", "-r", "--name-only", "-z", sha).stdout.decode(
        "utf-8", "surrogateescape").split("\0") if f and spec.match_file(f)]
    counts: dict[str, int] = {}
    for i in range(0, len(files), 500):
        out = _git(repo, "grep", "-c", "-E", TEST_FUNCTION, sha, "--", *files[i:i + 500], check=False)
        for line in out.stdout.decode("utf-8", "surrogateescape").splitlines():
            name, _, n = line.removeprefix(f"{sha}:").rpartition(":")
            if name and n.isdigit():
                counts[name] = int(n)
    return counts


def collect_eval_tests(engine: Engine, cfg: EngagementConfig, repo: Path, branch: str, source_name: str,
                       now: dt.datetime | None = None) -> int:
    """Count evaluation tests for every week up to the current one; returns the current week's total."""
    cap = next((c for c in cfg.capabilities if c.key == EVALUATION), None)
    if cap is None or not cap.paths:
        return 0
    repo = Path(repo).expanduser().resolve()
    with engine.begin() as conn:
        source_id = ensure_source(conn, "git", f"{repo}#{branch}", source_name)
    last = current_week(cfg.engagement.start, cfg.engagement.timezone, now)
    total = 0
    for week in range(0, max(last, 0) + 1):
        before = min(week_end_utc(week, cfg), (now or dt.datetime.now(dt.UTC)).replace(tzinfo=None))
        out = _git(repo, "rev-list", "-1", f"--before={before:%Y-%m-%dT%H:%M:%S}Z", branch, check=False)
        sha = out.stdout.decode().strip()
        counts = count_tests_at(repo, sha, cap.paths) if sha else {}
        rows = [{"source_id": source_id, "week": week, "path": p, "sha": sha, "tests": n} for p, n in counts.items()]
        with engine.begin() as conn:
            conn.execute(delete(EvalTestCount).where(EvalTestCount.source_id == source_id, EvalTestCount.week == week))
            upsert(conn, EvalTestCount.__table__, rows, key=["source_id", "week", "path"])
        total = sum(counts.values())
    return total


