"""Engine creation, DB URL resolution and schema migration (Alembic, run on open under a lock).

Migrations take a lock so that several first opens of a fresh database at once (three `collect` runs
started together) migrate it once: PostgreSQL an advisory lock (per schema), SQLite `BEGIN IMMEDIATE`
(the database's write lock) held while Alembic runs on that same connection; whoever waited finds the
schema at head and does nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from db import rawdb
from db.rawdb import DB_URL_ENV, resolve_db_url  # noqa: F401 - re-exported: callers import them from here
from engagement.errors import UserError
from engagement.redact import redact
from engagement.redact import redact_url as _redact_url

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the dashboard read while a collector writes; the busy timeout waits out short locks.
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA busy_timeout=30000")  # first: switching to WAL waits for a concurrent opener
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class DatabaseError(UserError):
    """The database cannot be opened or migrated; the message names the (password-free) URL."""


SUPPORTED = ("sqlite", "postgresql")
URL_HINT = "expected sqlite:///path/baton.db or postgresql+psycopg://user@host:5432/dbname"


def check_db_url(url: str) -> None:
    """DatabaseError (one line, password hidden) unless `url` is a SQLite or PostgreSQL URL with a valid port."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise DatabaseError(f"database URL {redact_url(url)}: not a database URL ({URL_HINT})") from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED:
        raise DatabaseError(f"database URL {redact_url(url)}: {backend} is not supported ({URL_HINT})")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise DatabaseError(f"database URL {redact_url(url)}: port {parsed.port} is out of range (1-65535)")


def make_engine(url: str, *, migrate: bool = True) -> Engine:
    """Create an engine for `url` and bring its schema to the latest migration."""
    check_db_url(url)
    try:
        engine = create_engine(url, future=True)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        if migrate:
            upgrade(engine)
    except SQLAlchemyError as exc:
        detail = str(exc.orig if getattr(exc, "orig", None) else exc).strip().splitlines()[0]
        raise DatabaseError(f"cannot open the database {redact_url(url)}: {redact(detail, _url_secrets(url))}") \
            from None
    except ImportError as exc:  # a driver that is not installed (postgresql+asyncpg://, ...)
        raise DatabaseError(f"cannot open the database {redact_url(url)}: its driver is not installed "
                            f"({exc.name or exc}); {URL_HINT}") from None
    return engine


def advisory_key(conn: Connection, name: str) -> int:
    """A PostgreSQL advisory-lock key for `name` in this connection's schema (tests share one database)."""
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    digest = hashlib.sha256(f"baton:{schema}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection holding the migration lock, in a transaction committed on success."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
            return
        key = advisory_key(conn, "migrations")
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        conn.commit()
        try:
            with conn.begin():
                yield conn
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


_script_heads = rawdb.script_heads


def _current_revisions(engine: Engine) -> set[str]:
    try:
        with engine.connect() as conn:
            return set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except SQLAlchemyError:  # no version table yet: a new database
        return set()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to `revision` under the migration lock; a database already at head is left alone without
    loading Alembic (or waiting for the lock)."""
    if revision == "head" and _current_revisions(engine) == _script_heads():
        return
    from alembic import command

    with migration_lock(engine) as conn:
        if revision == "head" and inspect(conn).has_table("alembic_version") and set(
                conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) == _script_heads():
            return  # another process migrated while this one waited for the lock
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def redact_url(url: str) -> str:
    """The URL with its password and credential query parameters (`?password=`) replaced, for messages."""
    try:
        make_url(url)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as a placeholder
        return "<unparsable database URL>"
    return _redact_url(url)


def _url_secrets(url: str) -> tuple[str, ...]:
    """The password and credential query values of a DB URL: a driver may quote them in its error."""
    from sqlalchemy.engine import make_url

    from engagement.redact import CREDENTIAL_KEYS

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - an unparsable URL has nothing to take apart
        return ()
    values = [parsed.password or ""]
    for key, value in parsed.query.items():
        if key.lower() in CREDENTIAL_KEYS:
            values += [value] if isinstance(value, str) else list(value)
    return tuple(str(v) for v in values if v)
