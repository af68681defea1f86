"""Bulk upserts by natural key, the same call on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

# Bound parameters per statement stay under SQLite's and PostgreSQL's limits.
_MAX_PARAMS = 30000


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    key: Iterable[str],
    update: Iterable[str] = (),
) -> None:
    """Insert `rows`; on a natural-key conflict update the `update` columns (or leave the row as is)."""
    if not rows:
        return
    dialect = conn.dialect.name
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(dialect)
    if insert is None:
        raise NotImplementedError(f"upsert is not implemented for the {dialect} dialect")
    key, update = list(key), list(update)
    stmt = insert(table)
    if update:
        stmt = stmt.on_conflict_do_update(index_elements=key, set_={c: stmt.excluded[c] for c in update})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=key)
    chunk = max(1, _MAX_PARAMS // max(1, len(rows[0])))
    for i in range(0, len(rows), chunk):
        conn.execute(stmt, list(rows[i : i + chunk]))
