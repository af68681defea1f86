"""Schema: migrations agree with the models; SQLite runs in WAL mode; upserts are idempotent."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from db.engine import make_engine, resolve_db_url
from db.models import Base, Identity
from db.upsert import upsert


def test_migrations_create_exactly_the_models(db_url):
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_sqlite_is_in_wal_mode_with_a_busy_timeout(sqlite_url):
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() >= 10000


def test_upsert_by_natural_key_never_duplicates(db_url):
    engine = make_engine(db_url)
    rows = [{"kind": "email", "value": "a@x", "display_name": "A"}, {"kind": "email", "value": "b@x",
                                                                      "display_name": "B"}]
    with engine.begin() as conn:
        upsert(conn, Identity.__table__, rows, key=["kind", "value"])
        upsert(conn, Identity.__table__, [{**rows[0], "display_name": "A2"}], key=["kind", "value"],
               update=["display_name"])
    with engine.connect() as conn:
        got = conn.execute(select(Identity.value, Identity.display_name).order_by(Identity.value)).all()
    assert got == [("a@x", "A2"), ("b@x", "B")]


def test_db_url_resolution_order(tmp_path, monkeypatch):
    config = tmp_path / "engagement.toml"
    monkeypatch.delenv("BATON_DB_URL", raising=False)
    assert resolve_db_url(None, config) == f"sqlite:///{tmp_path / 'baton.db'}"
    monkeypatch.setenv("BATON_DB_URL", "sqlite:///env.db")
    assert resolve_db_url(None, config) == "sqlite:///env.db"
    assert resolve_db_url("sqlite:///cli.db", config) == "sqlite:///cli.db"


def test_unusable_database_is_one_clear_line_without_the_password(tmp_path):
    import subprocess
    import sys

    toml = tmp_path / "e.toml"
    toml.write_text('[engagement]\nname = "x"\nstart = 2026-09-07\n')
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    out = subprocess.run([sys.executable, "-m", "metrics", "weekly", "--config", str(toml), "--db", url],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip() == f"error: cannot open the database {url}: unable to open database file"
    secret = "postgresql+psycopg://u:hunter2@127.0.0.1:1/x"
    out = subprocess.run([sys.executable, "-m", "collectors", "collect", "--config", str(toml), "--db", secret],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "hunter2" not in out.stderr
    assert out.stderr.startswith("error: cannot open the database postgresql+psycopg://u:***@127.0.0.1:1/x")
