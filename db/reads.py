"""Columnar reads (issue 11): SQL results into Arrow columns, then pandas, without SQLAlchemy's Row objects.

PostgreSQL: ADBC (adbc-driver-postgresql), whose driver builds Arrow columns in C from binary COPY; without
that driver installed, psycopg's cursor on the engine's own connection (tuples, no Row objects).
SQLite: the stdlib `sqlite3` module of the engine's own connection (rows fetched and transposed in C, one
`pyarrow.array` per column). NOT ADBC's SQLite driver, although it is faster (0.20 s against 0.45 s for
ipython's 28,687 commits + 54,280 file rows; SQLAlchemy fetchall: 1.86 s): it links its own copy of
SQLite, and two SQLite copies in one process corrupt a WAL database (POSIX advisory locks belong to the
process, so one copy closing the file drops the other's locks; https://sqlite.org/howtocorrupt.html
2.2.1). Measured here: the kill -9/Ctrl-C collector test read "database disk image is malformed" with it.
DuckDB reads SQLite only through an extension downloaded at run time; `pandas.read_sql` builds the same
per-row objects as fetchall. See bench/README.md for the numbers.

`read_frame(engine, stmt, utc_columns)` takes the same SQLAlchemy `select` db/queries.py builds, compiles
it for the database with bound parameters (never literal values) and gives the frame db/queries.py
`_frame` gave: the same columns and dtypes (text `str`, integers `int64` or `float64` where NULL,
booleans `bool`, times `datetime64[us, UTC]` for `utc_columns`, all-NULL columns `object` of None).
Empty results, in-memory SQLite and other databases go through the old fetchall path.

`data_version(engine)` is the key of every cache of computed metrics (metrics/cache.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager

import pandas as pd
from sqlalchemy import Boolean, DateTime
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from db import rawdb


def _adbc_target(engine: Engine) -> tuple[str, str] | None:
    """('sqlite', file path) or ('postgresql', libpq URI) when the columnar path can read this database."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:" or url.query:
            return None
        return "sqlite", url.database
    if url.get_backend_name() == "postgresql":
        return "postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False)
    return None


@contextmanager
def _adbc_connection(target: str):
    import adbc_driver_postgresql.dbapi as driver

    conn = driver.connect(target)
    try:
        yield conn
    finally:
        conn.close()


def _compile(stmt, kind: str) -> tuple[str, tuple]:
    dialect = sqlite.dialect() if kind == "sqlite" else postgresql.dialect(paramstyle="numeric_dollar")
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    return str(compiled), tuple(params[name] for name in compiled.positiontup or ())


def _to_pandas(table, stmt, utc_columns: Sequence[str]) -> pd.DataFrame:
    """Arrow -> pandas with the dtypes the fetchall path gives (see the module docstring)."""
    import pyarrow as pa

    types = {c.name: c.type for c in stmt.selected_columns}
    arrays, empty = [], []
    for name in table.column_names:
        col, kind = table[name], types.get(name)
        if col.null_count == len(col):
            empty.append(name)  # all NULL: the fetchall path gives an object column of None
            col = pa.nulls(len(col), pa.string())
        elif isinstance(kind, DateTime) and not pa.types.is_timestamp(col.type):
            col = col.cast(pa.timestamp("us"))  # SQLite's text times, as SQLAlchemy wrote them (ISO 8601)
        elif isinstance(kind, Boolean):
            col = col.cast(pa.bool_())
        elif pa.types.is_integer(col.type) and col.type != pa.int64():
            col = col.cast(pa.int64())  # PostgreSQL INTEGER is int32; Python ints make int64
        arrays.append(col)
    frame = pa.table(arrays, names=table.column_names).to_pandas()
    for name in empty:
        frame[name] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    for name in utc_columns:
        frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame


def _fetchall(engine: Engine, stmt, utc_columns: Sequence[str]) -> pd.DataFrame:
    """The row-by-row path (db/queries.py `_frame`): tiny or empty results, or no ADBC driver."""
    with engine.connect() as conn:
        result = conn.execute(stmt)
        df = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for col in utc_columns:
        df[col] = pd.to_datetime(df[col], utc=True)
    return df


def _dbapi_table(engine: Engine, stmt):
    """Through the engine's own DB-API connection (SQLite: the SAME sqlite3 library SQLAlchemy uses, see the
    module docstring: never a second SQLite copy in the process; PostgreSQL: psycopg): rows fetched by the
    driver as tuples, transposed, one Arrow array per column."""
    import pyarrow as pa

    compiled = stmt.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    with engine.connect() as conn:
        cur = conn.connection.dbapi_connection.cursor()
        try:
            cur.execute(str(compiled), params)
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        finally:
            cur.close()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table([pa.array(col) for col in columns], names=names)


def _adbc_available() -> bool:
    try:
        import adbc_driver_postgresql.dbapi  # noqa: F401
    except ImportError:
        return False
    return True


def read_frames(engine: Engine, statements: dict[str, tuple]) -> dict[str, pd.DataFrame]:
    """Several reads: {name: (select, utc_columns)} -> {name: DataFrame} (one ADBC connection on PostgreSQL).

    PostgreSQL without the ADBC driver: psycopg's own cursor on the engine's connection (tuples, no Row
    objects), transposed into Arrow columns like SQLite."""
    target = _adbc_target(engine)
    try:
        import pyarrow  # noqa: F401 - needed below; without it (or a driver) the fetchall path answers
    except ImportError:
        target = None
    if target is None:
        return {name: _fetchall(engine, stmt, utc) for name, (stmt, utc) in statements.items()}
    kind, where = target
    out: dict[str, pd.DataFrame] = {}
    if kind == "sqlite" or not _adbc_available():
        for name, (stmt, utc) in statements.items():
            table = _dbapi_table(engine, stmt)
            out[name] = _fetchall(engine, stmt, utc) if table.num_rows == 0 else _to_pandas(table, stmt, utc)
        return out
    with _adbc_connection(where) as conn:
        for name, (stmt, utc) in statements.items():
            sql, params = _compile(stmt, kind)
            cur = conn.cursor()
            try:
                cur.execute(sql, params or None)
                table = cur.fetch_arrow_table()
            finally:
                cur.close()
            out[name] = _fetchall(engine, stmt, utc) if table.num_rows == 0 else _to_pandas(table, stmt, utc)
    return out


def read_frame(engine: Engine, stmt, utc_columns: Sequence[str] = ()) -> pd.DataFrame:
    """One select as a DataFrame by the columnar path (see the module docstring)."""
    return read_frames(engine, {"frame": (stmt, utc_columns)})["frame"]


def data_version(engine: Engine) -> str:
    """db/rawdb.py data_version through the engine: the same queries and the same string the fast paths compute
    without SQLAlchemy (see there for what it covers and the contract for writers)."""
    with engine.connect() as conn:
        return rawdb.data_version(lambda sql: conn.exec_driver_sql(sql).all())
