"""The demo engagement (collectors/demo/build.py) built, and built and collected, once per test run; tests get
their own copies of it.

Building the demo and collecting it (git with blame at every week end, GitHub, Jira and MLflow from its
recordings) costs tens of seconds; dozens of tests need it, many of them writable (signatures, freezes, roster
edits, new commits, purges). The demo's engagement file names its repository and recordings by relative paths,
so a copied folder is a demo of its own. A copy of the collected demo equals building and collecting it at the
copy's place: the one thing the collection keeps that depends on the place, the git source's key (the
repository's resolved path, collectors/git/source.py GitRepoSource.key), is rewritten to the copy's repository.
Files the commands write beside the engagement file (`.baton-cache`, the ledger witness) are not copied: a fresh
build has none.

Under pytest-xdist the workers of one run share the templates (below the run's base temporary folder): the first
worker to need one builds it under a file lock while the others wait, so the machine builds each template once.
Tests that check the building or the collecting of the demo (test_demo_repo.py, test_demo_selfcontained.py, the
collection outputs of test_demo_tickets.py) keep doing it themselves.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import shutil
import sqlite3
from pathlib import Path

_root: list[Path] = []  # set once per session by tests/conftest.py (the run's shared temporary folder)
DONE = ".template-complete"
COLLECT_OUTPUT = ".collect-output"  # what the collection of the collected template printed (stdout)
SQLITE_FILE = "sqlite:///"
# Not part of a fresh build: the database (copied on its own), the cache and the ledger witness its use writes.
_NOT_COPIED = shutil.ignore_patterns(DONE, COLLECT_OUTPUT, "baton.db", "baton.db-*", ".baton-cache",
                                     ".baton-ledger-witness.json")


def set_root(folder: Path) -> None:
    """Where the templates of this test run live (shared by the xdist workers of the run)."""
    _root[:] = [Path(folder)]


@functools.cache
def template(collected: bool) -> Path:
    """The folder of the demo as built (`collected=False`) or built and collected into its baton.db."""
    from collectors.__main__ import main as collectors_main
    from collectors.demo.build import build_demo
    from tests.support.cli import run_main

    if not _root:
        raise RuntimeError("tests/conftest.py sets the template folder at the start of the session")
    folder = _root[0] / ("demo-collected" if collected else "demo-built")
    with open(_root[0] / f"{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes (also if this process dies)
        if not (folder / DONE).exists():
            shutil.rmtree(folder, ignore_errors=True)  # an earlier attempt that failed half-way
            if collected:
                toml = copy_demo(folder, collected=False)
                url = f"sqlite:///{folder / 'baton.db'}"
                run = run_main(collectors_main, "collect", "--config", str(toml), "--db", url, "--quiet")
                assert run.returncode == 0, run.stderr
                (folder / COLLECT_OUTPUT).write_text(run.stdout, encoding="utf-8")
            else:
                build_demo(folder)
            (folder / DONE).touch()
    return folder


def collect_output() -> str:
    """What `collect --quiet` printed when it collected the built demo into the collected template (stdout)."""
    return (template(True) / COLLECT_OUTPUT).read_text(encoding="utf-8")


def copy_demo(dest: Path, *, collected: bool = True, db: Path | None = None) -> Path:
    """Copy the demo into `dest` (created if missing) and return its engagement file. With `collected`, its
    collected SQLite database goes to `db` (default dest/baton.db), as if collected there."""
    from collectors.demo.build import REPO_NAME, TOML_NAME

    source = template(collected)
    dest = Path(dest)
    shutil.copytree(source, dest, symlinks=True, ignore=_NOT_COPIED, dirs_exist_ok=True)
    if collected:
        db = Path(db) if db else dest / "baton.db"
        old, new = (str((folder / REPO_NAME).resolve()) for folder in (source, dest))
        # SQLite's backup, not a file copy: the database is in WAL mode (db/engine.py), rows may still be in -wal
        with contextlib.closing(sqlite3.connect(source / "baton.db")) as src, \
                contextlib.closing(sqlite3.connect(db)) as conn:
            src.backup(conn)
            with conn:
                moved = conn.execute("UPDATE sources SET key = ? || substr(key, ?) WHERE kind = 'git' AND key LIKE ?",
                                     (new, len(old) + 1, old + "#%")).rowcount
            assert moved == 1, f"the demo has one git source at {old}; {moved} rewritten"
    return dest / TOML_NAME


def collected_demo_in(dest: Path, db_url: str) -> Path:
    """The demo copied into `dest` and collected into `db_url`: a SQLite file gets a copy of the collected
    database; any other database (PostgreSQL) is collected into, from a copy of the built demo."""
    from collectors.__main__ import main as collectors_main

    if db_url.startswith(SQLITE_FILE):
        return copy_demo(dest, db=Path(db_url.removeprefix(SQLITE_FILE)))
    toml = copy_demo(dest, collected=False)
    assert collectors_main(["collect", "--config", str(toml), "--db", db_url, "--quiet"]) == 0
    return toml
