"""Shared fixtures: database URLs (SQLite always, PostgreSQL when BATON_TEST_PG_URL is set), git helpers, and
where the demo templates of the run live (tests/support/demo_template.py)."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from tests.support import demo_template
from tests.support.paths import APP

PG_ENV = "BATON_TEST_PG_URL"


@pytest.fixture(scope="session", autouse=True)
def _demo_template_root(tmp_path_factory):
    """The demo is built and collected at most once per run, below the run's base temporary folder; the xdist
    workers' folders (popen-gwN) are inside the controller's, so they share it."""
    base = tmp_path_factory.getbasetemp()
    demo_template.set_root(base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base)


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'baton.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'baton.db'}"


class GitRepo:
    """A real repository driven with git, with dated commits by chosen authors."""

    def __init__(self, path: Path, bare: bool = False):
        self.path = path
        args = ["git", "-c", "init.defaultBranch=main", "init", "-q"] + (["--bare"] if bare else []) + [str(path)]
        subprocess.run(args, check=True)

    def git(self, *args: str, env: dict | None = None, input: bytes | None = None) -> str:
        full_env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.path), **(env or {})}
        out = subprocess.run(["git", "-C", str(self.path), "-c", "commit.gpgsign=false", *args],
                             check=True, capture_output=True, env=full_env, input=input)
        return out.stdout.decode("utf-8", "replace").strip()

    def commit(self, message: str, files: dict[str, str | bytes] | None = None, *, author: str = "Ann <ann@x.com>",
               date: str = "2026-09-08T10:00:00+02:00", committer: str | None = None, delete: tuple = ()) -> str:
        for name, content in (files or {}).items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content if isinstance(content, bytes) else content.encode())
        for name in delete:
            self.git("rm", "-q", name)
        self.git("add", "-A")
        name, email = author.rsplit(" <", 1)
        cname, cemail = (committer or author).rsplit(" <", 1)
        env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email.rstrip(">"), "GIT_AUTHOR_DATE": date,
               "GIT_COMMITTER_NAME": cname, "GIT_COMMITTER_EMAIL": cemail.rstrip(">"), "GIT_COMMITTER_DATE": date}
        self.git("commit", "-q", "--allow-empty", "--allow-empty-message", "-m", message, env=env)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def git_repo(tmp_path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


@pytest.fixture
def app(monkeypatch):
    """app(config, db_url, page=None) -> an AppTest that has run app.py (and switched to `page`)."""

    def run(config, db_url: str | None, page: str | None = None) -> AppTest:
        if config is None:
            monkeypatch.delenv("BATON_CONFIG", raising=False)
        else:
            monkeypatch.setenv("BATON_CONFIG", str(config))
        if db_url is None:
            monkeypatch.delenv("BATON_DB_URL", raising=False)
        else:
            monkeypatch.setenv("BATON_DB_URL", db_url)
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        if page:
            at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


def pytest_collection_modifyitems(config, items):
    """Everything under tests/e2e/ (browser, kill and concurrency runs) belongs to the slow tier."""
    for item in items:
        if "/tests/e2e/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.slow)
