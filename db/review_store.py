"""Signatures, revocations, frozen weeks, role grants and the login mode: rows of the hash-chained ledger
(db/ledger.py, SPEC §7, §9), read back as the tables the review and milestones pages use.

Nothing here updates or deletes: every change is a new ledger row. Persons are ids in the chained content;
names, emails and comments come from the rows' details (a purge replaces them by {"purged": true}, and the
person then shows as their id, `person-…`).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from db import ledger
from db.models import CollectionRun, Source
from db.privacy import email_id, salt

SIGNATURE_COLUMNS = ["id", "engagement", "milestone", "action", "revokes_id", "signer", "email", "verified", "side",
                     "comment", "signed_at", "met_week", "evidence_sha256", "evidence_json", "signer_id", "counted"]
PURGED_TEXT = "[removed: personal data purged]"


def _engagement_id(value: str) -> str:
    """Rows are keyed on `cfg.engagement.id`; a display name passed by mistake would silently find nothing."""
    from engagement.config import ENGAGEMENT_ID

    if not isinstance(value, str) or not ENGAGEMENT_ID.match(value):
        raise ValueError(f"expected an engagement id (cfg.engagement.id), got {value!r}: signatures, frozen weeks "
                         "and the audit log are keyed on the id, not on the display name")
    return value


def utc_naive(at: dt.datetime) -> dt.datetime:
    """Stored times are naive UTC."""
    return ledger.utc_naive(at)


class SnapshotExists(Exception):
    """The week is frozen already (a frozen week is never overwritten); `existing` is its snapshot."""

    def __init__(self, existing: dict):
        self.existing = existing
        super().__init__(f"week {existing['week']} is frozen already")


# --------------------------------------------------------------------------------------------------
# Login mode
# --------------------------------------------------------------------------------------------------

def login_required(engine: Engine) -> bool:
    """True once the app has run with login ([auth]) against this DB: from then on only signatures and
    revocations by a logged-in user count, whoever opens the DB later and however."""
    return any(e.content.get("required") for e in ledger.entries(engine, kinds=("login",)))


def record_login_mode(engine: Engine, witness: ledger.Witness | None = None) -> bool:
    """Append the "login required" row once (the app calls it when [auth] is configured); True if appended."""
    if login_required(engine):
        return False

    def check(conn: Connection) -> None:
        if ledger.entries(conn, kinds=("login",)):
            raise ledger.LedgerConflict("recorded already")

    try:
        ledger.append(engine, "login", {"required": True}, check=check, witness=witness)
    except ledger.LedgerConflict:
        return False
    return True


# --------------------------------------------------------------------------------------------------
# Signatures
# --------------------------------------------------------------------------------------------------

def append_signature(engine: Engine, engagement: str, action: str, content: dict, details: dict,
                     hints: dict | None = None, at: dt.datetime | None = None,
                     witness: ledger.Witness | None = None) -> int:
    """Append a sign or revoke row; returns its seq (the signature's id)."""
    entry = ledger.append(engine, action, content, engagement=engagement, details=details, hints=hints, at=at,
                          witness=witness)
    return entry.seq


def _label(details: dict, key: str, fallback):
    if details.get("purged"):
        return fallback
    value = details.get(key)
    return fallback if value is None else value


def load_signatures(engine: Engine, engagement: str, *, login: bool | None = None) -> pd.DataFrame:
    """Every signature and revocation of an engagement, oldest first. `counted` is False for rows that do
    not count: unverified ones once login is required."""
    _engagement_id(engagement)
    rows = ledger.entries(engine, engagement=engagement, kinds=("sign", "revoke"))
    login = login_required(engine) if login is None else login
    evidence = {e.seq: e.content.get("evidence") for e in rows if e.kind == "sign"}
    records = []
    for e in rows:
        c, d = e.content, e.details
        records.append({
            "id": e.seq, "engagement": e.engagement, "milestone": c.get("milestone"), "action": e.kind,
            "revokes_id": c.get("revokes"), "signer": _label(d, "signer", c.get("signer")),
            "email": _label(d, "email", None), "verified": bool(c.get("verified")), "side": c.get("side"),
            "comment": _label(d, "comment", PURGED_TEXT), "signed_at": c.get("signed_at"),
            "met_week": c.get("met_week"), "evidence_sha256": c.get("evidence_sha256"),
            "evidence_json": ledger.canonical(evidence.get(e.seq if e.kind == "sign" else c.get("revokes")) or {}),
            "signer_id": c.get("signer"), "counted": bool(c.get("verified")) or not login,
        })
    frame = pd.DataFrame(records, columns=SIGNATURE_COLUMNS)
    frame["signed_at"] = pd.to_datetime(frame["signed_at"], utc=True)
    return frame


def signature_hints(engine: Engine, engagement: str) -> dict[int, dict]:
    """Display hints of the signature rows (evidence titles), by seq."""
    _engagement_id(engagement)
    return {e.seq: e.hints for e in ledger.entries(engine, engagement=engagement, kinds=("sign",))}


def signature_version(engine: Engine, engagement: str | None = None) -> int:
    """The newest ledger row (0 without any): a cache key that changes with every signature."""
    return ledger.head_of(engine)[0]


# --------------------------------------------------------------------------------------------------
# Frozen weeks
# --------------------------------------------------------------------------------------------------

def _snapshot(e: ledger.Entry) -> dict:
    c = e.content
    return {"seq": e.seq, "engagement": e.engagement, "week": c["week"],
            "frozen_at": pd.Timestamp(c["frozen_at"]).tz_convert("UTC").to_pydatetime().replace(tzinfo=None),
            "frozen_by": _label(e.details, "frozen_by", c.get("frozen_by")), "frozen_by_id": c.get("frozen_by"),
            "verified": bool(c.get("verified")), "data_version": c.get("data_version"),
            "roster_sha256": c.get("roster_sha256"), "evidence_sha256": c.get("evidence_sha256"),
            "figures_json": ledger.canonical(c.get("figures", []))}


def _freezes(conn_or_engine, engagement: str) -> list[ledger.Entry]:
    return ledger.entries(conn_or_engine, engagement=engagement, kinds=("freeze",))


def insert_snapshot(engine: Engine, engagement: str, content: dict, details: dict,
                    witness: ledger.Witness | None = None, at: dt.datetime | None = None) -> int:
    """Append a frozen week; SnapshotExists when the week is frozen already (checked in the same transaction)."""
    week = content["week"]

    def check(conn: Connection) -> None:
        for e in _freezes(conn, engagement):
            if e.content.get("week") == week:
                raise SnapshotExists(_snapshot(e))

    return ledger.append(engine, "freeze", content, engagement=engagement, details=details, check=check,
                         witness=witness, at=at).seq


def load_snapshot(engine: Engine, engagement: str, week: int) -> dict | None:
    _engagement_id(engagement)
    found = [e for e in _freezes(engine, engagement) if e.content.get("week") == week]
    return _snapshot(found[0]) if found else None


def frozen_weeks(engine: Engine, engagement: str) -> list[int]:
    _engagement_id(engagement)
    return sorted(int(e.content["week"]) for e in _freezes(engine, engagement))


# --------------------------------------------------------------------------------------------------
# Roles
# --------------------------------------------------------------------------------------------------

def role_of(engine: Engine, email: str) -> str | None:
    """The roles granted to a login email by the newest grant (None: none, or withdrawn)."""
    wanted = email_id(salt(engine), email.strip().lower())
    found = None
    for e in ledger.entries(engine, kinds=("role",)):
        if e.content.get("email_id") == wanted:
            found = e.content.get("roles") or None
    return found


def set_role(engine: Engine, email: str, role: str, granted_by: str | None = None, *,
             granted_by_email: str | None = None, verified: bool = False,
             witness: ledger.Witness | None = None) -> int:
    """Grant roles (comma-separated; "" withdraws them) to a login email, logged with who granted them."""
    key_salt = salt(engine)
    email = email.strip().lower()
    content = {"email_id": email_id(key_salt, email), "roles": role,
               "granted_by": email_id(key_salt, granted_by_email) if granted_by_email else None,
               "verified": verified}
    details = {"email": email, "granted_by": granted_by or granted_by_email or "unknown"}
    return ledger.append(engine, "role", content, details=details, witness=witness).seq


def editors_exist(engine: Engine) -> bool:
    latest: dict[str, str] = {}
    for e in ledger.entries(engine, kinds=("role",)):
        latest[e.content.get("email_id")] = e.content.get("roles") or ""
    return any("editor" in roles.split(",") for roles in latest.values())


def load_roles(engine: Engine) -> pd.DataFrame:
    """The standing grant of each login email (email, role, granted_at, granted_by), by email."""
    latest: dict[str, ledger.Entry] = {}
    for e in ledger.entries(engine, kinds=("role",)):
        latest[e.content.get("email_id")] = e
    rows = [{"email": _label(e.details, "email", e.content.get("email_id")), "role": e.content.get("roles"),
             "granted_at": e.at, "granted_by": _label(e.details, "granted_by", e.content.get("granted_by")),
             "verified": bool(e.content.get("verified"))}
            for e in latest.values() if e.content.get("roles")]
    return pd.DataFrame(rows, columns=["email", "role", "granted_at", "granted_by", "verified"]).sort_values(
        "email", ignore_index=True)


# --------------------------------------------------------------------------------------------------
# The audit log as the Sources page shows it
# --------------------------------------------------------------------------------------------------

def _summary(e: ledger.Entry) -> str:
    c, d = e.content, e.details
    who = _label(d, "signer", c.get("signer"))
    if e.kind == "sign":
        return (f"{who} ({c.get('side')}{'' if c.get('verified') else ', unverified'}) signed milestone "
                f"{c.get('milestone')} over evidence sha256 {str(c.get('evidence_sha256'))[:12]}…")
    if e.kind == "revoke":
        return f"{who} revoked signature {c.get('revokes')} of milestone {c.get('milestone')}"
    if e.kind == "freeze":
        by = _label(d, "frozen_by", c.get("frozen_by"))
        return f"{by}{'' if c.get('verified') else ' (unverified)'} froze week {c.get('week')}"
    if e.kind == "role":
        email = _label(d, "email", c.get("email_id"))
        by = _label(d, "granted_by", c.get("granted_by"))
        roles = c.get("roles") or "no role"
        return f"{by}{'' if c.get('verified') else ' (unverified)'} set the roles of {email}: {roles}"
    if e.kind == "purge":
        return (f"a person's data was purged: {c.get('identities', 0)} identities tombstoned, {c.get('rows', 0)} "
                f"values pseudonymised, {c.get('texts', 0)} texts removed")
    if e.kind == "export":
        return f"a person's data was exported ({c.get('rows', 0)} rows)"
    if e.kind == "login":
        return "login became required: only signatures by logged-in users count from now on"
    return json.dumps(c)[:200]


def audit_log(engine: Engine) -> pd.DataFrame:
    """Every ledger row, newest first: seq, time (UTC), kind, engagement, what it records."""
    rows = [{"seq": e.seq, "at": e.at, "kind": e.kind, "engagement": e.engagement, "what": _summary(e)}
            for e in ledger.entries(engine)]
    frame = pd.DataFrame(rows, columns=["seq", "at", "kind", "engagement", "what"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame.sort_values("seq", ascending=False, ignore_index=True)


def engagement_ids(engine: Engine) -> list[str]:
    """Engagement ids the ledger holds rows of."""
    from db.models import LedgerEntry

    with engine.connect() as conn:
        return sorted(conn.execute(select(LedgerEntry.engagement).where(LedgerEntry.engagement.is_not(None))
                                   .distinct()).scalars())


# --------------------------------------------------------------------------------------------------
# Data freshness
# --------------------------------------------------------------------------------------------------

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
