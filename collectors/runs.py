"""Source registry, cursors and the collection-run log, shared by every collector."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from db.models import CollectionRun, Cursor, Source
from db.upsert import upsert
from engagement.errors import UserError
from engagement.redact import redact as _redact


class CollectError(UserError):
    """A collection that cannot proceed; the message is one clear line for the user."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# The one redaction function (URLs, Authorization/Basic/Bearer and their base64, known secrets) lives in the
# base layer so db, metrics and pages use the same; collectors import it from here as before.
redact = _redact


def ensure_source(conn: Connection, kind: str, key: str, name: str) -> int:
    """Register a source by natural key (kind, key) and return its id."""
    upsert(conn, Source.__table__, [{"kind": kind, "key": key, "name": name, "created_at": utcnow()}],
           key=["kind", "key"], update=["name"])
    return conn.execute(select(Source.id).where(Source.kind == kind, Source.key == key)).scalar_one()


def read_cursor(conn: Connection, source_id: int, stream: str) -> str | None:
    return conn.execute(
        select(Cursor.value).where(Cursor.source_id == source_id, Cursor.stream == stream)
    ).scalar_one_or_none()


def write_cursor(conn: Connection, source_id: int, stream: str, value: str | None) -> None:
    upsert(conn, Cursor.__table__, [{"source_id": source_id, "stream": stream, "value": value,
                                     "updated_at": utcnow()}],
           key=["source_id", "stream"], update=["value", "updated_at"])


@dataclass
class RunLog:
    """Counters a collector fills in while it runs; written to collection_runs at the end."""

    run_id: int
    source_id: int
    items_seen: int = 0
    items_written: int = 0
    items_removed: int = 0
    cursor_after: str | None = None
    notes: list[str] = field(default_factory=list)


@contextmanager
def collection_run(engine: Engine, source_id: int, cursor_before: str | None,
                   secrets: tuple[str, ...] = ()) -> Iterator[RunLog]:
    """Log one run: 'running' on entry, then 'success', 'failed' (with redacted error) or 'interrupted'."""
    with engine.begin() as conn:
        # A run left 'running' by a killed process can never finish; say so instead of showing it live.
        conn.execute(
            update(CollectionRun)
            .where(CollectionRun.source_id == source_id, CollectionRun.status == "running")
            .values(status="abandoned", error="process ended before the run finished")
        )
        run_id = conn.execute(
            CollectionRun.__table__.insert().values(
                source_id=source_id, started_at=utcnow(), status="running", cursor_before=cursor_before,
                items_seen=0, items_written=0, items_removed=0,
            )
        ).inserted_primary_key[0]
    log = RunLog(run_id=run_id, source_id=source_id)
    status, error = "success", None
    try:
        yield log
    except KeyboardInterrupt:
        status, error = "interrupted", "interrupted by the user (Ctrl-C); rerun to resume"
        raise
    except Exception as exc:
        status, error = "failed", redact(f"{type(exc).__name__}: {exc}" if not isinstance(exc, CollectError)
                                         else str(exc), secrets)
        raise
    finally:
        with engine.begin() as conn:
            conn.execute(
                update(CollectionRun).where(CollectionRun.id == run_id).values(
                    finished_at=utcnow(), status=status, items_seen=log.items_seen,
                    items_written=log.items_written, items_removed=log.items_removed,
                    cursor_after=log.cursor_after, error=error,
                )
            )
