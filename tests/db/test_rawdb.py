"""db/rawdb.py: the fast paths' view of the database (no SQLAlchemy) says what the engine says: the same data
version string on SQLite and PostgreSQL, the same migration head, the same default database."""

from __future__ import annotations

from sqlalchemy import text

from db import rawdb, reads
from db.engine import make_engine


def test_raw_and_engine_data_versions_agree_and_move_together(db_url):
    engine = make_engine(db_url)
    raw = rawdb.RawDb(db_url)
    try:
        assert raw.at_head()
        empty = rawdb.data_version(raw.all)
        assert empty == reads.data_version(engine)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO sources (kind, key, name, created_at) "
                              "VALUES ('git', '/r', 'repo', '2026-09-10 10:00:00')"))
            conn.execute(text("INSERT INTO collection_runs (source_id, started_at, status, items_seen, items_written, "
                              "items_removed) SELECT id, '2026-09-10 11:00:00', 'running', 5, 5, 0 FROM sources"))
        running = rawdb.data_version(raw.all)
        assert running == reads.data_version(engine) and running != empty
        with engine.begin() as conn:  # the run goes on writing: the version moves with its counters
            conn.execute(text("UPDATE collection_runs SET items_written = 9"))
        assert rawdb.data_version(raw.all) not in (empty, running)
    finally:
        raw.close()
        engine.dispose()


def test_default_database_is_beside_the_engagement_file(tmp_path, monkeypatch):
    monkeypatch.delenv("BATON_DB_URL", raising=False)
    toml = tmp_path / "engagement.toml"
    assert rawdb.resolve_db_url(None, toml) == f"sqlite:///{tmp_path / 'baton.db'}"
    assert rawdb.resolve_db_url("sqlite:///x.db", toml) == "sqlite:///x.db"
    monkeypatch.setenv("BATON_DB_URL", "postgresql+psycopg://u@h/db")
    assert rawdb.resolve_db_url(None, toml) == "postgresql+psycopg://u@h/db"
