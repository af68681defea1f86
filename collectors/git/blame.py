"""Surviving lines (SPEC §10 `internal_line_share`): `git blame` of every text file at each week's end commit.

The `blame` stream of the git source (`BlameStream`, yielded by collectors/git/source.py after the commits and the
evaluation tests when the engagement's week ends are given, as `collect` does for every `[[sources.git]]`):
1. one `git log --first-parent` walk gives the commit of every week end from week 0 to the current week
   (collectors/git/trees.py `commits_at`; the current week's end is in the future, so it is the tip);
2. every such commit whose tree is not stored yet is read, oldest first: its regular files, git's binary verdict
   and line counts; a file no first-parent commit changed since the previous stored week-end commit keeps that
   commit's blame (`git_tree_files.blamed_at` points at it: the blame is the same, see trees.py), every other text
   file is blamed again — so a week costs the files changed in it, and a rerun with nothing new costs one walk;
3. blames run in parallel worker threads (one per core), each driving one `git blame --incremental` per file (no -w,
   -M or -C; no .mailmap: the view repository has none and `mailmap.*` is emptied) — the same attribution as
   `--line-porcelain`, one header per group of lines instead of one per line. The first week-end tree is blamed in
   full. A changed file of a later week is blamed over `<previous week end>..<week end>` only: the lines that
   reach the previous week-end commit take the blame they had there (its stored line map, `ranges`), since blame
   follows each line independently through the same commits; a line that stops at any other commit outside the
   range (a branch forked before the previous week end, a root commit) makes it a full blame instead;
4. each file's blame, per blamed commit with that commit's recorded author and author date and the runs of lines
   it owns, is written with its tree row in one driver page (one transaction; a Ctrl-C loses at most the files in
   flight); a tree is marked complete (`git_trees`) after its last file, and the week ends are written last, with
   the stream's cursor (the tip blamed).
Sides are not stored: attribution happens at metric time (SPEC §3), so editing the roster needs no re-blame.
The source driver logs the run, holds the source's lock and writes the pages (collectors/driver.py);
`collect_blame` is the same git source run with the engagement's week ends, for tests and the benchmark.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from collectors.driver import Page, Run, run_source
from collectors.git.client import _fix_text
from collectors.git.trees import (
    RepoView,
    TreeFile,
    changed_paths,
    commits_at,
    first_parent_chain,
    git_env,
    line_counts,
    list_tree,
    repo_view,
)
from collectors.runs import CollectError, utcnow
from db.models import GitBlameLines, GitTree, GitTreeFile, GitWeekEnd
from db.upsert import upsert
from engagement.config import EngagementConfig
from engagement.weeks import current_week, week_end

STREAM = "blame"
WRITE_EVERY = 200  # files per transaction


@dataclass(frozen=True)
class BlameResult:
    source_name: str
    week_ends: int  # instants resolved (weeks 0 .. current)
    trees: int  # trees read in this run
    files_blamed: int  # full blames + range blames
    files_reused: int
    range_blames: int = 0  # of files_blamed: only the commits since the previous week end walked


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    email: str
    time: int  # epoch seconds
    tz_minutes: int


@dataclass(frozen=True)
class FileBlame:
    """One file's blame: the blamed commit of every line (an index into `commits`), and their authors."""

    commits: list[str]
    line_commit: np.ndarray  # int32, one entry per line of the file
    authors: dict[str, Author]
    ranged: bool = False  # computed from a range blame and the previous week's map

    def rows(self, source_id: int, sha: str, path: str) -> list[dict]:
        """`git_blame_lines` rows: lines per commit with their 1-based runs."""
        n = len(self.line_commit)
        if n == 0:
            return []
        cut = np.flatnonzero(np.diff(self.line_commit)) + 1
        starts = np.concatenate([[0], cut])
        lengths = np.diff(np.concatenate([starts, [n]]))
        owners = self.line_commit[starts]
        runs: dict[int, list[str]] = {}
        for owner, first, length in zip(owners.tolist(), starts.tolist(), lengths.tolist(), strict=True):
            runs.setdefault(owner, []).append(f"{first + 1},{length}")
        totals = np.bincount(self.line_commit, minlength=len(self.commits))
        out = []
        for index, commit in enumerate(self.commits):
            if not totals[index]:
                continue
            a = self.authors[commit]
            out.append({"source_id": source_id, "blamed_at": sha, "path": path, "commit": commit,
                        "lines": int(totals[index]), "author_name": a.name, "author_email": a.email,
                        "authored_at": dt.datetime.fromtimestamp(a.time, dt.UTC).replace(tzinfo=None),
                        "author_tz_minutes": a.tz_minutes, "ranges": " ".join(runs[index])})
        return out


def _tz_minutes(tz: str) -> int:
    sign = -1 if tz.startswith("-") else 1
    digits = tz.lstrip("+-").rjust(4, "0")
    return sign * (int(digits[:2]) * 60 + int(digits[2:4]))


@dataclass(frozen=True, slots=True)
class Group:
    commit: str
    orig: int  # first line in the blamed commit's version (1-based)
    final: int  # first line in the blamed file (1-based)
    count: int
    filename: str  # the path in the blamed commit (blame follows whole-file renames)


_GROUP = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64}) (\d+) (\d+) (\d+)\n((?:(?!filename ).*\n)*?)filename (.*)$", re.M)
_INFO = re.compile(r"^(author|author-mail|author-time|author-tz|boundary)(?: (.*))?$", re.M)


def parse_incremental(text: str) -> tuple[list[Group], dict[str, Author], set[str]]:
    """`git blame --incremental` output -> its groups, the author of each commit, and the boundary commits.

    Each group is a header `<sha> <orig line> <final line> <lines>`, the commit's fields the first time the commit
    appears (author, author-mail, author-time, author-tz, ..., `boundary`), and `filename <path>`."""
    groups: list[Group] = []
    authors: dict[str, Author] = {}
    boundary: set[str] = set()
    for match in _GROUP.finditer(text):
        commit, body = match.group(1), match.group(5)
        groups.append(Group(commit, int(match.group(2)), int(match.group(3)), int(match.group(4)),
                            _fix_text(match.group(6))))
        if body and commit not in authors:
            info = {k: v for k, v in _INFO.findall(body)}
            if "boundary" in info:
                boundary.add(commit)
            authors[commit] = Author(_fix_text(info.get("author", "")),
                                     _fix_text(info.get("author-mail", "")).removeprefix("<").removesuffix(">"),
                                     int(info.get("author-time") or 0), _tz_minutes(info.get("author-tz") or "+0000"))
    for g in groups:  # a commit whose fields git never printed (cannot happen): attributed to nobody
        authors.setdefault(g.commit, Author("", "", 0, 0))
    return groups, authors, boundary


# glibc: keep the inflated versions of a long file on the heap instead of an mmap/munmap (and page faults) per
# version; a quarter less system time for files with a long history. Ignored elsewhere.
_BLAME_ENV = {"MALLOC_MMAP_THRESHOLD_": str(256 << 20), "MALLOC_TRIM_THRESHOLD_": str(256 << 20),
              "MALLOC_TOP_PAD_": str(64 << 20)}


def _run_blame(view: RepoView, rev: str, path: str) -> str:
    # One read to the end instead of communicate()'s poll loop: git writes little to stderr, so it cannot block.
    with subprocess.Popen(view.args("blame", "--incremental", rev, "--", path), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env={**git_env(), **_BLAME_ENV}) as proc:
        out, err = proc.stdout.read(), proc.stderr.read()
        code = proc.wait()
    if code != 0:
        detail = err.decode("utf-8", "replace").strip().splitlines()
        raise CollectError(f"git source {view.source}: git blame {path} at {rev} failed: "
                           f"{detail[-1] if detail else f'exit code {code}'}")
    return out.decode("utf-8", "surrogateescape")


def _assemble(groups: list[Group], authors: dict[str, Author], lines: int,
              take: dict[int, tuple[FileBlame, int]] | None = None) -> FileBlame:
    """Per-line commits from groups; `take` maps a group's index to (previous blame, its first line index) for
    boundary groups resolved through the previous week's blame."""
    commits: list[str] = []
    index: dict[str, int] = {}
    line_commit = np.full(lines, -1, dtype=np.int32)
    all_authors = dict(authors)
    for i, g in enumerate(groups):
        if take and i in take:
            prev, first = take[i]
            owners = prev.line_commit[first:first + g.count]
            ids = np.empty(len(prev.commits), dtype=np.int32)
            for j in np.unique(owners).tolist():
                commit = prev.commits[j]
                if commit not in index:
                    index[commit] = len(commits)
                    commits.append(commit)
                    all_authors[commit] = prev.authors[commit]
                ids[j] = index[commit]
            line_commit[g.final - 1:g.final - 1 + g.count] = ids[owners]
            continue
        if g.commit not in index:
            index[g.commit] = len(commits)
            commits.append(g.commit)
        line_commit[g.final - 1:g.final - 1 + g.count] = index[g.commit]
    return FileBlame(commits, line_commit, {c: all_authors[c] for c in commits}, ranged=take is not None)


def blame_file(view: RepoView, sha: str, path: str, lines: int, previous: str | None = None,
               previous_blames: dict[str, FileBlame] | None = None) -> FileBlame:
    """The blame of `path` at `sha` (`lines` long). With the previous week-end commit and its blames, only the
    commits since it are walked (`previous..sha`); the lines still at `previous` take its blame of the path they
    had there. A line stopping anywhere else (a branch forked earlier, a root commit) falls back to a full blame."""
    if previous and previous_blames:
        groups, authors, boundary = parse_incremental(_run_blame(view, f"{previous}..{sha}", path))
        take = {}
        for i, g in enumerate(groups):
            if g.commit not in boundary:
                continue
            prev = previous_blames.get(g.filename) if g.commit == previous else None
            if prev is None or g.orig - 1 + g.count > len(prev.line_commit):
                take = None
                break
            take[i] = (prev, g.orig - 1)
        if take is not None and sum(g.count for g in groups) == lines:
            return _assemble(groups, authors, lines, take)
    groups, authors, _boundary = parse_incremental(_run_blame(view, sha, path))
    return _assemble(groups, authors, lines)


def load_blames(conn: Connection, source_id: int, tree_sha: str) -> dict[str, FileBlame]:
    """The stored blame of every text file of a stored tree, by path."""
    t, b = GitTreeFile, GitBlameLines
    rows = conn.execute(
        select(t.path, t.lines, b.commit, b.author_name, b.author_email, b.authored_at, b.author_tz_minutes, b.ranges)
        .join(b, (b.source_id == t.source_id) & (b.blamed_at == t.blamed_at) & (b.path == t.path))
        .where(t.source_id == source_id, t.sha == tree_sha)).all()
    by_path: dict[str, list] = {}
    for row in rows:
        by_path.setdefault(row.path, []).append(row)
    out = {}
    for path, parts in by_path.items():
        line_commit = np.full(parts[0].lines, -1, dtype=np.int32)
        commits, authors = [], {}
        for k, row in enumerate(parts):
            commits.append(row.commit)
            authors[row.commit] = Author(row.author_name, row.author_email,
                                         int(row.authored_at.replace(tzinfo=dt.UTC).timestamp()),
                                         row.author_tz_minutes)
            for run in row.ranges.split():
                first, length = run.split(",")
                line_commit[int(first) - 1:int(first) - 1 + int(length)] = k
        if (line_commit >= 0).all():
            out[path] = FileBlame(commits, line_commit, authors)
    return out


def _file_row(source_id: int, sha: str, f: TreeFile, blamed_at: str | None) -> dict:
    return {"source_id": source_id, "sha": sha, "path": f.path, "mode": f.mode, "blob": f.blob,
            "binary": bool(f.binary), "lines": f.lines, "blamed_at": blamed_at}


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def week_end_instants(cfg: EngagementConfig, now: dt.datetime | None = None) -> dict[int, dt.datetime]:
    """Week -> the instant it ends, for weeks 0 .. the current one (SPEC §10: "weeks 0 … current week only")."""
    e = cfg.engagement
    last = max(current_week(e.start, e.timezone, now), 0)
    return {w: week_end(w, e.start, e.timezone) for w in range(0, last + 1)}


class _TreeWriter:
    """Reads one tree, reuses or blames its files, and yields their writes as driver pages (module docstring, 2-4)."""

    def __init__(self, engine: Engine, view: RepoView, source_id: int, workers: int):
        self.engine, self.view, self.source_id, self.workers = engine, view, source_id, workers
        self.blamed = self.reused = self.ranged = 0
        self.last: tuple[str, dict[str, FileBlame]] | None = None  # the last tree written and its blames

    def _stored_files(self, conn: Connection, sha: str) -> dict[str, dict]:
        t = GitTreeFile
        rows = conn.execute(select(t.path, t.mode, t.blob, t.binary, t.lines, t.blamed_at)
                            .where(t.source_id == self.source_id, t.sha == sha)).mappings().all()
        return {r["path"]: dict(r) for r in rows}

    def write_tree(self, sha: str, previous: str | None) -> Iterator[Page]:
        files = list_tree(self.view, sha)
        with self.engine.connect() as conn:
            done = self._stored_files(conn, sha)  # an interrupted earlier run's files of this tree
            before = self._stored_files(conn, previous) if previous else {}
        unchanged = set(before) - changed_paths(self.view, previous, sha) if previous else set()
        reuse = [p for p in files if p in unchanged and p not in done and before[p]["blob"] == files[p].blob]
        todo = [p for p in files if p not in done and p not in reuse]
        counts = line_counts(self.view, sha, None if not previous and not done else todo) if todo else {}
        if set(todo) - set(counts):
            raise CollectError(f"git source {self.view.source}: git diff-tree did not list "
                               f"{sorted(set(todo) - set(counts))[0]} of {sha[:12]}")
        todo_files = [TreeFile(p, files[p].mode, files[p].blob, counts.get(p) is None, counts.get(p)) for p in todo]
        reused_rows = [{**before[p], "source_id": self.source_id, "sha": sha, "path": p} for p in reuse]
        binary_rows = [_file_row(self.source_id, sha, f, None) for f in todo_files if f.binary]

        def write_reused(conn: Connection) -> None:
            upsert(conn, GitTreeFile.__table__, reused_rows, key=["source_id", "sha", "path"])
            upsert(conn, GitTreeFile.__table__, binary_rows, key=["source_id", "sha", "path"])

        yield Page(write=write_reused, progress=len(reuse))
        self.reused += len(reuse)
        text = sorted((f for f in todo_files if not f.binary), key=lambda f: -(f.lines or 0))  # longest first
        previous_blames: dict[str, FileBlame] = {}
        if previous and self.last and self.last[0] == previous:
            previous_blames = self.last[1]
        elif previous and text:
            with self.engine.connect() as conn:
                previous_blames = load_blames(conn, self.source_id, previous)
        blames: dict[str, FileBlame] = {}
        yield from self._blame_all(sha, text, previous, previous_blames, blames)
        if done:  # resumed: the files an earlier run stored are not in memory
            with self.engine.connect() as conn:
                blames = load_blames(conn, self.source_id, sha)
        else:
            blames.update({p: previous_blames[p] for p in reuse if p in previous_blames})
        text_paths = ({p for p in reuse if not before[p]["binary"]} | {p for p, r in done.items() if not r["binary"]}
                      | {f.path for f in text})
        self.last = (sha, blames) if text_paths <= set(blames) else None

        def complete(conn: Connection) -> None:
            stored = self._stored_files(conn, sha)
            missing = set(files) - set(stored)
            if missing:  # cannot happen unless the tree changed under us; never mark such a tree complete
                raise CollectError(f"git source {self.view.source}: {len(missing)} files of {sha[:12]} not stored")
            upsert(conn, GitTree.__table__, [{
                "source_id": self.source_id, "sha": sha, "files": len(stored),
                "text_lines": sum(r["lines"] or 0 for r in stored.values()), "blamed_files": len(text),
                "completed_at": utcnow()}], key=["source_id", "sha"])

        yield Page(write=complete)

    def _blame_all(self, sha: str, text: list[TreeFile], previous: str | None,
                   previous_blames: dict[str, FileBlame], blames: dict[str, FileBlame]) -> Iterator[Page]:
        pending_files, pending_lines = [], []

        def flush() -> Page:
            file_rows, line_rows = list(pending_files), list(pending_lines)

            def write(conn: Connection) -> None:
                upsert(conn, GitBlameLines.__table__, line_rows, key=["source_id", "blamed_at", "path", "commit"])
                upsert(conn, GitTreeFile.__table__, file_rows, key=["source_id", "sha", "path"])

            self.blamed += len(file_rows)
            pending_files.clear()
            pending_lines.clear()
            return Page(write=write, progress=len(file_rows))

        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="blame") as pool:
            queue = iter(text)
            running: dict[Future, TreeFile] = {}
            try:
                for f in queue:  # keep at most 2 x workers in flight so a Ctrl-C stops quickly
                    running[pool.submit(blame_file, self.view, sha, f.path, f.lines or 0, previous,
                                        previous_blames)] = f
                    if len(running) < 2 * self.workers:
                        continue
                    self._drain(running, sha, pending_files, pending_lines, blames)
                    if len(pending_files) >= WRITE_EVERY:
                        yield flush()
                while running:
                    self._drain(running, sha, pending_files, pending_lines, blames)
                    if len(pending_files) >= WRITE_EVERY:
                        yield flush()
            except BaseException:  # Ctrl-C, a failed blame, or the driver closing the generator
                for future in running:
                    future.cancel()
                raise
        if pending_files:
            yield flush()

    def _drain(self, running: dict[Future, TreeFile], sha: str, files: list, lines: list,
               blames: dict[str, FileBlame]) -> None:
        finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
        for future in finished:
            f = running.pop(future)
            blame = future.result()
            if len(blame.line_commit) != f.lines or (blame.line_commit < 0).any():
                # git's numstat and git's blame disagree: never store a partial file
                raise CollectError(f"git source {self.view.source}: blame of {f.path} at {sha[:12]} does not cover "
                                   f"its {f.lines} lines")
            self.ranged += blame.ranged
            blames[f.path] = blame
            lines.extend(blame.rows(self.source_id, sha, f.path))
            files.append(_file_row(self.source_id, sha, f, sha))


class BlameStream:
    """The `blame` stream of a git source (collectors/git/source.py yields its pages after the commits): the tree
    and blame of the branch at every given week end, as driver pages (module docstring). Cursor: the tip blamed."""

    def __init__(self, repo: Path, week_ends: dict[int, dt.datetime], workers: int | None = None):
        self.repo, self.week_ends = repo, dict(week_ends)
        self.workers = workers or default_workers()
        self.trees = self.blamed = self.reused = self.ranged = 0

    def pages(self, run: Run, tip: str) -> Iterator[Page]:
        engine, source_id, repo = run.engine, run.source_id, self.repo
        chain = first_parent_chain(repo, tip)
        ends = commits_at(chain, list(self.week_ends.values()))
        position = {sha: i for i, (sha, _when) in enumerate(chain)}  # 0 = tip
        with engine.connect() as conn:
            complete = set(conn.execute(select(GitTree.sha).where(GitTree.source_id == source_id)).scalars())
        wanted = sorted({s for s in ends.values() if s}, key=lambda s: -position[s])  # oldest first
        todo = [s for s in wanted if s not in complete]
        self.trees = len(todo)
        if todo:
            run.progress_total(None, "file")  # a new phase for the bars (the Sources page shows it too)
            with repo_view(repo, tip) as view:
                writer = _TreeWriter(engine, view, source_id, self.workers)
                try:
                    for sha in todo:
                        older = [s for s in complete if s in position and position[s] > position[sha]]
                        yield from writer.write_tree(sha, min(older, key=lambda s: position[s]) if older else None)
                        complete.add(sha)
                finally:
                    self.blamed, self.reused, self.ranged = writer.blamed, writer.reused, writer.ranged
        rows = [{"source_id": source_id, "ends_at": i.astimezone(dt.UTC).replace(tzinfo=None), "sha": ends[i],
                 "updated_at": utcnow()} for i in self.week_ends.values()]

        def write(conn: Connection) -> None:
            upsert(conn, GitWeekEnd.__table__, rows, key=["source_id", "ends_at"], update=["sha", "updated_at"])

        yield Page(write=write, cursors={STREAM: tip})

    def summary(self, name: str) -> str:
        return (f"git {name}: surviving lines at {len(self.week_ends)} week ends: {self.trees} new trees, "
                f"{self.blamed} files blamed, {self.reused} reused")

    def result(self, name: str) -> BlameResult:
        return BlameResult(name, len(self.week_ends), self.trees, self.blamed, self.reused, self.ranged)


def collect_blame(engine: Engine, cfg: EngagementConfig, repo: str | Path, branch: str = "main", *,
                  source_name: str | None = None, now: dt.datetime | None = None, workers: int | None = None,
                  progress: bool | None = None, wait: bool = True) -> BlameResult:
    """Collect the git source with its `blame` stream: the commits (incremental: nothing new costs one
    `rev-parse`), then the tree and blame of the branch at every week end up to the current week. One run of
    the git source through the driver (collectors/driver.py)."""
    from collectors.git.source import GitRepoSource

    source = GitRepoSource(repo, branch, name=source_name, blame_ends=week_end_instants(cfg, now),
                           blame_workers=workers)
    run_source(engine, source, progress=progress, wait=wait)
    return source.blame.result(source.name)
