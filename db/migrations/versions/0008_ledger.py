"""hash-chained append-only ledger (signatures, revocations, roles, freezes, purges), privacy tables

Creates `ledger` (+ `ledger_details`), `privacy_salt`, `privacy_tombstones`, `privacy_pseudonyms`, with
triggers that refuse UPDATE and DELETE on `ledger` (and DELETE on `ledger_details`) on SQLite and PostgreSQL.
Existing rows of `user_roles`, `milestone_signatures` and `week_snapshots` are copied into the chain in time
order (persons become salted ids, evidence titles move to display hints, the engagement name becomes its
derived id), then those tables are dropped: the ledger is the only record.

The helpers below are frozen copies of db/ledger.py and db/privacy.py as of this revision (a migration must
not change when the code does). Note for later migrations: SQLite batch alters of `ledger` copy the table
and lose its triggers; recreate them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00
"""

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
PSEUDONYM = re.compile(r"^person-[0-9a-f]{16}$")

SQLITE_TRIGGERS = [
    "CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger "
    "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: UPDATE refused'); END",
    "CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger "
    "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: DELETE refused'); END",
    "CREATE TRIGGER ledger_details_no_delete BEFORE DELETE ON ledger_details "
    "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: DELETE refused'); END",
]
PG_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION baton_ledger_append_only() RETURNS trigger AS $$ BEGIN "
    "RAISE EXCEPTION 'the ledger is append-only: % refused', TG_OP; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER ledger_no_update_delete BEFORE UPDATE OR DELETE ON ledger "
    "FOR EACH ROW EXECUTE FUNCTION baton_ledger_append_only()",
    "CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger "
    "FOR EACH STATEMENT EXECUTE FUNCTION baton_ledger_append_only()",
    "CREATE TRIGGER ledger_details_no_delete BEFORE DELETE ON ledger_details "
    "FOR EACH ROW EXECUTE FUNCTION baton_ledger_append_only()",
    "CREATE TRIGGER ledger_details_no_truncate BEFORE TRUNCATE ON ledger_details "
    "FOR EACH STATEMENT EXECUTE FUNCTION baton_ledger_append_only()",
]


def _canonical(doc) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _pid(salt: bytes, kind: str, value: str) -> str:
    value = str(value).strip()
    key = f"{kind}:{' '.join(value.split()).casefold() if kind == 'person' else value.casefold()}"
    return "person-" + hmac.new(salt, key.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def _person(salt: bytes, label):
    if label is None or not str(label).strip():
        return None
    return label if PSEUDONYM.match(str(label)) else _pid(salt, "person", label)


def _engagement_id(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:80].strip("-")
    return slug or "engagement-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


def _iso(at: dt.datetime) -> str:
    return at.replace(tzinfo=dt.UTC).isoformat() if at.tzinfo is None else at.astimezone(dt.UTC).isoformat()


def _stable_evidence(salt: bytes, doc: dict) -> tuple[dict, dict]:
    titles = {}
    out = {k: v for k, v in doc.items() if k != "criteria"}
    out["criteria"] = []
    for c in doc.get("criteria", []):
        rows = []
        for r in c.get("rows", []):
            if r.get("title"):
                titles[str(r.get("item"))] = r["title"]
            rows.append({**{k: v for k, v in r.items() if k != "title"}, "person": _person(salt, r.get("person"))})
        out["criteria"].append({**c, "rows": rows})
    return out, titles


def _old_tables():
    meta = sa.MetaData()
    roles = sa.Table("user_roles", meta, sa.Column("email", sa.String), sa.Column("role", sa.String),
                     sa.Column("granted_at", sa.DateTime), sa.Column("granted_by", sa.String))
    sigs = sa.Table("milestone_signatures", meta, *(sa.Column(c, sa.String) for c in (
        "engagement", "milestone", "action", "signer", "email", "side", "comment", "evidence_sha256",
        "evidence_json")), sa.Column("id", sa.Integer), sa.Column("revokes_id", sa.Integer),
        sa.Column("verified", sa.Boolean), sa.Column("signed_at", sa.DateTime), sa.Column("met_week", sa.Integer))
    snaps = sa.Table("week_snapshots", meta, *(sa.Column(c, sa.String) for c in (
        "engagement", "frozen_by", "data_version", "roster_sha256", "evidence_sha256", "figures_json")),
        sa.Column("week", sa.Integer), sa.Column("frozen_at", sa.DateTime), sa.Column("verified", sa.Boolean))
    return roles, sigs, snaps


def _copy_old_rows(conn) -> None:
    roles, sigs, snaps = _old_tables()
    pending = []  # (at, order, kind, engagement, content, details, hints, old signature id)
    role_rows = conn.execute(sa.select(roles)).fetchall()
    sig_rows = conn.execute(sa.select(sigs).order_by(sigs.c.id)).fetchall()
    snap_rows = conn.execute(sa.select(snaps)).fetchall()
    if not (role_rows or sig_rows or snap_rows):
        return
    salt_hex = secrets.token_hex(32)
    conn.execute(sa.text("INSERT INTO privacy_salt (id, salt, created_at) VALUES (1, :s, :at)"),
                 {"s": salt_hex, "at": dt.datetime.now(dt.UTC).replace(tzinfo=None)})
    salt = bytes.fromhex(salt_hex)
    for r in role_rows:
        pending.append((r.granted_at, 0, "role", None,
                        {"email_id": _pid(salt, "email", r.email), "roles": r.role, "granted_by": None,
                         "verified": False, "migrated_from": "user_roles"},
                        {"email": r.email, "granted_by": r.granted_by or "unknown"}, {}, None))
    evidence_of = {}
    for r in sig_rows:
        doc, titles = _stable_evidence(salt, json.loads(r.evidence_json or "{}"))
        evidence_of[r.id] = (doc, titles)
        content = {"milestone": r.milestone, "signer": _person(salt, r.signer),
                   "email_id": _pid(salt, "email", r.email) if r.email else None, "verified": bool(r.verified),
                   "side": r.side, "signed_at": _iso(r.signed_at), "met_week": r.met_week,
                   "migrated_from": {"table": "milestone_signatures", "id": r.id,
                                     "evidence_sha256": r.evidence_sha256}}
        if r.action == "sign":
            content.update(evidence=doc, evidence_sha256=_sha(_canonical(doc)), roster_sha256=None)
            hints = {"titles": titles}
        else:
            content.update(revokes=r.revokes_id, evidence_sha256=_sha(_canonical(evidence_of[r.revokes_id][0]))
                           if r.revokes_id in evidence_of else r.evidence_sha256)
            hints = {}
        pending.append((r.signed_at, 1, r.action, _engagement_id(r.engagement), content,
                        {"signer": r.signer, "email": r.email, "comment": r.comment}, hints, r.id))
    for r in snap_rows:
        figures = json.loads(r.figures_json or "[]")
        for f in figures:
            f["items"] = {k: {**v, "person": _person(salt, v.get("person"))} for k, v in f.get("items", {}).items()}
        pending.append((r.frozen_at, 2, "freeze", _engagement_id(r.engagement),
                        {"week": r.week, "frozen_at": _iso(r.frozen_at), "frozen_by": _person(salt, r.frozen_by),
                         "verified": bool(r.verified), "data_version": r.data_version,
                         "roster_sha256": r.roster_sha256, "evidence_sha256": r.evidence_sha256, "figures": figures,
                         "migrated_from": "week_snapshots"},
                        {"frozen_by": r.frozen_by}, {}, None))
    pending.sort(key=lambda p: (p[0], p[1]))
    prev, new_seq = GENESIS, {}
    for seq, (at, _order, kind, engagement, content, details, hints, old_id) in enumerate(pending, start=1):
        if old_id is not None:
            new_seq[old_id] = seq
        if kind == "revoke":
            content["revokes"] = new_seq.get(content["revokes"], content["revokes"])
        content["details_sha256"] = hmac.new(salt, _canonical(details).encode("utf-8"), hashlib.sha256).hexdigest()
        text = _canonical(content)
        content_sha = _sha(text)
        at = at.replace(tzinfo=None) if at.tzinfo else at
        row_sha = _sha("\n".join([str(seq), engagement or "", kind, at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                                  content_sha, prev]))
        conn.execute(sa.text("INSERT INTO ledger (seq, engagement, kind, at, content, content_sha256, prev_sha256, "
                             "row_sha256) VALUES (:seq, :eng, :kind, :at, :content, :csha, :prev, :rsha)"),
                     {"seq": seq, "eng": engagement, "kind": kind, "at": at, "content": text, "csha": content_sha,
                      "prev": prev, "rsha": row_sha})
        conn.execute(sa.text("INSERT INTO ledger_details (seq, details, hints) VALUES (:seq, :d, :h)"),
                     {"seq": seq, "d": _canonical(details), "h": _canonical(hints)})
        prev = row_sha


def upgrade() -> None:
    op.create_table(
        "ledger",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("engagement", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("prev_sha256", sa.String(length=64), nullable=False),
        sa.Column("row_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger")),
    )
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_engagement"), ["engagement"], unique=False)
    op.create_table(
        "ledger_details",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("hints", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["seq"], ["ledger.seq"], name=op.f("fk_ledger_details_seq_ledger")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_details")),
    )
    op.create_table(
        "privacy_salt",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_salt")),
    )
    op.create_table(
        "privacy_tombstones",
        sa.Column("identity_sha256", sa.String(length=64), nullable=False),
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("identity_sha256", name=op.f("pk_privacy_tombstones")),
    )
    with op.batch_alter_table("privacy_tombstones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_tombstones_pseudonym"), ["pseudonym"], unique=False)
    op.create_table(
        "privacy_pseudonyms",
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("affiliations", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("pseudonym", name=op.f("pk_privacy_pseudonyms")),
    )
    conn = op.get_bind()
    _copy_old_rows(conn)
    for statement in SQLITE_TRIGGERS if conn.dialect.name == "sqlite" else PG_TRIGGERS:
        op.execute(statement)
    with op.batch_alter_table("milestone_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestone_signatures_engagement"))
    op.drop_table("milestone_signatures")
    op.drop_table("week_snapshots")
    op.drop_table("user_roles")


def downgrade() -> None:
    """Back to 0007: the old tables come back empty (the chain cannot be split back into them)."""
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for name in ("ledger_no_update", "ledger_no_delete", "ledger_details_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_no_update_delete ON ledger")
        op.execute("DROP TRIGGER IF EXISTS ledger_no_truncate ON ledger")
        op.execute("DROP TRIGGER IF EXISTS ledger_details_no_delete ON ledger_details")
        op.execute("DROP TRIGGER IF EXISTS ledger_details_no_truncate ON ledger_details")
        op.execute("DROP FUNCTION IF EXISTS baton_ledger_append_only()")
    op.drop_table("privacy_pseudonyms")
    with op.batch_alter_table("privacy_tombstones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacy_tombstones_pseudonym"))
    op.drop_table("privacy_tombstones")
    op.drop_table("privacy_salt")
    op.drop_table("ledger_details")
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_engagement"))
    op.drop_table("ledger")
    op.create_table(
        "milestone_signatures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("engagement", sa.String(length=300), nullable=False),
        sa.Column("milestone", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("revokes_id", sa.Integer(), nullable=True),
        sa.Column("signer", sa.String(length=300), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("side", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("met_week", sa.Integer(), nullable=True),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=False),
        sa.Column("evidence_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["revokes_id"], ["milestone_signatures.id"],
                                name=op.f("fk_milestone_signatures_revokes_id_milestone_signatures")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone_signatures")),
    )
    with op.batch_alter_table("milestone_signatures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_milestone_signatures_engagement"), ["engagement"], unique=False)
    op.create_table(
        "user_roles",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.Column("granted_by", sa.String(length=320), nullable=True),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "week_snapshots",
        sa.Column("engagement", sa.String(length=300), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("frozen_at", sa.DateTime(), nullable=False),
        sa.Column("frozen_by", sa.String(length=300), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("data_version", sa.String(length=200), nullable=False),
        sa.Column("roster_sha256", sa.String(length=64), nullable=False),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=False),
        sa.Column("figures_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("engagement", "week", name=op.f("pk_week_snapshots")),
    )
