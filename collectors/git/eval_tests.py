"""Evaluation tests in git, for eval_coverage (SPEC §5): test functions in files under the `evaluation`
capability's paths, counted per commit of the tracked branch, only for commits not counted before.

How: ONE `git log --first-parent --raw` over the new first-parent commits (every commit on a first run,
or when the evaluation paths changed, or after a force-push) lists which files each commit changed
against its first parent; the changed files that match the paths (gitignore-style globs) are read through
ONE `git cat-file --batch` and their Python test functions counted (`def test…`, `async def test…`). A
row per (commit, file) keeps the count after that commit (0 when the file was removed). No subprocess per
commit or per week.

The weeks are not stored: metrics/junit.py buckets at metric time (the state at a week's end is, per
file, the row of the latest first-parent commit committed by then), so editing `start` leaves nothing
stale. Cursor (stream `eval_tests`, JSON): the tip counted up to, the paths it was counted for, and the
last `seq` (the rows' order along the branch).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pathspec
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from collectors.driver import Page
from collectors.git.client import _GIT_ENV, _git, is_ancestor
from collectors.runs import CollectError
from collectors.times import db_utc
from db.models import EvalTestCount
from db.upsert import upsert

STREAM = "eval_tests"
TEST_FUNCTION = re.compile(rb"^[ \t]*(?:async[ \t]+)?def[ \t]+test", re.MULTILINE)
RS, US = "\x1e", "\x1f"
ROWS_PER_PAGE = 5000
_NULL_BLOB = "0" * 40


def parse_raw_log(text: str) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """(sha, committer date, [(status, new blob, path)]) per commit of `git log -z --raw
    --format=%x1e%H%x1f%cI`, newest first."""
    commits = []
    for record in text.split(RS):
        if not record:
            continue
        header, _, body = record.partition("\0")
        sha, _, date = header.partition(US)
        tokens = body.lstrip("\n").split("\0")
        changes, i = [], 0
        while i + 1 < len(tokens):
            meta, path = tokens[i], tokens[i + 1]
            i += 2
            if not meta.startswith(":"):
                continue
            fields = meta[1:].split()
            if len(fields) < 5:
                continue
            old_mode, new_mode, _old, new, status = fields[:5]
            if new_mode.startswith("160") or old_mode.startswith("160"):
                continue  # a submodule is no file
            changes.append((status[:1], new, path))
        commits.append((sha, date, changes))
    return commits


def count_blobs(repo: Path, blobs: list[str]) -> dict[str, int]:
    """Test functions in each blob, read through one `git cat-file --batch`."""
    if not blobs:
        return {}
    proc = subprocess.run(["git", "-C", str(repo), "cat-file", "--batch"], input="\n".join(blobs).encode() + b"\n",
                          capture_output=True, env=_GIT_ENV, check=False)
    if proc.returncode != 0:
        raise CollectError(f"git source {repo}: git cat-file failed: {proc.stderr.decode(errors='replace').strip()}")
    out, counts, pos = proc.stdout, {}, 0
    for blob in blobs:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) < 3 or header[1] == b"missing":
            counts[blob] = 0
            continue
        size = int(header[2])
        counts[blob] = len(TEST_FUNCTION.findall(out[pos:pos + size]))
        pos += size + 1
    return counts


class EvalTestStream:
    """The `eval_tests` stream of a git source (collectors/git/source.py yields its pages)."""

    def __init__(self, repo: Path, globs: list[str]):
        self.repo, self.globs = repo, list(globs)
        self.spec = pathspec.GitIgnoreSpec.from_lines(self.globs)
        self.commits_counted = 0

    def pages(self, source_id: int, tip: str, cursor_value: str | None) -> Iterator[Page]:
        cursor = _load(cursor_value)
        known = cursor.get("tip")
        recount = cursor.get("paths") != self.globs or not known or (known != tip and not is_ancestor(
            self.repo, known, tip))
        if not recount and known == tip:
            return
        base_seq = 0 if recount else int(cursor.get("seq") or 0)
        args = ["log", "--first-parent", "--diff-merges=first-parent", "--no-renames", "--raw", "-z", "--no-abbrev",
                f"--format={RS}%H{US}%cI", "--root", tip] + ([] if recount else [f"^{known}"])
        out = _git(self.repo, *args, check=False)
        if out.returncode != 0:
            raise CollectError(f"git source {self.repo}: git log failed: "
                               f"{out.stderr.decode(errors='replace').strip().splitlines()[-1:]}")
        commits = parse_raw_log(out.stdout.decode("utf-8", "surrogateescape"))
        wanted = [(sha, date, [(st, blob, p) for st, blob, p in changes if self.spec.match_file(p)])
                  for sha, date, changes in commits]
        blobs = sorted({blob for _s, _d, ch in wanted for st, blob, _p in ch if st != "D" and blob != _NULL_BLOB})
        tests = count_blobs(self.repo, blobs)
        n = len(wanted)
        rows = [{"source_id": source_id, "sha": sha, "path": path, "seq": base_seq + n - i,
                 "committed_at": db_utc(date), "tests": 0 if status == "D" else tests.get(blob, 0)}
                for i, (sha, date, changes) in enumerate(wanted) for status, blob, path in changes]
        self.commits_counted = n
        chunks = [rows[i:i + ROWS_PER_PAGE] for i in range(0, len(rows), ROWS_PER_PAGE)] or [[]]
        for k, chunk in enumerate(chunks):
            last = k == len(chunks) - 1

            def write(conn, chunk=chunk, first=k == 0):
                if first and recount:
                    conn.execute(delete(EvalTestCount).where(EvalTestCount.source_id == source_id))
                upsert(conn, EvalTestCount.__table__, chunk, key=["source_id", "sha", "path"],
                       update=["seq", "committed_at", "tests"])

            cursors = {STREAM: json.dumps({"tip": tip, "paths": self.globs, "seq": base_seq + n})} if last else {}
            yield Page(write=write, cursors=cursors)


def tests_at_tip(engine: Engine, source_id: int) -> int:
    """Evaluation tests on the branch as last collected: per file, the count after its latest change."""
    e = EvalTestCount
    latest = (select(e.path, func.max(e.seq).label("seq")).where(e.source_id == source_id).group_by(e.path)
              .subquery())
    stmt = select(func.sum(e.tests)).join(latest, (latest.c.path == e.path) & (latest.c.seq == e.seq)).where(
        e.source_id == source_id)
    with engine.connect() as conn:
        total = conn.execute(stmt).scalar()
    return int(total or 0)


def _load(value: str | None) -> dict:
    try:
        doc = json.loads(value) if value else {}
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}
