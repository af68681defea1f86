"""Reads and appends for milestone signatures, frozen weekly snapshots and user roles (bound parameters only).

Signatures and snapshots are append-only: this module offers no update and no delete for them.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from db.models import CollectionRun, MilestoneSignature, Source, UserRole, WeekSnapshot

SIGNATURE_COLUMNS = ["id", "engagement", "milestone", "action", "revokes_id", "signer", "email", "verified", "side",
                     "comment", "signed_at", "met_week", "evidence_sha256", "evidence_json"]


def utc_naive(at: dt.datetime) -> dt.datetime:
    """Stored times are naive UTC."""
    return at.astimezone(dt.UTC).replace(tzinfo=None) if at.tzinfo else at


def append_signature(engine: Engine, row: dict) -> int:
    """Add one signature or revocation row; returns its id."""
    values = {**row, "signed_at": utc_naive(row["signed_at"])}
    with engine.begin() as conn:
        result = conn.execute(insert(MilestoneSignature).values(**values).returning(MilestoneSignature.id))
        return int(result.scalar_one())


def load_signatures(engine: Engine, engagement: str) -> pd.DataFrame:
    """Every signature and revocation of an engagement, oldest first."""
    stmt = (select(*(getattr(MilestoneSignature, c) for c in SIGNATURE_COLUMNS))
            .where(MilestoneSignature.engagement == engagement).order_by(MilestoneSignature.id))
    with engine.connect() as conn:
        rows = conn.execute(stmt).fetchall()
    frame = pd.DataFrame(rows, columns=SIGNATURE_COLUMNS)
    frame["signed_at"] = pd.to_datetime(frame["signed_at"], utc=True)
    return frame


def signature_version(engine: Engine, engagement: str) -> int:
    """The newest signature row id (0 without any): a cache key that changes with every signature."""
    stmt = select(func.max(MilestoneSignature.id)).where(MilestoneSignature.engagement == engagement)
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar() or 0)


def insert_snapshot(engine: Engine, row: dict) -> None:
    """Store a frozen week; raises sqlalchemy IntegrityError when the week is frozen already."""
    with engine.begin() as conn:
        conn.execute(insert(WeekSnapshot).values(**{**row, "frozen_at": utc_naive(row["frozen_at"])}))


def load_snapshot(engine: Engine, engagement: str, week: int) -> dict | None:
    stmt = select(WeekSnapshot).where(WeekSnapshot.engagement == engagement, WeekSnapshot.week == week)
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def frozen_weeks(engine: Engine, engagement: str) -> list[int]:
    stmt = select(WeekSnapshot.week).where(WeekSnapshot.engagement == engagement).order_by(WeekSnapshot.week)
    with engine.connect() as conn:
        return [int(w) for w in conn.execute(stmt).scalars()]


def role_of(engine: Engine, email: str) -> str | None:
    stmt = select(UserRole.role).where(UserRole.email == email.strip().lower())
    with engine.connect() as conn:
        return conn.execute(stmt).scalar()


def set_role(engine: Engine, email: str, role: str, granted_by: str | None = None) -> None:
    """Grant a role (replacing the previous one of that email)."""
    from db.upsert import upsert

    row = {"email": email.strip().lower(), "role": role, "granted_at": utc_naive(dt.datetime.now(dt.UTC)),
           "granted_by": granted_by}
    with engine.begin() as conn:
        upsert(conn, UserRole.__table__, [row], key=["email"], update=["role", "granted_at", "granted_by"])


def load_roles(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(select(UserRole.email, UserRole.role, UserRole.granted_at).order_by(UserRole.email))
        return pd.DataFrame(rows.fetchall(), columns=["email", "role", "granted_at"])


def last_collections(engine: Engine) -> pd.DataFrame:
    """Data freshness: per source, its kind and name, the end of its last successful collection run (UTC, NaT
    when never) and the status of its latest run."""
    last_ok = (select(CollectionRun.source_id, func.max(CollectionRun.finished_at).label("last_success"))
               .where(CollectionRun.status == "success").group_by(CollectionRun.source_id).subquery())
    latest = (select(CollectionRun.source_id, func.max(CollectionRun.id).label("run_id"))
              .group_by(CollectionRun.source_id).subquery())
    stmt = (select(Source.kind, Source.name.label("source"), last_ok.c.last_success,
                   CollectionRun.status.label("last_status"))
            .select_from(Source)
            .outerjoin(last_ok, last_ok.c.source_id == Source.id)
            .outerjoin(latest, latest.c.source_id == Source.id)
            .outerjoin(CollectionRun, CollectionRun.id == latest.c.run_id)
            .order_by(Source.kind, Source.name))
    with engine.connect() as conn:
        result = conn.execute(stmt)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    frame["last_success"] = pd.to_datetime(frame["last_success"], utc=True)
    return frame
