"""The git source: which commits to read (cursor = last tip ingested), mapping to rows, batched writes.

- No cursor: walk everything reachable from the tip.
- Tip equals the cursor: nothing to read (as fast as `git rev-parse`).
- Cursor is an ancestor of the tip: walk only `tip ^cursor`.
- Otherwise (force-push): walk everything again, then remove commits no longer reachable.
Every batch is written in one transaction and rows are upserted by natural key, and the cursor moves
only after the last batch: a crash or Ctrl-C at any point leaves a consistent DB, and the rerun
finishes the work with no duplicates.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, or_, select
from sqlalchemy.engine import Connection, Engine

from collectors.git.client import ParsedCommit, is_ancestor, list_tags, resolve_tip
from collectors.git.parallel import ingest_commits
from collectors.runs import collection_run, ensure_source, read_cursor, write_cursor
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


def _utc(value: dt.datetime) -> tuple[dt.datetime, int]:
    offset = value.utcoffset() or dt.timedelta(0)
    return value.astimezone(dt.UTC).replace(tzinfo=None), int(offset.total_seconds() // 60)


def commit_rows(source_id: int, commits: Iterable[ParsedCommit], run_id: int | None) -> tuple[list, list, list]:
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
            "lines_deleted": deleted, "seen_run_id": run_id,
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


def _write_batch(conn: Connection, source_id: int, batch: list[ParsedCommit], run_id: int | None) -> None:
    commits, files, identities = commit_rows(source_id, batch, run_id)
    upsert(conn, Commit.__table__, commits, key=["source_id", "sha"], update=["seen_run_id"])
    upsert(conn, CommitFile.__table__, files, key=["source_id", "sha", "path"])
    upsert(conn, Identity.__table__, identities, key=["kind", "value"])


def _sync_tags(conn: Connection, source_id: int, repo: Path) -> int:
    tags = list_tags(repo)
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


def _progress(total: int | None, enabled: bool | None, label: str):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="commit", desc=label, file=sys.stderr, leave=False)


def collect_git(engine: Engine, repo: str | Path, branch: str = "main", *, source_name: str | None = None,
                progress: bool | None = None) -> GitCollectResult:
    """Collect one git repository's branch into the DB; see the module docstring for the rules."""
    repo = Path(repo).expanduser().resolve()
    name = source_name or repo.name.removesuffix(".git")
    with engine.begin() as conn:
        source_id = ensure_source(conn, "git", f"{repo}#{branch}", name)
        cursor = read_cursor(conn, source_id, STREAM)
    with collection_run(engine, source_id, cursor) as log:
        tip = resolve_tip(repo, branch)
        full_walk = cursor is None or (cursor != tip and not is_ancestor(repo, cursor, tip))
        exclude = None if full_walk else cursor
        removed = 0
        if tip != cursor:
            bar = _progress(None, progress, name)
            run_id = log.run_id if full_walk else None
            # Parallel read + batched writes (issue 11): collectors/git/parallel.py.
            ingest_commits(engine, repo, source_id, tip, exclude, run_id, log, progress=bar.update if bar else None,
                           on_total=(lambda n: setattr(bar, "total", n)) if bar else None)
            with engine.begin() as conn:
                if full_walk:
                    removed = _remove_unreachable(conn, source_id, log.run_id)
                tags = _sync_tags(conn, source_id, repo)
                write_cursor(conn, source_id, STREAM, tip)
            if bar:
                bar.close()
        else:
            with engine.begin() as conn:
                tags = _sync_tags(conn, source_id, repo)
        log.items_written = log.items_seen
        log.items_removed = removed
        log.cursor_after = tip
    return GitCollectResult(name, log.run_id, log.items_seen, removed, tags, full_walk and tip != cursor, tip)


def _remove_unreachable(conn: Connection, source_id: int, run_id: int) -> int:
    """After a full walk, commits this run did not reach were rewritten away (force-push): delete them."""
    stale = or_(Commit.seen_run_id.is_(None), Commit.seen_run_id != run_id)
    shas = conn.execute(select(Commit.sha).where(Commit.source_id == source_id, stale)).scalars().all()
    if not shas:
        return 0
    for i in range(0, len(shas), 5000):
        part = shas[i : i + 5000]
        conn.execute(delete(CommitFile).where(CommitFile.source_id == source_id, CommitFile.sha.in_(part)))
        conn.execute(delete(Commit).where(Commit.source_id == source_id, Commit.sha.in_(part)))
    return len(shas)
