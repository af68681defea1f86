"""The git source: which commits to read (cursor = last tip ingested), mapping to rows, batched pages.

- No cursor: walk everything reachable from the tip.
- Tip equals the cursor: nothing to read (as fast as `git rev-parse`).
- Cursor is an ancestor of the tip: walk only `tip ^cursor`.
- Otherwise (force-push): walk everything again, then remove the stored commits git no longer reaches
  from the tip (decided from `git rev-list` alone: never from run ids, so no other run's rows can go).
Every batch is one page (one transaction, collectors/driver.py) and rows are upserted by natural key;
the cursor moves with the last page: a crash or Ctrl-C at any point leaves a consistent DB, and the
rerun finishes the work with no duplicates. With evaluation paths configured, the `eval_tests` stream
follows (collectors/git/eval_tests.py); with week-end settings (an engagement file's week grid and binder), the
`week_ends` stream (collectors/git/week_ends.py: the week-end commits and the binder's files, SPEC §11); with the
engagement's week-end instants given (`blame_ends`), the `blame` stream last (the tree and blame at each week's
end, SPEC §10 internal_line_share: collectors/git/blame.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Engine

from collectors.driver import Page, Run, RunResult, run_source
from collectors.git.blame import BlameStream
from collectors.git.client import ParsedCommit, _git, is_ancestor, list_tags, range_shas, resolve_tip
from collectors.git.eval_tests import STREAM as EVAL_STREAM
from collectors.git.eval_tests import EvalTestStream, tests_at_tip
from collectors.git.parallel import Batch, read_batches, write_batch
from collectors.git.week_ends import WeekEndSettings, WeekEndStream
from collectors.runs import CollectError
from db.models import Commit, CommitFile, Identity, Tag
from db.upsert import upsert

STREAM = "commits"
BATCH = 2000


@dataclass(frozen=True)
class GitCollectResult:
    source_name: str
    run_id: int
    commits_seen: int
    commits_removed: int
    tags: int
    full_walk: bool
    cursor: str
    eval_tests: int | None = None  # evaluation tests at the tip (None: no evaluation paths configured)


def _utc(value: dt.datetime) -> tuple[dt.datetime, int]:
    offset = value.utcoffset() or dt.timedelta(0)
    return value.astimezone(dt.UTC).replace(tzinfo=None), int(offset.total_seconds() // 60)


def commit_rows(source_id: int, commits: Iterable[ParsedCommit]) -> tuple[list, list, list]:
    """Rows for commits, commit_files and identities (emails seen as authors, committers, co-authors)."""
    commit_rows, file_rows, ids = [], [], {}
    for c in commits:
        authored, author_tz = _utc(c.authored_at)
        committed, committer_tz = _utc(c.committed_at)
        added = sum(f.added or 0 for f in c.files)
        deleted = sum(f.deleted or 0 for f in c.files)
        commit_rows.append({
            "source_id": source_id, "sha": c.sha, "parents": " ".join(c.parents), "is_merge": len(c.parents) > 1,
            "author_name": c.author_name, "author_email": c.author_email, "authored_at": authored,
            "author_tz_minutes": author_tz, "committer_name": c.committer_name, "committer_email": c.committer_email,
            "committed_at": committed, "committer_tz_minutes": committer_tz, "subject": c.subject,
            "co_authors": "\n".join(c.co_authors), "files_changed": len(c.files), "lines_added": added,
            "lines_deleted": deleted,
        })
        file_rows.extend(
            {"source_id": source_id, "sha": c.sha, "path": f.path, "old_path": f.old_path, "added": f.added,
             "deleted": f.deleted, "binary": f.added is None}
            for f in c.files
        )
        ids.setdefault(c.author_email.lower(), c.author_name)
        ids.setdefault(c.committer_email.lower(), c.committer_name)
        for co in c.co_authors:
            name, _, email = co.rpartition("<")
            if email.endswith(">"):
                ids.setdefault(email[:-1].strip().lower(), name.strip())
    identity_rows = [{"kind": "email", "value": k, "display_name": v} for k, v in ids.items() if k]
    return commit_rows, file_rows, identity_rows


def _write_batch(conn: Connection, source_id: int, batch: list[ParsedCommit]) -> None:
    commits, files, identities = commit_rows(source_id, batch)
    upsert(conn, Commit.__table__, commits, key=["source_id", "sha"])
    upsert(conn, CommitFile.__table__, files, key=["source_id", "sha", "path"])
    upsert(conn, Identity.__table__, identities, key=["kind", "value"])


def _sync_tags(conn: Connection, source_id: int, tags: list) -> int:
    rows = []
    for t in tags:
        when, tz = _utc(t.tagged_at) if t.tagged_at else (None, None)
        rows.append({"source_id": source_id, "name": t.name, "sha": t.sha, "tagged_at": when, "tz_minutes": tz,
                     "tagger_name": t.tagger_name, "tagger_email": t.tagger_email})
    names = [t.name for t in tags]
    stale = delete(Tag).where(Tag.source_id == source_id)
    if names:
        stale = stale.where(Tag.name.not_in(names))
    conn.execute(stale)
    upsert(conn, Tag.__table__, rows, key=["source_id", "name"],
           update=["sha", "tagged_at", "tz_minutes", "tagger_name", "tagger_email"])
    return len(rows)


def reachable_shas(repo: Path, tip: str) -> set[str]:
    """Every commit reachable from `tip` (all parents), from one `git rev-list`."""
    out = _git(repo, "rev-list", tip, check=False)
    if out.returncode != 0:
        raise CollectError(f"git source {repo}: git rev-list failed: {out.stderr.decode(errors='replace').strip()}")
    return set(out.stdout.decode().split())


def remove_unreachable(conn: Connection, source_id: int, reachable: set[str]) -> int:
    """Delete the stored commits (and their files) of the source that git no longer reaches from the tip."""
    stored = conn.execute(select(Commit.sha).where(Commit.source_id == source_id)).scalars().all()
    gone = sorted(set(stored) - reachable)
    for i in range(0, len(gone), 5000):
        part = gone[i : i + 5000]
        conn.execute(delete(CommitFile).where(CommitFile.source_id == source_id, CommitFile.sha.in_(part)))
        conn.execute(delete(Commit).where(Commit.source_id == source_id, Commit.sha.in_(part)))
    return len(gone)


class GitRepoSource:
    """One tracked branch of one repository, for collectors/driver.py (see the module docstring)."""

    kind = "git"
    main_stream = STREAM
    secrets: tuple[str, ...] = ()

    def __init__(self, repo: str | Path, branch: str = "main", *, name: str | None = None,
                 eval_paths: list[str] | None = None, week_ends: WeekEndSettings | None = None,
                 blame_ends: dict[int, dt.datetime] | None = None, blame_workers: int | None = None):
        self.repo = Path(repo).expanduser().resolve()
        self.branch = branch
        self.name = name or self.repo.name.removesuffix(".git")
        self.key = f"{self.repo}#{branch}"
        self.label = f"git {self.name}"
        self.eval = EvalTestStream(self.repo, eval_paths) if eval_paths else None
        self.week_ends = WeekEndStream(self.repo, branch, week_ends) if week_ends is not None else None
        self.blame = BlameStream(self.repo, blame_ends, blame_workers) if blame_ends else None
        self.tip = ""
        self.full_walk = False
        self.removed = 0
        self.tags = 0
        self._engine: Engine | None = None

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def pages(self, run: Run):
        repo, source_id = self.repo, run.source_id
        self._engine = run.engine
        tip = resolve_tip(repo, self.branch)
        cursor = run.cursor(STREAM)
        self.tip = tip
        self.full_walk = cursor is None or (cursor != tip and not is_ancestor(repo, cursor, tip))
        reachable: set[str] | None = None
        if tip != cursor:
            # Parallel read, one writer (issue 11): collectors/git/parallel.py; each batch is one page.
            exclude = None if self.full_walk else cursor
            shas = range_shas(repo, tip, exclude)
            if self.full_walk:
                reachable = set(shas)  # the same `git rev-list tip` reachable_shas would run
            run.progress_total(len(shas), "commit")
            yield from (self._batch_page(batch) for batch in read_batches(repo, tip, exclude, source_id, shas=shas))
        tags = list_tags(repo)
        last = Page(cursors={STREAM: tip})

        def write(conn: Connection) -> None:
            if reachable is not None:
                last.removed = self.removed = remove_unreachable(conn, source_id, reachable)
            self.tags = _sync_tags(conn, source_id, tags)

        last.write = write
        yield last
        if self.eval is not None:
            yield from self.eval.pages(source_id, tip, run.cursor(EVAL_STREAM))
        if self.week_ends is not None:
            yield from self.week_ends.pages(run.engine, source_id)
        if self.blame is not None:
            yield from self.blame.pages(run, tip)

    @staticmethod
    def _batch_page(batch: Batch) -> Page:
        n = len(batch.commits)
        return Page(write=lambda conn: write_batch(conn, batch), seen=n, written=n, progress=n)

    def summary(self, result: RunResult) -> str:
        walk = "full walk" if self.full_walk and result.cursor_before != self.tip else "incremental"
        line = (f"git {self.name}: {result.items_seen} commits read ({walk}), {result.items_removed} removed, "
                f"{self.tags} tags, tip {self.tip[:12]}")
        if self.eval is not None:
            line += f"\ngit {self.name}: {tests_at_tip(self._engine, result.source_id)} evaluation tests at the tip"
        if self.week_ends is not None:
            line += f"\ngit {self.name}: {self.week_ends.files_now} binder files at the tip"
        if self.blame is not None:
            line += "\n" + self.blame.summary(self.name)
        return line


def collect_git(engine: Engine, repo: str | Path, branch: str = "main", *, source_name: str | None = None,
                progress: bool | None = None, eval_paths: list[str] | None = None,
                wait: bool = True) -> GitCollectResult:
    """Collect one git repository's branch into the DB; see the module docstring."""
    source = GitRepoSource(repo, branch, name=source_name, eval_paths=eval_paths)
    result = run_source(engine, source, progress=progress, wait=wait)
    tests = tests_at_tip(engine, result.source_id) if eval_paths else None
    return GitCollectResult(source.name, result.run_id, result.items_seen, result.items_removed, source.tags,
                            source.full_walk and result.cursor_before != source.tip, source.tip, tests)
