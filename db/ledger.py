"""The hash-chained, append-only audit log (SPEC §7 acceptance, §9 data rights; issue 9).

Every signature, revocation, role grant, frozen week, purge, export and the switch to login mode is one row
of `ledger`, appended by `append()` and never updated or deleted (database triggers refuse it; migration 0006).

- `content` is the canonical JSON (sorted keys, no whitespace, UTF-8) of what the row records. It holds no
  name and no free text: persons are ids (`person-` + 16 hex digits of a salted HMAC, db/privacy.py) and
  texts are digests, so a purge (SPEC §9) never has to touch a chained row.
- `content_sha256` = sha256(content); `row_sha256` = sha256 of "seq, engagement, kind, at, content_sha256,
  prev_sha256" (one per line), where `prev_sha256` is the previous row's `row_sha256` (64 zeros for row 1).
  Editing any column of any row, deleting or inserting a row in the middle, breaks the chain at that row.
- The personal part (signer's name, email, comment) is in `ledger_details.details`, whose salted digest is
  in the content (`details_sha256`): an edit is detected, a purge replaces it with `{"purged": true}`.
  `ledger_details.hints` is display-only (evidence titles) and not chained.
- Removing the newest rows leaves a valid shorter chain. A **witness** file (`Witness`) keeps the newest
  head this machine appended or verified (seq and row hash, per database): `verify_chain` reports a chain
  that no longer contains it. Keep the file where the DB admin cannot write (default: beside the engagement
  file); anyone with write access to both can still rewrite history, which `verify` cannot detect.

`verify_chain(engine, witness)` re-checks all of this and returns the problems, first altered row first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from db.models import LedgerDetail, LedgerEntry
from db.privacy import salt_of

GENESIS = "0" * 64
KINDS = ("sign", "revoke", "role", "freeze", "purge", "export", "login", "retention")
_PG_LOCK_KEY = 0x6261746F6E  # "baton": one advisory lock serialises appends on PostgreSQL


def canonical(document) -> str:
    """The one JSON text of a plain document (the same rule as metrics.acceptance.canonical_json)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_text(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _at_text(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_hash(seq: int, engagement: str | None, kind: str, at: dt.datetime, content_sha256: str,
             prev_sha256: str) -> str:
    return sha256_text("\n".join([str(seq), engagement or "", kind, _at_text(at), content_sha256, prev_sha256]))


def details_digest(salt: bytes, details: dict) -> str:
    """Salted digest of a row's personal details (a plain sha256 of a short comment could be guessed)."""
    return hmac.new(salt, canonical(details).encode("utf-8"), hashlib.sha256).hexdigest()


def utc_naive(at: dt.datetime | None = None) -> dt.datetime:
    at = at or dt.datetime.now(dt.UTC)
    return at.astimezone(dt.UTC).replace(tzinfo=None) if at.tzinfo else at


@dataclass(frozen=True)
class Entry:
    seq: int
    engagement: str | None
    kind: str
    at: dt.datetime  # naive UTC
    content: dict
    details: dict = field(default_factory=dict)
    hints: dict = field(default_factory=dict)
    row_sha256: str = ""

    @property
    def purged(self) -> bool:
        return bool(self.details.get("purged"))


class LedgerConflict(Exception):
    """`append`'s `check` refused the row (e.g. the week is frozen already); the message says why."""


# --------------------------------------------------------------------------------------------------
# Witness: the newest head this machine has seen, outside the database
# --------------------------------------------------------------------------------------------------

class Witness:
    """A small JSON file {database key: {seq, row_sha256}}: the newest ledger head appended or verified here."""

    def __init__(self, path: Path | None, engine: Engine):
        self.path = Path(path) if path else None
        self.key = sha256_text(engine.url.render_as_string(hide_password=True))[:16]

    def _read_all(self) -> dict:
        if self.path is None:
            return {}
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def head(self) -> tuple[int, str] | None:
        found = self._read_all().get(self.key)
        if isinstance(found, dict) and isinstance(found.get("seq"), int):
            return found["seq"], str(found.get("row_sha256", ""))
        return None

    def record(self, seq: int, row_sha256: str) -> None:
        """Keep the newer head; a read-only folder is not an error (the chain check still runs)."""
        if self.path is None:
            return
        heads = self._read_all()
        current = heads.get(self.key)
        if isinstance(current, dict) and isinstance(current.get("seq"), int) and current["seq"] >= seq:
            return
        heads[self.key] = {"seq": seq, "row_sha256": row_sha256}
        try:
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps(heads, indent=1, sort_keys=True), encoding="utf-8")
            tmp.replace(self.path)
        except OSError:
            pass


def witness_for(config_file: Path | None, engine: Engine) -> Witness:
    """The witness beside the engagement file (`.baton-ledger-witness.json`); none without a file."""
    return Witness(Path(config_file).parent / ".baton-ledger-witness.json" if config_file else None, engine)


# --------------------------------------------------------------------------------------------------
# Append
# --------------------------------------------------------------------------------------------------

def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(select(LedgerEntry.seq, LedgerEntry.row_sha256).order_by(LedgerEntry.seq.desc())
                       .limit(1)).first()
    return (0, GENESIS) if row is None else (int(row.seq), str(row.row_sha256))


def append(engine: Engine, kind: str, content: dict, *, engagement: str | None = None, details: dict | None = None,
           hints: dict | None = None, at: dt.datetime | None = None, check=None,
           witness: Witness | None = None) -> Entry:
    """Append one row (and its details) at the head of the chain; returns it.

    `check(conn)` runs in the same transaction after the head is read and may raise LedgerConflict (a
    concurrent append makes the insert collide on `seq`, and the whole attempt, check included, reruns)."""
    if kind not in KINDS:
        raise ValueError(f"unknown ledger kind {kind!r}")
    at = utc_naive(at)
    details = details or {}
    last_error: Exception | None = None
    for attempt in range(20):
        try:
            with engine.begin() as conn:
                _lock(conn)
                seq, prev = head(conn)
                seq += 1
                if check is not None:
                    check(conn)
                body = dict(content)
                if details:
                    body["details_sha256"] = details_digest(salt_of(conn), details)
                text_ = canonical(body)
                content_sha = sha256_text(text_)
                row_sha = row_hash(seq, engagement, kind, at, content_sha, prev)
                conn.execute(insert(LedgerEntry).values(seq=seq, engagement=engagement, kind=kind, at=at,
                                                        content=text_, content_sha256=content_sha,
                                                        prev_sha256=prev, row_sha256=row_sha))
                if details or hints:
                    conn.execute(insert(LedgerDetail).values(seq=seq, details=canonical(details),
                                                             hints=canonical(hints or {})))
            if witness is not None:
                witness.record(seq, row_sha)
            return Entry(seq, engagement, kind, at, body, details, hints or {}, row_sha)
        except (IntegrityError, OperationalError) as exc:  # another append took this seq: read the head again
            last_error = exc
            time.sleep(min(0.5, 0.01 * 2 ** attempt))
    raise RuntimeError(f"could not append to the ledger after 20 attempts: {last_error}")


# --------------------------------------------------------------------------------------------------
# Read
# --------------------------------------------------------------------------------------------------

def entries(engine_or_conn, *, engagement: str | None = None, kinds: tuple[str, ...] | None = None,
            include_global: bool = False) -> list[Entry]:
    """Rows oldest first, with their details; `engagement` limits to that engagement's rows (and the
    DB-wide ones with `include_global`)."""
    stmt = (select(LedgerEntry.seq, LedgerEntry.engagement, LedgerEntry.kind, LedgerEntry.at, LedgerEntry.content,
                   LedgerEntry.row_sha256, LedgerDetail.details, LedgerDetail.hints)
            .outerjoin(LedgerDetail, LedgerDetail.seq == LedgerEntry.seq).order_by(LedgerEntry.seq))
    if engagement is not None:
        cond = LedgerEntry.engagement == engagement
        stmt = stmt.where(cond | LedgerEntry.engagement.is_(None) if include_global else cond)
    if kinds:
        stmt = stmt.where(LedgerEntry.kind.in_(kinds))

    def run(conn):
        return conn.execute(stmt).fetchall()

    rows = run(engine_or_conn) if isinstance(engine_or_conn, Connection) else _with_conn(engine_or_conn, run)
    return [Entry(int(r.seq), r.engagement, r.kind, r.at, json.loads(r.content), json.loads(r.details or "{}"),
                  json.loads(r.hints or "{}"), r.row_sha256) for r in rows]


def _with_conn(engine: Engine, fn):
    with engine.connect() as conn:
        return fn(conn)


def head_of(engine: Engine) -> tuple[int, str]:
    """(newest seq, its row hash): (0, zeros) for an empty ledger. A cache key that moves with every row."""
    with engine.connect() as conn:
        return head(conn)


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(LedgerEntry)).scalar_one())


def set_details(conn: Connection, seq: int, details: dict | None = None, hints: dict | None = None) -> None:
    """Rewrite a row's personal details or hints (a purge only; the chained content is untouched)."""
    values = {}
    if details is not None:
        values["details"] = canonical(details)
    if hints is not None:
        values["hints"] = canonical(hints)
    if values:
        conn.execute(update(LedgerDetail).where(LedgerDetail.seq == seq).values(**values))


# --------------------------------------------------------------------------------------------------
# Verify
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    seq: int | None
    message: str

    def __str__(self) -> str:
        return self.message


def _describe(seq: int, kind: str, at: dt.datetime | None) -> str:
    when = f", {at:%Y-%m-%d %H:%M} UTC" if at is not None else ""
    return f"ledger row {seq} ({kind}{when})"


def verify_chain(engine: Engine, witness: Witness | None = None) -> list[Problem]:
    """Every altered, missing or inserted row of the chain, the first one first; empty when intact."""
    stmt = (select(LedgerEntry.seq, LedgerEntry.engagement, LedgerEntry.kind, LedgerEntry.at, LedgerEntry.content,
                   LedgerEntry.content_sha256, LedgerEntry.prev_sha256, LedgerEntry.row_sha256,
                   LedgerDetail.details).outerjoin(LedgerDetail, LedgerDetail.seq == LedgerEntry.seq)
            .order_by(LedgerEntry.seq))
    with engine.connect() as conn:
        rows = conn.execute(stmt).fetchall()
        salt = salt_of(conn) if rows else b""
    problems: list[Problem] = []
    expected_seq, prev = 1, GENESIS
    hashes: dict[int, str] = {}
    for r in rows:
        label = _describe(r.seq, r.kind, r.at)
        if r.seq != expected_seq:
            missing = f"row {expected_seq}" if r.seq == expected_seq + 1 else f"rows {expected_seq}-{r.seq - 1}"
            problems.append(Problem(expected_seq, f"ledger {missing} deleted: the chain jumps from row "
                                                  f"{expected_seq - 1} to row {r.seq}"))
        if sha256_text(r.content) != r.content_sha256:
            problems.append(Problem(r.seq, f"{label}: content altered (its sha256 no longer matches)"))
        if r.prev_sha256 != prev and r.seq == expected_seq:
            problems.append(Problem(r.seq, f"{label}: does not follow row {r.seq - 1} (a row before it was "
                                           "replaced or the chain re-linked)"))
        if row_hash(r.seq, r.engagement, r.kind, r.at, r.content_sha256, r.prev_sha256) != r.row_sha256:
            problems.append(Problem(r.seq, f"{label}: altered (seq, engagement, kind, time or hash edited)"))
        try:
            content = json.loads(r.content)
        except ValueError:
            content = {}
        details = json.loads(r.details) if r.details else None
        wanted = content.get("details_sha256") if isinstance(content, dict) else None
        if wanted and not (details or {}).get("purged"):
            if details is None:
                problems.append(Problem(r.seq, f"{label}: its details (names, comment) were deleted"))
            elif details_digest(salt, details) != wanted:
                problems.append(Problem(r.seq, f"{label}: its details (names, comment) were edited"))
        hashes[r.seq] = r.row_sha256
        prev, expected_seq = r.row_sha256, r.seq + 1
    seen = witness.head() if witness is not None else None
    if seen is not None:
        seq, row_sha = seen
        if seq not in hashes:
            problems.append(Problem(seq, f"ledger row {seq} is gone: this machine saw the ledger with {seq} rows "
                                         f"(witness), the database now ends at row {expected_seq - 1}"))
        elif hashes[seq] != row_sha:
            problems.append(Problem(seq, f"ledger row {seq} differs from the one this machine saw (witness): "
                                         "the chain was rewritten"))
    return sorted(problems, key=lambda p: (p.seq is None, p.seq or 0))
