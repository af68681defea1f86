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


def parse_numstat(tokens: list[str]) -> tuple[FileStat, ...]:
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
            old, path = _fix_text(tokens[i]), tokens[i + 1]
            i += 2
        binary = added == "-"
        files.append(FileStat(_fix_text(path), old, None if binary else int(added), None if binary else int(deleted)))
    return tuple(files)


def parse_record(record: str) -> ParsedCommit:
    """Parse one `LOG_FORMAT` record (without its leading RS) followed by its numstat."""
    header, _, body = record.partition(US + "\0")
    sha, parents, an, ae, ad, cn, ce, cd, subject, trailers = header.split(US)
    return ParsedCommit(
        sha=sha,
        parents=tuple(parents.split()),
        author_name=_fix_text(an),
        author_email=_fix_text(ae),
        authored_at=dt.datetime.fromisoformat(ad),
        committer_name=_fix_text(cn),
        committer_email=_fix_text(ce),
        committed_at=dt.datetime.fromisoformat(cd),
        subject=_fix_text(subject),
        co_authors=tuple(_fix_text(t.strip()) for t in trailers.split(GS) if t.strip()),
        files=parse_numstat(body.lstrip("\n").split("\0")) if body.strip("\n\0") else (),
    )


def stream_commits(repo: Path, tip: str, exclude: str | None = None,
                   chunk_bytes: int = 1 << 20) -> Iterator[ParsedCommit]:
    """Yield every commit reachable from `tip` (all parents) and not from `exclude`, from ONE git log."""
    args = ["git", "-C", str(repo), "-c", "core.quotepath=off", "log", "-z", "--numstat", "-M",
            "--no-color", "--no-abbrev-commit", f"--format={LOG_FORMAT}", tip]
    if exclude:
        args.append(f"^{exclude}")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_GIT_ENV)
    assert proc.stdout is not None and proc.stderr is not None
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")  # a character may span two blocks
    pending, complete = "", False
    try:
        while block := proc.stdout.read(chunk_bytes):
            pending += decoder.decode(block)
            records = pending.split(RS)
            pending = records.pop()
            for record in records:
                if record:
                    yield parse_record(record)
        pending += decoder.decode(b"", final=True)
        if pending:
            yield parse_record(pending)
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
