"""The tracked branch's file tree as it stood at given instants (week ends), read from git without writing to it.

Shared by every KPI that looks at the tree at a week's end (SPEC §10 `internal_line_share`, §11
`artifact_completeness`); `collectors/git/blame.py` stores trees and their blame in `git_week_ends`,
`git_trees`, `git_tree_files` and `git_blame_lines` (db/models.py).

- `repo_view(repo, tip)`: a private bare repository in a temporary folder that borrows the source's objects
  (`objects/info/alternates`) and carries its own commit-graph with changed-path Bloom filters. Git reads the
  source through it without writing a byte into the source (which may be read-only or someone's clone), the
  source's config (`blame.ignoreRevsFile`, ...) and `.mailmap` do not apply, and path-limited walks such as
  `git blame` skip every commit that did not touch the path (several times faster on a long history).
- `first_parent_chain(repo, tip)` + `commits_at(chain, instants)`: one `git log --first-parent` walk gives each
  instant's commit: the newest commit on the tip's first-parent chain whose committer date is before the instant
  (what `git rev-list -1 --first-parent --before=<instant - 1 s> <tip>` answers), None before the first one.
- `list_tree(view, sha)`: the regular files of a commit (mode 100644/100755; symlinks and submodules are not
  files) with blob and, from one `git diff-tree --numstat` against the empty tree, git's own binary verdict
  (`-`: a NUL byte in the first 8000 bytes; `.gitattributes` of a checkout do not apply) and line count.
- `changed_paths(view, older, newer)`: every path a first-parent commit in `older..newer` changed (merges against
  their first parent, renames as delete + add): a path outside it has the same content AND the same blame at
  `newer` as at `older`, since blame hands a file unchanged in the first parent whole to that parent.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from collectors.git.client import _fix_text, resolve_tip
from collectors.runs import CollectError

REGULAR_MODES = ("100644", "100755")
PATHS_PER_CALL = 500  # pathspecs per git call (argument length stays far below the OS limit)


def git_env() -> dict[str, str]:
    """Git with no user or system configuration (no blame.ignoreRevsFile, no mailmap.file, no colour)."""
    return {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull}


@dataclass(frozen=True)
class RepoView:
    """A private bare repository reading the source's objects (see the module docstring)."""

    git_dir: Path
    source: Path

    def args(self, *args: str) -> list[str]:
        return ["git", "--git-dir", str(self.git_dir), "-c", "mailmap.file=", "-c", "mailmap.blob=",
                "-c", "core.quotepath=off", *args]

    def run(self, *args: str, stdin: bytes | None = None) -> bytes:
        out = subprocess.run(self.args(*args), input=stdin, capture_output=True, env=git_env())
        if out.returncode != 0:
            detail = out.stderr.decode("utf-8", "replace").strip().splitlines()
            raise CollectError(f"git source {self.source}: git {args[0]} failed: "
                               f"{detail[-1] if detail else f'exit code {out.returncode}'}")
        return out.stdout


def _source_git_dir(repo: Path) -> Path:
    out = subprocess.run(["git", "-C", str(repo), "rev-parse", "--path-format=absolute", "--git-common-dir"],
                         capture_output=True, env=git_env())
    if out.returncode != 0:
        raise CollectError(f"git source {repo}: not a git repository")
    return Path(out.stdout.decode().strip())


@contextmanager
def repo_view(repo: Path, tip: str, commit_graph: bool = True) -> Iterator[RepoView]:
    """A `RepoView` of `repo` for the commits reachable from `tip`, removed on exit."""
    source_dir = _source_git_dir(repo)
    folder = Path(tempfile.mkdtemp(prefix="baton-view-"))
    try:
        git_dir = folder / "view.git"
        subprocess.run(["git", "init", "-q", "--bare", str(git_dir)], check=True, capture_output=True, env=git_env())
        (git_dir / "objects" / "info" / "alternates").write_text(f"{source_dir / 'objects'}\n")
        if (source_dir / "shallow").exists():  # a shallow clone's history ends where the source's does
            shutil.copyfile(source_dir / "shallow", git_dir / "shallow")
        view = RepoView(git_dir, repo)
        if commit_graph:
            view.run("commit-graph", "write", "--no-progress", "--stdin-commits", "--changed-paths",
                     stdin=f"{tip}\n".encode())
        yield view
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def first_parent_chain(repo: Path, tip: str) -> list[tuple[str, int]]:
    """(sha, committer time as epoch seconds) along the tip's first-parent chain, tip first."""
    out = subprocess.run(["git", "-C", str(repo), "log", "--first-parent", "--format=%H %ct", tip],
                         capture_output=True, env=git_env())
    if out.returncode != 0:
        raise CollectError(f"git source {repo}: git log --first-parent failed")
    chain = []
    for line in out.stdout.decode().splitlines():
        sha, _, when = line.partition(" ")
        chain.append((sha, int(when)))
    return chain


def commits_at(chain: Sequence[tuple[str, int]], instants: Iterable[dt.datetime]) -> dict[dt.datetime, str | None]:
    """Each instant's commit: the first on the chain (tip first) committed strictly before it; None if none is."""
    instants = list(instants)
    if not chain:
        return dict.fromkeys(instants)
    times = np.fromiter((when for _sha, when in chain), dtype="int64", count=len(chain))
    out = {}
    for instant in instants:  # a few week ends, each one vectorised scan of the chain
        before = times < instant.timestamp()
        out[instant] = chain[int(before.argmax())][0] if before.any() else None
    return out


def branch_commits_at(repo: Path, branch: str, instants: Iterable[dt.datetime]) -> dict[dt.datetime, str | None]:
    """`commits_at` for the branch's current tip."""
    return commits_at(first_parent_chain(repo, resolve_tip(repo, branch)), instants)


@dataclass(frozen=True, slots=True)
class TreeFile:
    path: str
    mode: str
    blob: str
    binary: bool | None = None  # None until line_counts ran
    lines: int | None = None  # None for binary files


def _split(out: bytes) -> list[str]:
    return [_fix_text(p) for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def list_tree(view: RepoView, sha: str) -> dict[str, TreeFile]:
    """The regular files of commit `sha` by path (mode and blob; no line counts yet)."""
    files = {}
    for entry in _split(view.run("ls-tree", "-r", "-z", "--full-tree", sha)):
        meta, _, path = entry.partition("\t")
        mode, kind, blob = meta.split(" ")
        if kind == "blob" and mode in REGULAR_MODES:
            files[path] = TreeFile(path, mode, blob)
    return files


def _empty_tree(view: RepoView) -> str:
    return view.run("hash-object", "-t", "tree", "--stdin", stdin=b"").decode().strip()


def line_counts(view: RepoView, sha: str, paths: Sequence[str] | None = None) -> dict[str, int | None]:
    """Lines of each file of `sha` (all files, or `paths`), None for what git treats as binary."""
    empty = _empty_tree(view)
    calls = [None] if paths is None else [list(paths[i:i + PATHS_PER_CALL])
                                          for i in range(0, len(paths), PATHS_PER_CALL)]
    counts: dict[str, int | None] = {}
    for chunk in calls:
        if chunk == []:
            continue
        args = ["--literal-pathspecs", "diff-tree", "-r", "-z", "--numstat", "--no-renames", empty, sha]
        tokens = _split(view.run(*args, *(["--", *chunk] if chunk else [])))
        for token in tokens:
            added, _deleted, path = token.split("\t", 2)
            counts[path] = None if added == "-" else int(added)
    return counts


def changed_paths(view: RepoView, older: str, newer: str) -> set[str]:
    """Every path changed by a first-parent commit in older..newer (`older` must be on newer's first-parent chain)."""
    if older == newer:
        return set()
    out = view.run("log", "--first-parent", "--diff-merges=first-parent", "--no-renames", "--name-only", "-z",
                   "--format=", f"{older}..{newer}")
    return set(_split(out))
