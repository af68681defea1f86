"""Fixtures of the collector tests: a second fresh database of the same kind as `db_url`, and DB snapshots."""

from __future__ import annotations

import os
import uuid

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from db.models import Base

# Bookkeeping of the run itself, not collected data: left out of "identical DB contents". Surrogate ids too:
# PostgreSQL spends a sequence value on every upsert, so concurrent runs number the same rows differently;
# rows are compared by natural key (a source by its kind and key).
RUN_TABLES = {"collection_runs", "source_locks"}
RUN_COLUMNS = {"sources": ["created_at", "id"], "cursors": ["updated_at"], "identities": ["id"],
               "git_week_ends": ["updated_at"], "git_trees": ["completed_at"]}  # when a run wrote them


@pytest.fixture
def second_db_url(db_url, tmp_path):
    """Another empty database next to `db_url` (a SQLite file, or a PostgreSQL schema dropped afterwards)."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    base = os.environ["BATON_TEST_PG_URL"]
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in base else "?"
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _plain(value):
    """One spelling per value whatever the dialect: times as 'YYYY-MM-DD HH:MM:SS.ffffff', whole numbers as int."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, str) and len(value) >= 19 and value[10] == " " and value[4] == "-" and value[13] == ":":
        return (value + ".000000")[:26]
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def db_snapshot(engine) -> dict[str, list[tuple]]:
    """Every collected row of every table (run bookkeeping aside), comparable across runs and dialects."""
    out = {}
    with engine.connect() as conn:
        sources = {row.id: f"{row.kind}:{row.key}" for row in conn.execute(Base.metadata.tables["sources"].select())}
        for table in Base.metadata.sorted_tables:
            if table.name in RUN_TABLES:
                continue
            cols = [c for c in table.columns if c.name not in RUN_COLUMNS.get(table.name, [])]
            rows = conn.execute(table.select().with_only_columns(*cols)).all()
            out[table.name] = sorted((tuple(sources.get(v, v) if c.name == "source_id" else _plain(v)
                                            for c, v in zip(cols, row, strict=True)) for row in rows), key=repr)
    return out
