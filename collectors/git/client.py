"""Talking to git: resolve refs, stream `git log` (one process for all commits), list tags.

Parsing is separate from storage (collectors/git/source.py) so it can be tested on its own.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from collectors.runs import CollectError

RS, US, GS = "\x1e", "\x1f", "\x1d"  # record, field and co-author separators in the format below
LOG_FORMAT = RS + US.join(
    ["%H", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%s",
     "%(trailers:key=Co-authored-by,valueonly,separator=%x1d)"]
) + US
_GIT_ENV = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}


@dataclass(frozen=True, slots=True)
class FileStat:
    path: str
    old_path: str | None
    added: int | None  # None: binary
    deleted: int | None


@dataclass(frozen=True, slots=True)
class ParsedCommit:
    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    authored_at: dt.datetime  # aware, with the author's offset
    committer_name: str
    committer_email: str
    committed_at: dt.datetime
    subject: str
    co_authors: tuple[str, ...]
    files: tuple[FileStat, ...]


@dataclass(frozen=True, slots=True)
class ParsedTag:
    name: str
    sha: str  # the commit it peels to
    tagged_at: dt.datetime | None
    tagger_name: str | None
    tagger_email: str | None


def _fix_text(value: str) -> str:
    """Git gives bytes; undecodable ones (a Latin-1 author name) were kept as surrogates: read them as Latin-1."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("latin-1")


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, env=_GIT_ENV, check=check)


def resolve_tip(repo: Path, branch: str) -> str:
    """The commit sha at the tip of `branch`, or CollectError with one clear line."""
    if not repo.exists():
        raise CollectError(f"git source {repo}: no such path")
    probe = _git(repo, "rev-parse", "--git-dir", check=False)
    if probe.returncode != 0:
        raise CollectError(f"git source {repo}: not a git repository")
    for ref in (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}", branch):
        out = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        if out.returncode == 0:
            return out.stdout.decode().strip()
    heads = _git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads", check=False)
    names = heads.stdout.decode(errors="replace").split()
    if not names:
        raise CollectError(f"git source {repo}: the repository is empty (no commits on any branch)")
    raise CollectError(f"git source {repo}: branch {branch!r} not found (branches: {', '.join(names[:10])})")


def is_ancestor(repo: Path, older: str, newer: str) -> bool:
    return _git(repo, "merge-base", "--is-ancestor", older, newer, check=False).returncode == 0


def count_commits(repo: Path, tip: str, exclude: str | None = None) -> int:
    args = ["rev-list", "--count", tip] + ([f"^{exclude}"] if exclude else [])
    return int(_git(repo, *args).stdout.decode().strip() or 0)


def _same(value: str) -> str:
    return value


def _clean(record: str) -> bool:
    """True when no field of the record holds undecodable bytes (almost always: then no field needs fixing)."""
    if record.isascii():
        return True
    try:
        record.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def parse_numstat(tokens: list[str], fix=_fix_text) -> tuple[FileStat, ...]:
    """Parse `--numstat -z` tokens: 'A\\tD\\tpath' or, for a rename, 'A\\tD\\t' then old, new."""
    files = []
    i, n = 0, len(tokens)
    while i < n:
        entry = tokens[i]
        i += 1
        if not entry:
            continue
        added, deleted, path = entry.split("\t", 2)
        old = None
        if not path:  # rename or copy: the two paths follow as separate tokens
            old, path = fix(tokens[i]), tokens[i + 1]
            i += 2
        binary = added == "-"
        files.append(FileStat(fix(path), old, None if binary else int(added), None if binary else int(deleted)))
    return tuple(files)


def parse_record(record: str) -> ParsedCommit:
    """Parse one `LOG_FORMAT` record (without its leading RS) followed by its numstat."""
    header, _, body = record.partition(US + "\0")
    sha, parents, an, ae, ad, cn, ce, cd, subject, trailers = header.split(US)
    fix = _same if _clean(record) else _fix_text
    return ParsedCommit(
        sha=sha,
        parents=tuple(parents.split()),
        author_name=fix(an),
        author_email=fix(ae),
        authored_at=dt.datetime.fromisoformat(ad),
        committer_name=fix(cn),
        committer_email=fix(ce),
        committed_at=dt.datetime.fromisoformat(cd),
        subject=fix(subject),
        co_authors=tuple(fix(t.strip()) for t in trailers.split(GS) if t.strip()) if trailers else (),
        files=parse_numstat(body.lstrip("\n").split("\0"), fix) if body.strip("\n\0") else (),
    )


def log_command(repo: Path, *revisions: str, stdin: bool = False) -> list[str]:
    """The one `git log` every reader runs: full shas, numstat with rename detection, NUL-separated paths.

    With `stdin`, the commits to show are read from standard input and shown as given (`--no-walk=unsorted`),
    which is how the parallel ingest hands each worker its slice of the range (collectors/git/parallel.py).
    """
    args = ["git", "-C", str(repo), "-c", "core.quotepath=off", "log", "-z", "--numstat", "-M",
            "--no-color", "--no-abbrev-commit", f"--format={LOG_FORMAT}"]
    return [*args, "--no-walk=unsorted", "--stdin"] if stdin else [*args, *revisions]


def log_records(repo: Path, args: list[str], stdin: bytes | None = None,
                chunk_bytes: int = 1 << 20) -> Iterator[str]:
    """Run `git log` (`args` from log_command) and yield its records (without the leading RS), streaming."""
    proc = subprocess.Popen(args, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_GIT_ENV)
    assert proc.stdout is not None and proc.stderr is not None
    if stdin is not None:
        # git reads every revision from stdin before it writes anything, so this cannot deadlock.
        assert proc.stdin is not None
        try:
            proc.stdin.write(stdin)
        except BrokenPipeError:  # git failed early; its stderr says why
            pass
        proc.stdin.close()
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")  # a character may span two blocks
    pending, complete = "", False
    try:
        while block := proc.stdout.read(chunk_bytes):
            pending += decoder.decode(block)
            records = pending.split(RS)
            pending = records.pop()
            for record in records:
                if record:
                    yield record
        pending += decoder.decode(b"", final=True)
        if pending:
            yield pending
        complete = True
    finally:
        if not complete:  # the consumer stopped early (or failed): do not leave git running
            proc.kill()
        proc.stdout.close()
        stderr = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        code = proc.wait()
    if code != 0:
        last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {code}"
        raise CollectError(f"git source {repo}: git log failed: {last}")


def stream_commits(repo: Path, tip: str, exclude: str | None = None,
                   chunk_bytes: int = 1 << 20) -> Iterator[ParsedCommit]:
    """Yield every commit reachable from `tip` (all parents) and not from `exclude`, from ONE git log."""
    args = log_command(repo, tip, *([f"^{exclude}"] if exclude else []))
    for record in log_records(repo, args, chunk_bytes=chunk_bytes):
        yield parse_record(record)


def range_shas(repo: Path, tip: str, exclude: str | None = None) -> list[str]:
    """Every commit of `tip ^exclude` in the order `git log` shows them (one `git rev-list`)."""
    out = _git(repo, "rev-list", tip, *([f"^{exclude}"] if exclude else []), check=False)
    if out.returncode != 0:
        detail = out.stderr.decode(errors="replace").strip().splitlines()
        raise CollectError(f"git source {repo}: git rev-list failed: {detail[-1] if detail else out.returncode}")
    return out.stdout.decode().split()


def list_tags(repo: Path) -> list[ParsedTag]:
    """Every tag that peels to a commit, with the tagger date (annotated) or the commit date (lightweight)."""
    fmt = US.join(["%(refname:strip=2)", "%(objecttype)", "%(objectname)", "%(*objecttype)", "%(*objectname)",
                   "%(creatordate:iso-strict)", "%(taggername)", "%(taggeremail:trim)"])
    out = _git(repo, "for-each-ref", f"--format={fmt}", "refs/tags").stdout.decode("utf-8", "surrogateescape")
    tags = []
    for line in out.splitlines():
        name, otype, oid, ptype, pid, date, tagger, tagger_email = line.split(US)
        sha = pid if otype == "tag" else oid
        if (ptype if otype == "tag" else otype) != "commit":
            continue  # tags of trees or blobs are no data cuts
        tags.append(ParsedTag(_fix_text(name), sha, dt.datetime.fromisoformat(date) if date else None,
                              _fix_text(tagger) or None, _fix_text(tagger_email) or None))
    return tags
