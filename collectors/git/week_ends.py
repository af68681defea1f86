"""The tracked branch at each week's end, and the binder's files in that tree (SPEC §10 "at each week's end", §11).

**Week-end commit** of week W: the newest commit on the branch's first-parent chain whose committer date is
before the week's last local instant (local midnight starting week W+1, engagement timezone) — one
`git rev-list --first-parent -1 --before=<end - 1 s>` per week. Stored per (source, week) in `week_end_commits`
(sha None before the first commit); the readiness work (surviving lines, `internal_line_share`) can read the same
table instead of resolving week ends again.

**Artifact files** of week W: every file of that commit's tree (`git ls-tree -r`) matching one of the binder's
globs (`EngagementConfig.binder`, gitignore-style), each with the commits that last changed it as seen from the
week-end commit — one `git log --name-only <sha> -- <files>` per week, newest first, merge commits showing no
files (as in `git log`'s default), the newest `CHANGES_KEPT` kept: the newest gives freshness, the newest by a person
gives ownership (metrics/binder.py attributes them from the `commits` table at metric time, SPEC §3). When the
newest ones are all by bots (dependabot bumps), the newest change whose author is not a `[classify].bots` match
is kept after them: the bot patterns only decide how far back to look, attribution still happens at metric time.

Each week is replaced whole in one transaction. A week whose commit and globs are unchanged since the last run
is skipped, so a rerun costs one `rev-list` per week.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pathspec
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from collectors.git.client import _git
from collectors.runs import ensure_source
from db.models import ArtifactFile, WeekEndCommit
from db.upsert import upsert
from engagement.config import EngagementConfig
from engagement.weeks import current_week

CHANGES_KEPT = 3  # the newest changes of a file; the newest by a person is kept after them when they are bots
_CHUNK = 500  # paths per git call: stays under the command-line limit
RS, US = "\x1e", "\x1f"


def week_end_utc(week: int, cfg: EngagementConfig) -> dt.datetime:
    """The instant week `week` ends (local midnight starting week + 1, engagement timezone), as naive UTC."""
    local = dt.datetime.combine(cfg.engagement.start + dt.timedelta(days=7 * week), dt.time(0),
                                tzinfo=ZoneInfo(cfg.engagement.timezone))
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def binder_globs(cfg: EngagementConfig) -> list[str]:
    """Every artifact glob of the binder, in a stable order."""
    return sorted({g for artifact in cfg.binder for g in artifact.paths})


def binder_digest(globs: list[str]) -> str:
    return hashlib.sha256("\n".join(globs).encode("utf-8")).hexdigest()


def week_end_commit(repo: Path, branch: str, end: dt.datetime) -> tuple[str, dt.datetime] | None:
    """(sha, committer date as naive UTC) of the newest first-parent commit committed before `end` (naive UTC)."""
    before = int(end.replace(tzinfo=dt.UTC).timestamp()) - 1  # --before is inclusive; the end is not
    out = _git(repo, "rev-list", "--first-parent", "-1", f"--before=@{before}", "--format=%ct", branch, check=False)
    lines = out.stdout.decode().split()
    if out.returncode != 0 or len(lines) < 3:  # "commit <sha>" then the committer time
        return None
    return lines[1], dt.datetime.fromtimestamp(int(lines[2]), dt.UTC).replace(tzinfo=None)


def matching_files(repo: Path, sha: str, globs: list[str]) -> list[str]:
    """Files of the tree of `sha` matching any of `globs`."""
    spec = pathspec.GitIgnoreSpec.from_lines(globs)
    listing = _git(repo, "ls-tree", "-r", "--name-only", "-z", sha).stdout.decode("utf-8", "surrogateescape")
    return sorted(f for f in listing.split("\0") if f and spec.match_file(f))


def bot_regex(patterns: list[str]) -> re.Pattern[str] | None:
    """SPEC §3 bot globs (only `*` and `?` are wildcards, case-insensitive) as one regex."""
    if not patterns:
        return None
    parts = ["".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in p) for p in patterns]
    return re.compile("^(?:" + "|".join(parts) + ")$", re.IGNORECASE)


def last_changes(repo: Path, sha: str, files: list[str], bots: re.Pattern[str] | None = None,
                 keep: int = CHANGES_KEPT) -> dict[str, list[str]]:
    """For each of `files`, the commits that changed it in the history of `sha`, newest first: the newest `keep`,
    then, if all of those were authored by bots (`bots` on the author name or email local part), the newest one
    that was not — so ownership can step over any number of dependabot bumps."""
    changes: dict[str, list[str]] = {f: [] for f in files}
    person_found: set[str] = set()
    for i in range(0, len(files), _CHUNK):
        chunk = files[i:i + _CHUNK]
        out = _git(repo, "log", f"--format={RS}%H{US}%an{US}%ae", "--name-only", "-z", sha, "--", *chunk)
        wanted = set(chunk)
        for record in out.stdout.decode("utf-8", "surrogateescape").split(RS)[1:]:
            head, _, names = record.partition("\n")
            commit, name, email = (head.strip("\0\n").split(US) + ["", ""])[:3]
            is_bot = bots is not None and any(bots.match(v) for v in (name, email.split("@")[0]) if v)
            for path in names.strip("\0\n").split("\0"):
                path = path.strip("\n")
                if path not in wanted or path in person_found:
                    continue
                kept = changes[path]
                if len(kept) < keep:
                    kept.append(commit)
                elif not is_bot:
                    kept.append(commit)  # the newest change by a person, after `keep` bot changes
                if not is_bot:
                    person_found.add(path)
    return changes


def collect_week_ends(engine: Engine, cfg: EngagementConfig, repo: Path, branch: str, source_name: str,
                      now: dt.datetime | None = None) -> int:
    """Week-end commits and binder files for weeks 0 … the current one; returns the artifact files of the latest
    week. Weeks whose commit and binder globs did not change since the last run are left as stored."""
    repo = Path(repo).expanduser().resolve()
    globs = binder_globs(cfg)
    digest = binder_digest([*globs, "\0bots", *cfg.classify.bots])
    now_utc = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        source_id = ensure_source(conn, "git", f"{repo}#{branch}", source_name)
        stored = {r.week: (r.sha, r.binder_digest) for r in conn.execute(
            select(WeekEndCommit.week, WeekEndCommit.sha, WeekEndCommit.binder_digest)
            .where(WeekEndCommit.source_id == source_id))}
    last = current_week(cfg.engagement.start, cfg.engagement.timezone, now)
    files_now = 0
    for week in range(0, max(last, 0) + 1):
        end = min(week_end_utc(week, cfg), now_utc + dt.timedelta(seconds=1))
        found = week_end_commit(repo, branch, end)
        sha, committed = found if found else (None, None)
        if stored.get(week) == (sha, digest):
            if week == last:
                with engine.connect() as conn:
                    files_now = len(conn.execute(select(ArtifactFile.path).where(
                        ArtifactFile.source_id == source_id, ArtifactFile.week == week)).all())
            continue
        files = matching_files(repo, sha, globs) if sha else []
        changes = last_changes(repo, sha, files, bot_regex(cfg.classify.bots)) if files else {}
        rows = [{"source_id": source_id, "week": week, "path": f, "changes": " ".join(changes.get(f, []))}
                for f in files]
        with engine.begin() as conn:  # one week, replaced whole
            conn.execute(delete(ArtifactFile).where(ArtifactFile.source_id == source_id, ArtifactFile.week == week))
            upsert(conn, ArtifactFile.__table__, rows, key=["source_id", "week", "path"])
            upsert(conn, WeekEndCommit.__table__, [{"source_id": source_id, "week": week, "sha": sha,
                                                    "committed_at": committed, "binder_digest": digest}],
                   key=["source_id", "week"], update=["sha", "committed_at", "binder_digest"])
        files_now = len(rows)
    return files_now
