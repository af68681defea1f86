"""The tracked branch at each week's end, and the binder's files in that tree (SPEC §10 "at each week's end", §11).

**Week-end commit** of week W: the newest commit on the branch's first-parent chain whose committer date is
before the week's last local instant (local midnight starting week W+1, engagement timezone) — one
`git rev-list --first-parent -1 --before=<end - 1 s>` per week. Stored per (source, week) in `week_end_commits`
(sha None before the first commit); the readiness work (surviving lines, `internal_line_share`) can read the same
table instead of resolving week ends again.

**Artifact files** of week W: every file of that commit's tree (`git ls-tree -r`) matching one of the binder's
globs (`EngagementConfig.binder`, gitignore-style), each with the commits that last changed it as seen from the
week-end commit — `git log --name-only <sha> -- <files>`, newest first, merge commits showing no
files (as in `git log`'s default), the newest `CHANGES_KEPT` kept: the newest gives freshness, the newest by a person
gives ownership (metrics/binder.py attributes them from the `commits` table at metric time, SPEC §3). When the
newest ones are all by bots (dependabot bumps), the newest change whose author is not a `[classify].bots` match
is kept after them: the bot patterns only decide how far back to look, attribution still happens at metric time.

Incremental: a week builds on the week before it. Files the first-parent range between the two week-end commits
did not change keep their list; changed files get the range's commits (`git log <before>..<sha>`) in front of
theirs; a path new since the week before is read on into the older history when the range does not settle it (it
may have been deleted and added again); a range holding a merge, which may bring in older commits, has its changed
files' whole history read, as a first run would. A walk stops as soon as every file it looks at has what it needs.
Each week is one page of the git source's `week_ends` stream (`WeekEndStream`, run by collectors/driver.py
under the source's lock), replaced whole in one transaction. A week whose commit and globs are unchanged since the
last run is skipped, so a rerun costs one `rev-list` per week. `bench/binder.py` times it on a 30,000-commit history.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pathspec
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from collectors.driver import Page, Run, RunResult, run_source
from collectors.git.client import _GIT_ENV, _git, is_ancestor
from db.models import ArtifactFile, WeekEndCommit
from db.upsert import upsert
from engagement.config import EngagementConfig
from engagement.weeks import current_week

CHANGES_KEPT = 3  # the newest changes of a file; the newest by a person is kept after them when they are bots
_CHUNK = 500  # paths per git call: stays under the command-line limit
RS, US = "\x1e", "\x1f"


def week_end_utc(week: int, cfg: EngagementConfig) -> dt.datetime:
    """The instant week `week` ends (local midnight starting week + 1, engagement timezone), as naive UTC."""
    return WeekEndSettings.from_config(cfg).week_end_utc(week)


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


@dataclass
class _Changes:
    """Per file, the commits that changed it, newest first, kept by the rule of the module docstring."""

    bots: re.Pattern[str] | None
    keep: int = CHANGES_KEPT
    kept: dict[str, list[str]] = field(default_factory=dict)
    person: set[str] = field(default_factory=set)  # files whose kept list already holds a change by a person

    def done(self, path: str) -> bool:
        return path in self.person and len(self.kept.get(path, ())) >= self.keep

    def add(self, path: str, commit: str, is_bot: bool) -> None:
        kept = self.kept.setdefault(path, [])
        if path in self.person and len(kept) >= self.keep:
            return
        if len(kept) < self.keep or (not is_bot and path not in self.person):
            kept.append(commit)  # the newest `keep`, then the newest by a person if those were all bots
        if not is_bot:
            self.person.add(path)

    def is_bot(self, name: str, email: str) -> bool:
        return self.bots is not None and any(self.bots.match(v) for v in (name, email.split("@")[0]) if v)


def _log(repo: Path, revision: str, files: list[str], changes: _Changes) -> None:
    """Feed `git log <revision> -- files` (newest first; merges list no files) into `changes`, chunk by chunk of
    paths, stopping a walk as soon as every file of the chunk has all it needs (a long history is not read to its
    first commit for files that changed recently)."""
    for i in range(0, len(files), _CHUNK):
        chunk = files[i:i + _CHUNK]
        wanted = set(chunk)
        args = ["git", "-C", str(repo), "log", f"--format={RS}%H{US}%an{US}%ae", "--name-only", "-z", revision,
                "--", *chunk]
        with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_GIT_ENV) as proc:
            pending = b""
            for block in iter(lambda: proc.stdout.read(1 << 16), b""):  # type: ignore[union-attr]
                records = (pending + block).split(RS.encode())
                pending = records.pop()
                for record in records:
                    _record(record, wanted, changes)
                if all(changes.done(f) for f in chunk):
                    proc.kill()
                    break
            else:
                _record(pending, wanted, changes)


def _record(raw: bytes, wanted: set[str], changes: _Changes) -> None:
    text = raw.decode("utf-8", "surrogateescape")
    if not text.strip("\0\n"):
        return
    head, _, names = text.partition("\n")
    commit, name, email = (head.strip("\0\n").split(US) + ["", ""])[:3]
    is_bot = changes.is_bot(name, email)
    for path in names.strip("\0\n").split("\0"):
        path = path.strip("\n")
        if path in wanted:
            changes.add(path, commit, is_bot)


def last_changes(repo: Path, sha: str, files: list[str], bots: re.Pattern[str] | None = None,
                 previous: tuple[str, dict[str, list[str]]] | None = None) -> dict[str, list[str]]:
    """For each of `files` at commit `sha`, the commits that changed it (see the module docstring). With the
    previous week's (commit, changes) and that commit an ancestor of `sha`, only what changed in between is read:
    an unchanged file keeps its list, a changed or new one gets the commits of `previous..sha` in front of it."""
    changes = _Changes(bots)
    if previous is None or not is_ancestor(repo, previous[0], sha):
        _log(repo, sha, files, changes)
        return {f: changes.kept.get(f, []) for f in files}
    old_sha, old = previous
    out = _git(repo, "diff", "--name-only", "--no-renames", "-z", old_sha, sha).stdout
    touched = set(out.decode("utf-8", "surrogateescape").split("\0")) - {""}
    fresh = [f for f in files if f in touched or f not in old]
    merged = _git(repo, "rev-list", "--merges", "-1", f"{old_sha}..{sha}").stdout.strip()
    if merged:  # a merge may bring older commits in: read the changed files' whole history, as a first run would
        _log(repo, sha, fresh, changes)
        return {f: (changes.kept.get(f, []) if f in fresh else list(old[f])) for f in files}
    if fresh:
        _log(repo, f"{old_sha}..{sha}", fresh, changes)
    # a path the week before did not have may still have history before it (deleted, then added again): read on
    # from the week before's commit for those the range did not settle
    unsettled = [f for f in fresh if f not in old and not changes.done(f)]
    if unsettled:
        _log(repo, old_sha, unsettled, changes)
    older = sorted({c for f in fresh for c in old.get(f, [])})
    authors = _authors(repo, older) if older and changes.bots is not None else {}
    result = {}
    for f in files:
        if f not in fresh:
            result[f] = list(old[f])
            continue
        for commit in old.get(f, []):  # the older changes, kept by the same rule: feeding them after the new ones
            changes.add(f, commit, changes.is_bot(*authors.get(commit, ("", ""))))  # re-applies it exactly
        result[f] = changes.kept.get(f, [])
    return result


def _authors(repo: Path, shas: list[str]) -> dict[str, tuple[str, str]]:
    """(author name, email) of commits, one git call per few hundred."""
    out: dict[str, tuple[str, str]] = {}
    for i in range(0, len(shas), _CHUNK):
        text = _git(repo, "show", "-s", "--no-walk", f"--format=%H{US}%an{US}%ae", *shas[i:i + _CHUNK]).stdout
        for line in text.decode("utf-8", "surrogateescape").splitlines():
            commit, name, email = (line.split(US) + ["", ""])[:3]
            out[commit] = (name, email)
    return out


def _stored_changes(engine: Engine, source_id: int, week: int) -> dict[str, list[str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(ArtifactFile.path, ArtifactFile.changes).where(
            ArtifactFile.source_id == source_id, ArtifactFile.week == week)).all()
    return {r.path: r.changes.split() for r in rows}


@dataclass(frozen=True)
class WeekEndSettings:
    """What the week-end stream needs of the engagement file: the week grid, the binder's globs, the bots."""

    start: dt.date
    timezone: str
    globs: tuple[str, ...]
    bots: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, cfg: EngagementConfig) -> WeekEndSettings:
        return cls(cfg.engagement.start, cfg.engagement.timezone, tuple(binder_globs(cfg)), tuple(cfg.classify.bots))

    def week_end_utc(self, week: int) -> dt.datetime:
        local = dt.datetime.combine(self.start + dt.timedelta(days=7 * week), dt.time(0),
                                    tzinfo=ZoneInfo(self.timezone))
        return local.astimezone(dt.UTC).replace(tzinfo=None)


class WeekEndStream:
    """The `week_ends` stream of a git source (collectors/git/source.py yields its pages; collectors/driver.py
    writes each in one transaction under the source's collection lock): one page per week read, replacing that
    week's `week_end_commits` row and `artifact_files` whole. No cursor: the stored (sha, binder digest) of each
    week is what a rerun compares against (see the module docstring)."""

    def __init__(self, repo: Path, branch: str, settings: WeekEndSettings, now: dt.datetime | None = None):
        self.repo, self.branch, self.settings, self.now = Path(repo), branch, settings, now
        self.files_now = 0  # artifact files of the latest week, after pages() ran

    def pages(self, engine: Engine, source_id: int) -> Iterator[Page]:
        repo, settings = self.repo, self.settings
        globs = list(settings.globs)
        digest = binder_digest([*globs, "\0bots", *settings.bots])
        bots = bot_regex(list(settings.bots))
        now_utc = (self.now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
        with engine.connect() as conn:
            stored = {r.week: (r.sha, r.binder_digest) for r in conn.execute(
                select(WeekEndCommit.week, WeekEndCommit.sha, WeekEndCommit.binder_digest)
                .where(WeekEndCommit.source_id == source_id))}
        last = current_week(settings.start, settings.timezone, self.now)
        previous: tuple[str, dict[str, list[str]]] | None = None  # the week before: (sha, changes), once known
        previous_stored: tuple[int, str] | None = None  # ... or where to read it when it was left as stored
        self.files_now = 0
        for week in range(0, max(last, 0) + 1):
            end = min(settings.week_end_utc(week), now_utc + dt.timedelta(seconds=1))
            found = week_end_commit(repo, self.branch, end)
            sha, committed = found if found else (None, None)
            if stored.get(week) == (sha, digest):
                previous, previous_stored = None, (week, sha) if sha else None
                if week == last:
                    self.files_now = len(_stored_changes(engine, source_id, week))
                continue
            if previous is None and previous_stored is not None:
                previous = (previous_stored[1], _stored_changes(engine, source_id, previous_stored[0]))
            files = matching_files(repo, sha, globs) if sha else []
            if sha and previous is not None and previous[0] == sha:
                changes = {f: previous[1].get(f, []) for f in files}
            else:
                changes = last_changes(repo, sha, files, bots, previous) if files else {}
            rows = [{"source_id": source_id, "week": week, "path": f, "changes": " ".join(changes.get(f, []))}
                    for f in files]
            end_row = {"source_id": source_id, "week": week, "sha": sha, "committed_at": committed,
                       "binder_digest": digest}

            def write(conn, week=week, rows=rows, end_row=end_row):  # one week, replaced whole
                conn.execute(delete(ArtifactFile).where(ArtifactFile.source_id == source_id,
                                                        ArtifactFile.week == week))
                upsert(conn, ArtifactFile.__table__, rows, key=["source_id", "week", "path"])
                upsert(conn, WeekEndCommit.__table__, [end_row], key=["source_id", "week"],
                       update=["sha", "committed_at", "binder_digest"])

            yield Page(write=write)
            previous, previous_stored = ((sha, changes), None) if sha else (None, None)
            self.files_now = len(rows)


class _WeekEndSource:
    """The git source with only its `week_ends` stream (collect_week_ends): same natural key, so the same lock."""

    kind = "git"
    main_stream = "commits"
    secrets: tuple[str, ...] = ()

    def __init__(self, stream: WeekEndStream, name: str):
        self.stream, self.name = stream, name
        self.key = f"{stream.repo}#{stream.branch}"
        self.label = f"git {name}"

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def pages(self, run: Run) -> Iterator[Page]:
        yield from self.stream.pages(run.engine, run.source_id)

    def summary(self, result: RunResult) -> str:
        return f"git {self.name}: {self.stream.files_now} binder files at the tip"


def collect_week_ends(engine: Engine, cfg: EngagementConfig, repo: Path, branch: str, source_name: str,
                      now: dt.datetime | None = None) -> int:
    """Week-end commits and binder files for weeks 0 … the current one, through the source driver (the git
    source's lock and run log); returns the artifact files of the latest week. `python -m collectors collect`
    runs the same stream as part of the git source (collectors/git/source.py)."""
    stream = WeekEndStream(Path(repo).expanduser().resolve(), branch, WeekEndSettings.from_config(cfg), now=now)
    run_source(engine, _WeekEndSource(stream, source_name), progress=False)
    return stream.files_now
