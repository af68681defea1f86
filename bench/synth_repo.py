"""Fast, deterministic synthesiser of realistic git repositories.

The whole history is generated in Python and streamed into ONE
``git fast-import`` process, so 30,000 commits take seconds, not minutes.

The same ``seed`` (and other arguments) always produce a byte-identical
repository (same head sha). The user's global/system git config is ignored.

Counts reported in :class:`SynthInfo` match what ``git log --numstat -M main``
shows: ``files_touched`` is the number of numstat lines (a rename counts once,
even when combined with a small edit), ``binary_changes`` the number of
``-\\t-\\t`` lines (including the binaries added by the initial commit) and
``renames`` the number of ``R`` entries in ``git log -M --name-status``.

CLI::

    python bench/synth_repo.py PATH [--commits N] [--seed S] [--bare]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import pathlib
import random
import subprocess
import sys
import tempfile

__all__ = ["DEFAULT_AUTHORS", "SynthInfo", "synthesize"]

BRANCH = "main"
_TOPIC_REF = b"refs/heads/synth-topic"
_MAIN_REF = b"refs/heads/main"
_CHUNK = 1 << 20  # bytes buffered before writing to fast-import's stdin

# (name, email): a realistic, messy identity pool.
DEFAULT_AUTHORS: list[tuple[str, str]] = [
    ("Alice Nguyen", "alice@client.com"),
    ("Bob Smith", "bob.smith@client.com"),
    ("Carol Diaz", "carol@acme-consulting.com"),
    ("José Müller", "jose.mueller@client.com"),
    ("Wei Zhang", "wei.zhang@acme-consulting.com"),
    ("Priya Raman", "priya.raman@client.com"),
    ("Priya Raman", "priya.raman84@gmail.com"),  # same person, second email
    ("Fatima Haddad", "fatima@client.com"),
    ("Octo Cat", "12345+octo@users.noreply.github.com"),
    ("Dan Okafor", "dan.okafor@acme-consulting.com"),
    ("Sam Taylor", "samtaylor.dev@gmail.com"),
    ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
]
_DEFAULT_WEIGHTS = [18, 12, 10, 9, 9, 8, 3, 7, 5, 6, 4, 4]
_DEFAULT_TZ = ["+0200", "-0500", "+0000", "+0100", "+0800", "+0530",
               "+0530", "+0300", "-0800", "+0100", "-0300", "+0000"]
_TZ_CYCLE = ["+0200", "-0500", "+0000", "+0530", "+0100", "-0800", "+0900", "-0300"]

_WORDS = (
    "batch cache config metric loader model score token window schema report "
    "deploy retry budget latency shard queue feature label epoch vector sample "
    "bucket pipeline export client ingest commit owner quota region tenant "
    "checkpoint gradient threshold alert dashboard cohort"
).split()

_PKGS = [
    ("numpy", "1.26.4"), ("pandas", "2.2.1"), ("requests", "2.31.0"),
    ("pyyaml", "6.0.1"), ("sqlalchemy", "2.0.28"), ("streamlit", "1.32.0"),
    ("scikit-learn", "1.4.1"), ("torch", "2.2.1"), ("pytest", "8.1.1"),
    ("ruff", "0.3.4"), ("boto3", "1.34.60"), ("pydantic", "2.6.4"),
]

# (directory, stem, extension, initial count). New files are added to these too.
_SPECS: list[tuple[str, str, str, int]] = [
    ("src/pkg", "mod_", ".py", 70),
    ("src/pkg/io", "reader_", ".py", 10),
    ("src/pkg/utils", "util_", ".py", 10),
    ("tests", "test_mod_", ".py", 30),
    ("data/schemas", "schema_", ".json", 15),
    ("data/pipelines", "etl_", ".py", 15),
    ("data/samples", "sample_", ".csv", 10),
    ("train/configs", "exp_", ".yaml", 20),
    ("train", "train_", ".py", 8),
    ("eval", "metrics_", ".py", 10),
    ("eval/reports", "report_", ".md", 10),
    ("deploy/k8s", "service_", ".yaml", 12),
    ("deploy/terraform", "main_", ".tf", 8),
    ("ops/scripts", "job_", ".sh", 12),
    ("ops/runbooks", "runbook_", ".md", 8),
    ("docs", "guide_", ".md", 15),
    ("docs/adr", "adr_", ".md", 10),
]
_N_WEIGHTS = 4  # initial models/weights_N.bin
_TARGET_FILES = 400  # deletions speed up above this many text files
_SIZE_WEIGHTS = [30, 22, 14, 9, 6, 5, 4, 3, 2, 2, 2, 1]  # files per commit: 1..12


@dataclasses.dataclass(frozen=True)
class SynthInfo:
    path: pathlib.Path
    branch: str
    commits: int  # total commits reachable from main, merges included
    merges: int
    files_touched: int  # sum over non-merge commits of files changed (numstat -M lines)
    binary_changes: int
    renames: int


# --------------------------------------------------------------------------- content


def _line(r: random.Random, ext: str) -> str:
    w = r.choice(_WORDS)
    w2 = r.choice(_WORDS)
    n = r.randrange(10000)
    k = r.randrange(6)
    if ext == ".py":
        return (
            f"def {w}_{w2}_{n}(self, {w}):",
            f"    {w}_{n} = self.{w2}.get({w!r}, {n % 97})",
            f"    return compute_{w}({w2}, limit={n})",
            f"    logger.info(\"{w} %s {w2}\", {w}_{n})",
            f"# TODO: revisit {w} {w2} handling ({n})",
            f"    if {w} is None or {w2} > {n}:",
        )[k]
    if ext in (".yaml", ".yml"):
        return (
            f"{w}_{w2}: {n}",
            f"  {w}: {w2}-{n}",
            f"  - name: {w}-{n}",
            f"    {w2}: {n / 100:.2f}",
            f"# {w} {w2} tuned in run {n}",
            f"{w}: [{n % 13}, {n % 31}]",
        )[k]
    if ext == ".json":
        return f'  "{w}_{w2}_{n}": {n % 500},' if k < 4 else f'  "{w}": "{w2}-{n}",'
    if ext == ".csv":
        return f"{n},{w},{w2},{(n % 997) / 10:.1f}"
    if ext == ".sh":
        return (
            f"{w}_cmd --{w2}={n}",
            f'echo "{w} {w2} {n}"',
            f"export {w.upper()}_{w2.upper()}={n}",
            f"[ -f /var/run/{w}.pid ] && kill -HUP $(cat /var/run/{w}.pid)  # {n}",
            f"retry 3 {w}-{w2} --timeout {n % 300}",
            f"# {w} {w2} step {n}",
        )[k]
    if ext == ".tf":
        return (
            f'  {w} = "{w2}-{n}"',
            f"  {w}_{w2}_count = {n % 9}",
            f'resource "aws_{w}" "{w2}_{n}" {{',
            "}",
            f'  tags = {{ team = "{w}", cost = "{n}" }}',
            f"# {w} {w2} {n}",
        )[k]
    # markdown / text
    w3 = r.choice(_WORDS)
    return (
        f"The {w} {w2} step retries up to {n % 7 + 1} times before paging on-call.",
        f"- Check the {w} {w3} dashboard for run {n}.",
        f"## {w.capitalize()} {w2} ({n})",
        f"Set `{w}_{w2}` to {n} when the {w3} is saturated.",
        f"See ticket BTN-{n} for the {w} {w2} background.",
        f"| {w} | {w2} | {n} |",
    )[k]


def _initial_lines(r: random.Random, path: str, ext: str) -> list[str]:
    n = r.randint(10, 45)
    lines = [_line(r, ext) for _ in range(n)]
    if ext == ".py":
        lines[:0] = [f'"""{path}."""', "", "import logging", "", "logger = logging.getLogger(__name__)", ""]
    elif ext == ".sh":
        lines[:0] = ["#!/usr/bin/env bash", "set -euo pipefail"]
    elif ext == ".json":
        lines = ["{", *lines, '  "version": 1', "}"]
    elif ext == ".md":
        lines[:0] = [f"# {pathlib.PurePosixPath(path).stem.replace('_', ' ').title()}", ""]
    return lines


def _modify(r: random.Random, lines: list[str], ext: str) -> list[str]:
    """Return an edited copy of ``lines``: a few lines replaced/inserted/deleted."""
    new = list(lines)
    if r.random() < 0.03:  # occasional larger rewrite
        k = r.randint(8, 30)
    else:
        k = r.choices((1, 2, 3, 4, 6), (40, 25, 15, 12, 8))[0]
    size = len(new)
    op = r.random()
    if size > 70:
        op = 0.95  # shrink big files
    elif size < 12:
        op = 0.6  # grow small files
    head = 1 if ext == ".json" else 0
    tail = 1 if ext == ".json" else 0
    lo, hi = head, max(head, len(new) - tail)
    pos = r.randint(lo, hi)
    if op < 0.55:  # replace
        k = min(k, hi - pos) or 1
        new[pos:pos + k] = [_line(r, ext) for _ in range(k)]
        if pos + k > hi and tail:  # never clobber the closing brace
            new.append("}")
    elif op < 0.8:  # insert
        new[pos:pos] = [_line(r, ext) for _ in range(k)]
    else:  # delete, but never shrink a file below a handful of lines
        k = min(k, hi - pos, size - 6)
        if k <= 0:
            new[pos:pos] = [_line(r, ext)]
        else:
            del new[pos:pos + k]
    if new == lines:
        new.insert(r.randint(lo, max(lo, len(new) - tail)), _line(r, ext))
    return new


def _encode(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _binary(r: random.Random) -> bytes:
    return b"\x00\x01BTNW\x00" + r.randbytes(r.randint(512, 4096))


def _ext(path: str) -> str:
    return os.path.splitext(path)[1]


def _dir(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


class _IndexedSet:
    """Deterministic set with O(1) add / remove / random choice."""

    __slots__ = ("items", "pos")

    def __init__(self) -> None:
        self.items: list[str] = []
        self.pos: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, x: str) -> bool:
        return x in self.pos

    def add(self, x: str) -> None:
        if x not in self.pos:
            self.pos[x] = len(self.items)
            self.items.append(x)

    def remove(self, x: str) -> None:
        i = self.pos.pop(x)
        last = self.items.pop()
        if i < len(self.items):
            self.items[i] = last
            self.pos[last] = i

    def choice(self, r: random.Random, skew: bool = False) -> str:
        u = r.random()
        if skew:  # favour early (long-lived, "hot") entries
            u *= u
        return self.items[int(u * len(self.items))]


# --------------------------------------------------------------------------- stream


class _Stream:
    def __init__(self, proc: subprocess.Popen[bytes], errlog) -> None:
        self.proc = proc
        self.errlog = errlog
        self.buf = bytearray()

    def write(self, b: bytes) -> None:
        self.buf += b
        if len(self.buf) >= _CHUNK:
            self.flush()

    def data(self, payload: bytes) -> None:
        self.buf += b"data %d\n" % len(payload)
        self.buf += payload
        self.buf += b"\n"
        if len(self.buf) >= _CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.buf:
            return
        try:
            self.proc.stdin.write(self.buf)  # type: ignore[union-attr]
        except BrokenPipeError:
            self.proc.wait()
            raise RuntimeError(f"git fast-import died: {self._err()}") from None
        self.buf = bytearray()

    def _err(self) -> str:
        self.errlog.seek(0)
        return self.errlog.read().decode(errors="replace").strip()


# --------------------------------------------------------------------------- synthesiser


class _Synth:
    def __init__(self, commits: int, seed: int, start: datetime.datetime,
                 authors: list[tuple[str, str]] | None) -> None:
        self.r = random.Random(seed)
        self.target = commits
        if start.tzinfo is None:
            start = start.replace(tzinfo=datetime.UTC)
        self.t = int(start.timestamp())
        if authors:
            pool = [(n, e) for n, e in authors]
            tzs = [_TZ_CYCLE[i % len(_TZ_CYCLE)] for i in range(len(pool))]
            weights = [1] * len(pool)
        else:
            pool, tzs, weights = list(DEFAULT_AUTHORS), list(_DEFAULT_TZ), list(_DEFAULT_WEIGHTS)
        self.idents = [f"{n} <{e}>".encode() for n, e in pool]
        self.tzs = [tz.encode() for tz in tzs]
        self.is_bot = ["[bot]" in e for _, e in pool]
        self.humans = [i for i, b in enumerate(self.is_bot) if not b] or list(range(len(pool)))
        self.cum = []
        acc = 0
        for w in weights:
            acc += w
            self.cum.append(acc)
        # repository state
        self.text: dict[str, list[str]] = {}
        self.binaries = _IndexedSet()
        self.editable = _IndexedSet()  # text files other than requirements.txt
        self.by_dir: dict[str, _IndexedSet] = {}
        self.all_paths: set[str] = set()
        self.last_touched: dict[str, int] = {}
        self.counters = {i: s[3] for i, s in enumerate(_SPECS)}
        self.n_weights = _N_WEIGHTS
        self.main_marks: list[int] = []
        self.mark = 0
        self.pr = 100
        # statistics
        self.commits = 0
        self.merges = 0
        self.files_touched = 0
        self.binary_changes = 0
        self.renames = 0

    # -- helpers -------------------------------------------------------------------
    def _next_mark(self) -> int:
        self.mark += 1
        return self.mark

    def _pick_author(self) -> int:
        return self.r.choices(range(len(self.idents)), cum_weights=self.cum)[0]

    def _pick_human(self, exclude: int = -1) -> int:
        cands = [i for i in self.humans if i != exclude] or self.humans
        return self.r.choice(cands)

    def _gap(self) -> int:
        u = self.r.random()
        if u < 0.78:
            g = self.r.expovariate(1 / 720)
        elif u < 0.98:
            g = self.r.expovariate(1 / 3600)
        else:
            g = self.r.uniform(8 * 3600, 40 * 3600)
        return 60 + int(g)

    def _times(self, who: int, other_committer: bool, gap: bool = True) -> tuple[bytes, bytes]:
        if gap:
            self.t += self._gap()
        a = self.t
        c = a + self.r.randint(60, 3 * 3600) if other_committer else a
        self.t = c
        tz = self.tzs[who]
        return b"%d %s" % (a, tz), b"%d " % c

    def _new_path(self, spec_i: int | None = None) -> str:
        if spec_i is None:
            spec_i = self.r.choices(range(len(_SPECS)), [s[3] for s in _SPECS])[0]
        d, stem, ext, _ = _SPECS[spec_i]
        while True:
            n = self.counters[spec_i]
            self.counters[spec_i] = n + 1
            p = f"{d}/{stem}{n}{ext}"
            if p not in self.all_paths:
                return p

    def _track_add(self, path: str, lines: list[str] | None, seq: int) -> None:
        self.all_paths.add(path)
        self.last_touched[path] = seq
        if lines is None:
            self.binaries.add(path)
            return
        self.text[path] = lines
        if path != "requirements.txt":
            self.editable.add(path)
            self.by_dir.setdefault(_dir(path), _IndexedSet()).add(path)

    def _track_remove(self, path: str) -> None:
        self.all_paths.discard(path)
        self.last_touched.pop(path, None)
        if path in self.binaries:
            self.binaries.remove(path)
            return
        del self.text[path]
        self.editable.remove(path)
        self.by_dir[_dir(path)].remove(path)

    def _pick_files(self, n: int, exclude: set[str], ok=None) -> list[str]:
        """Pick up to n distinct editable text files, with directory locality."""
        r = self.r
        out: list[str] = []
        seen = set(exclude)
        tries = 0
        while len(out) < n and tries < n * 8:
            tries += 1
            if out and r.random() < 0.6:
                p = self.by_dir[_dir(out[0])].choice(r)
            else:
                p = self.editable.choice(r, skew=True)
            if p in seen or (ok is not None and not ok(p)):
                continue
            seen.add(p)
            out.append(p)
        return out

    def _message(self, paths: list[str]) -> str:
        r = self.r
        w, w2 = r.choice(_WORDS), r.choice(_WORDS)
        top = paths[0].split("/", 1)[0] if paths and "/" in paths[0] else "repo"
        subj = r.choice((
            f"handle empty {w} in {w2}", f"add {w} to {w2} pipeline",
            f"bump {w} threshold", f"clean up {w} handling", f"speed up {w} {w2}",
            f"rename {w} helper", f"document {w} flow", f"guard against missing {w}",
            f"tune {w} for {w2}", f"fix flaky {w} {w2} check", f"drop unused {w}",
        ))
        u = r.random()
        if u < 0.5:
            kind = r.choice(("fix", "feat", "chore", "refactor", "docs", "test", "perf"))
            msg = f"{kind}({top}): {subj}"
        elif u < 0.8:
            msg = subj[0].upper() + subj[1:]
        else:
            msg = f"[BTN-{r.randint(1, 4000)}] {subj[0].upper()}{subj[1:]}"
        if r.random() < 0.3:
            msg += (f"\n\nThe {w} path was slow when {w2} was large; this keeps the"
                    f"\n{r.choice(_WORDS)} behaviour unchanged.")
        return msg

    def _coauthor_trailer(self, author: int) -> str:
        return "\n\nCo-authored-by: " + self.idents[self._pick_human(author)].decode()

    def _header(self, s: _Stream, ref: bytes, mark: int, author: int, committer: int,
                times: tuple[bytes, bytes], msg: str) -> None:
        a_when, c_when = times
        body = (msg + "\n").encode()
        s.write(b"commit %s\nmark :%d\nauthor %s %s\ncommitter %s %s%s\n"
                % (ref, mark, self.idents[author], a_when, self.idents[committer],
                   c_when, self.tzs[committer]))
        s.data(body)

    # -- commit kinds --------------------------------------------------------------
    def initial(self, s: _Stream) -> None:
        r = self.r
        ops = bytearray()
        n = 0
        req = [f"{p}=={v}" for p, v in _PKGS]
        roots = {
            "README.md": ["# Baton demo repo", "", "Synthetic history for benchmarks."],
            "requirements.txt": req,
            ".gitignore": ["__pycache__/", "*.pyc", ".venv/", "/build/"],
            "Makefile": ["test:", "\tpytest -q", "lint:", "\truff check ."],
            "setup.cfg": ["[metadata]", "name = pkg", "version = 0.1.0"],
            "deploy/Dockerfile": ["FROM python:3.11-slim", "COPY . /app", 'CMD ["python", "-m", "pkg"]'],
        }
        files: list[tuple[str, list[str] | None]] = list(roots.items())
        for d, stem, ext, count in _SPECS:
            for i in range(count):
                p = f"{d}/{stem}{i}{ext}"
                files.append((p, _initial_lines(r, p, ext)))
        for i in range(_N_WEIGHTS):
            files.append((f"models/weights_{i}.bin", None))
        for p, lines in files:
            content = _binary(r) if lines is None else _encode(lines)
            ops += b"M 100644 inline %s\n" % p.encode()
            ops += b"data %d\n%s\n" % (len(content), content)
            self._track_add(p, lines, 0)
            n += 1
            if lines is None:
                self.binary_changes += 1
        who = 0 if not self.is_bot[0] else self.humans[0]
        mark = self._next_mark()
        self._header(s, _MAIN_REF, mark, who, who, self._times(who, False, gap=False), "Initial commit")
        s.write(bytes(ops))
        self.main_marks.append(mark)
        self.commits += 1
        self.files_touched += n

    def regular(self, s: _Stream, force_rename: bool, force_binary: bool) -> None:
        r = self.r
        seq = len(self.main_marks)
        author = self._pick_author()
        ops = bytearray()
        if self.is_bot[author]:
            lines = list(self.text["requirements.txt"])
            i = r.randrange(len(lines))
            name, ver = lines[i].split("==")
            parts = ver.split(".")
            if r.random() < 0.8:
                parts[-1] = str(int(parts[-1]) + 1)
            else:
                parts[1] = str(int(parts[1]) + 1)
                parts[2:] = ["0"] * len(parts[2:])
            new_ver = ".".join(parts)
            lines[i] = f"{name}=={new_ver}"
            self.text["requirements.txt"] = lines
            self.last_touched["requirements.txt"] = seq
            content = _encode(lines)
            ops += b"M 100644 inline requirements.txt\ndata %d\n%s\n" % (len(content), content)
            msg = (f"Bump {name} from {ver} to {new_ver}\n\nBumps [{name}](https://github.com/{name}/{name}) "
                   f"from {ver} to {new_ver}.\n\nSigned-off-by: dependabot[bot] <support@github.com>")
            touched = 1
            committer = author
            other = False
        else:
            n = r.choices(range(1, 13), _SIZE_WEIGHTS)[0]
            touched = 0
            changed: set[str] = set()
            first_paths: list[str] = []
            msg = ""
            do_rename = force_rename or r.random() < 0.01
            if do_rename and len(self.editable) > 20:
                old = self._pick_files(1, set(), ok=lambda p: p != "README.md" and len(self.text[p]) >= 10)
                if old:
                    old_p = old[0]
                    d = _dir(old_p)
                    pre = f"{d}/" if d else ""
                    base = old_p.rsplit("/", 1)[-1]
                    new_p = f"{pre}legacy/{base}" if not d.endswith("legacy") else ""
                    if not new_p or new_p in self.all_paths or r.random() < 0.5:
                        new_p = f"{pre}{pathlib.PurePosixPath(base).stem}_v{r.randint(2, 9)}_{self.mark}{_ext(base)}"
                    lines = self.text[old_p]
                    self._track_remove(old_p)
                    ops += b"R %s %s\n" % (old_p.encode(), new_p.encode())
                    if r.random() < 0.6:  # small edit alongside the move
                        lines = list(lines)
                        lines[r.randrange(1, len(lines) - 1)] = _line(r, _ext(new_p))
                        content = _encode(lines)
                        ops += b"M 100644 inline %s\ndata %d\n%s\n" % (new_p.encode(), len(content), content)
                    self._track_add(new_p, lines, seq)
                    changed.update((old_p, new_p))
                    touched += 1
                    self.renames += 1
                    n -= 1
                    msg = f"Move {base} to {new_p.rsplit('/', 2)[-2]}/" if "/legacy/" in new_p else \
                        f"Rename {base} to {new_p.rsplit('/', 1)[-1]}"
            else:
                do_rename = False
            if force_binary or r.random() < 0.01:
                if len(self.binaries) == 0 or r.random() < 0.25:
                    bp = f"models/weights_{self.n_weights}.bin"
                    self.n_weights += 1
                else:
                    bp = self.binaries.choice(r)
                content = _binary(r)
                ops += b"M 100644 inline %s\ndata %d\n%s\n" % (bp.encode(), len(content), content)
                if bp not in self.binaries:
                    self._track_add(bp, None, seq)
                self.last_touched[bp] = seq
                changed.add(bp)
                touched += 1
                self.binary_changes += 1
                n -= 1
                msg = msg or f"Update model weights ({bp.rsplit('/', 1)[-1]})"
            if not do_rename:  # never add and delete in one commit (keeps -M exact)
                u = r.random()
                p_del = 0.02 if len(self.editable) < _TARGET_FILES else 0.08
                if u < 0.05 and n >= 1:
                    for _ in range(1 if r.random() < 0.8 else 2):
                        p = self._new_path()
                        lines = _initial_lines(r, p, _ext(p))
                        content = _encode(lines)
                        ops += b"M 100644 inline %s\ndata %d\n%s\n" % (p.encode(), len(content), content)
                        self._track_add(p, lines, seq)
                        changed.add(p)
                        first_paths.append(p)
                        touched += 1
                        n -= 1
                elif u < 0.05 + p_del and len(self.editable) > 150:
                    victim = self._pick_files(1, changed, ok=lambda p: p != "README.md")
                    for p in victim:
                        ops += b"D %s\n" % p.encode()
                        self._track_remove(p)
                        changed.add(p)
                        first_paths.append(p)
                        touched += 1
                        n -= 1
            for p in self._pick_files(max(n, 0 if touched else 1), changed):
                lines = _modify(r, self.text[p], _ext(p))
                self.text[p] = lines
                self.last_touched[p] = seq
                content = _encode(lines)
                ops += b"M 100644 inline %s\ndata %d\n%s\n" % (p.encode(), len(content), content)
                first_paths.append(p)
                touched += 1
            msg = msg or self._message(first_paths)
            if r.random() < 0.02:
                msg += self._coauthor_trailer(author)
            other = r.random() < 0.08
            committer = self._pick_human(author) if other else author
        mark = self._next_mark()
        self._header(s, _MAIN_REF, mark, author, committer, self._times(author, other), msg)
        s.write(bytes(ops))
        self.main_marks.append(mark)
        self.commits += 1
        self.files_touched += touched

    def feature(self, s: _Stream, n_branch: int) -> None:
        """A short topic branch forked a few commits back, then merged into main."""
        r = self.r
        k = r.randint(1, min(5, len(self.main_marks) - 1))
        fork = len(self.main_marks) - 1 - k
        fork_mark = self.main_marks[fork]

        def untouched(p: str) -> bool:
            return self.last_touched[p] <= fork

        author = self._pick_human()
        files: dict[str, list[str]] = {}  # path -> branch content
        blob: dict[str, int] = {}  # path -> blob mark of latest content
        branch_name = f"feature/{r.choice(_WORDS)}-{r.choice(_WORDS)}"
        first_msg = ""
        tip = fork_mark
        for j in range(n_branch):
            ops = bytearray()
            n = r.choices((1, 2, 3, 4), (40, 30, 20, 10))[0]
            paths = self._pick_files(n, set(files), ok=untouched)
            if files and r.random() < 0.5:  # keep iterating on the same files
                paths.append(r.choice(sorted(files)))
            if r.random() < 0.1 or not paths:
                p = self._new_path()
                while p in files:
                    p = self._new_path()
                files[p] = []
                paths.append(p)
            seen: set[str] = set()
            for p in paths:
                if p in seen:
                    continue
                seen.add(p)
                ext = _ext(p)
                if p in files and files[p] == []:
                    lines = _initial_lines(r, p, ext)
                else:
                    lines = _modify(r, files.get(p) or self.text[p], ext)
                files[p] = lines
                content = _encode(lines)
                bm = self._next_mark()
                blob[p] = bm
                s.write(b"blob\nmark :%d\n" % bm)
                s.data(content)
                ops += b"M 100644 :%d %s\n" % (bm, p.encode())
            msg = self._message(sorted(seen))
            first_msg = first_msg or msg.split("\n", 1)[0]
            if r.random() < 0.02:
                msg += self._coauthor_trailer(author)
            mark = self._next_mark()
            self._header(s, _TOPIC_REF, mark, author, author, self._times(author, False), msg)
            s.write(b"from :%d\n" % tip if j == 0 else b"")
            s.write(bytes(ops))
            tip = mark
            self.commits += 1
            self.files_touched += len(seen)
        # merge commit on main (first parent = main tip, second = topic tip)
        seq = len(self.main_marks)
        merger = self._pick_human()
        self.pr += r.randint(1, 4)
        msg = f"Merge pull request #{self.pr} from acme/{branch_name}\n\n{first_msg}"
        mark = self._next_mark()
        self._header(s, _MAIN_REF, mark, merger, merger, self._times(merger, False), msg)
        ops = bytearray(b"merge :%d\n" % tip)
        for p in sorted(files):
            ops += b"M 100644 :%d %s\n" % (blob[p], p.encode())
            if p in self.text:
                self.text[p] = files[p]
                self.last_touched[p] = seq
            else:
                self._track_add(p, files[p], seq)
        s.write(bytes(ops))
        self.main_marks.append(mark)
        self.commits += 1
        self.merges += 1

    def run(self, s: _Stream) -> None:
        r = self.r
        target = self.target
        self.initial(s)
        while self.commits < target:
            left = target - self.commits
            n_branch = r.choices((1, 2, 3, 4), (35, 30, 20, 15))[0]
            want_merge = r.random() < 0.033 or (self.merges == 0 and self.commits >= target // 2)
            if want_merge and len(self.main_marks) >= 3 and left >= 2:
                self.feature(s, min(n_branch, left - 1))
                continue
            half = self.commits >= target // 3
            self.regular(s, force_rename=half and self.renames == 0,
                         force_binary=half and self.binary_changes <= _N_WEIGHTS)


# --------------------------------------------------------------------------- public API


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
               GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    return env


def synthesize(path: pathlib.Path, *, commits: int = 30000, seed: int = 7,
               start: datetime.datetime | None = None,
               authors: list[tuple[str, str]] | None = None,
               bare: bool = False) -> SynthInfo:
    """Create a new git repository at ``path`` with ``commits`` synthetic commits on ``main``."""
    if commits < 1:
        raise ValueError("commits must be >= 1")
    path = pathlib.Path(path).resolve()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(f"{path} exists and is not an empty directory")
    path.mkdir(parents=True, exist_ok=True)
    if start is None:
        start = datetime.datetime(2024, 1, 1, 9, 0, tzinfo=datetime.UTC)
    env = _git_env()
    init = ["git", "-c", "init.defaultBranch=main", "init", "-q"] + (["--bare"] if bare else []) + [str(path)]
    subprocess.run(init, check=True, env=env)
    gitdir = ["git", "-C", str(path)]

    synth = _Synth(commits, seed, start, authors)
    # fast-import frees and re-grows its heap constantly; with glibc's default trim
    # threshold that costs ~40% extra (brk + page faults). Keep the heap around.
    fi_env = dict(env, MALLOC_TOP_PAD_="134217728", MALLOC_TRIM_THRESHOLD_="268435456",
                  GLIBC_TUNABLES="glibc.malloc.top_pad=134217728:glibc.malloc.trim_threshold=268435456")
    with tempfile.TemporaryFile() as errlog:
        proc = subprocess.Popen(
            gitdir + ["-c", "core.compression=1", "-c", "pack.compression=1",
                      "fast-import", "--quiet", "--done", "--date-format=raw"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errlog, env=fi_env,
        )
        stream = _Stream(proc, errlog)
        try:
            synth.run(stream)
            stream.write(b"done\n")
            stream.flush()
            proc.stdin.close()  # type: ignore[union-attr]
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if proc.wait() != 0:
            raise RuntimeError(f"git fast-import failed ({proc.returncode}): {stream._err()}")

    if synth.merges:
        subprocess.run(gitdir + ["update-ref", "-d", _TOPIC_REF.decode()], check=True, env=env)
    if not bare:
        subprocess.run(gitdir + ["checkout", "-q", "-f", BRANCH], check=True, env=env)
    return SynthInfo(path=path, branch=BRANCH, commits=synth.commits, merges=synth.merges,
                     files_touched=synth.files_touched, binary_changes=synth.binary_changes,
                     renames=synth.renames)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Synthesise a realistic git repository.")
    ap.add_argument("path", type=pathlib.Path)
    ap.add_argument("--commits", type=int, default=30000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--bare", action="store_true")
    args = ap.parse_args(argv)
    print(synthesize(args.path, commits=args.commits, seed=args.seed, bare=args.bare))
    return 0


if __name__ == "__main__":
    sys.exit(main())
