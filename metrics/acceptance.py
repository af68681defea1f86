"""Two-key milestone acceptance (SPEC §7): signatures over a digest of the evidence as it stood.

- The **evidence** of a milestone is `metrics.milestones.evidence_document` (its criteria, their values and
  evidence rows in the week first met). Its **digest** is the sha256 of its canonical JSON (keys sorted, no
  whitespace, UTF-8, NaN as null, whole floats as integers), so it changes exactly when the evidence does.
- What is signed is the **purge-stable** form of that document (`signed_document`): each evidence row's
  person is a salted id (`person-…`, db/privacy.py) and free-text titles are left out (they go to display
  hints), so a purge of someone named in it (SPEC §9) changes neither the document nor its digest.
- A **signature** is a row of the hash-chained ledger (db/ledger.py) recording who signed (their person id;
  name, email and comment in the row's purge-able details), verified (a logged-in user) or not (a typed-in
  name), their side (from the roster on the signing date; a signer not on the roster states it), the time,
  the digest, the signed document and the roster digest. Only a met milestone can be signed, once per
  signer while the signature stands.
- Signatures are append-only: revoking adds a "revoke" row naming the signature it withdraws.
- Once login is required for the DB (the app ran with [auth]; `review_store.login_required`), only verified
  signatures and revocations count, and an unverified one cannot be made.
- A milestone is **accepted** when its standing, counted signatures include an internal approver and a
  second, different approver (another internal person or the vendor). Acceptance stands when evidence
  changes later; the page then says "evidence changed since signing" and what changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Engine

from db import ledger, privacy, review_store
from engagement.config import EngagementConfig
from metrics.engagement import EngagementMetrics
from metrics.milestones import evidence_document, met_week, milestone, week_document

SIDES = ("internal", "vendor")


class AcceptanceError(ValueError):
    """A signature or revocation that cannot be recorded; the message says why."""


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if hasattr(value, "item") and not isinstance(value, (dt.date, dt.datetime)):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() else value
    if isinstance(value, int):
        return value
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return pd.Timestamp(value).tz_convert("UTC").isoformat() if pd.Timestamp(value).tzinfo else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def canonical_json(document) -> str:
    """The one JSON text of a document: sorted keys, no whitespace, UTF-8, NaN -> null, 2.0 -> 2."""
    return json.dumps(_plain(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def digest(document) -> str:
    """sha256 (hex) of the canonical JSON of a document."""
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Signer:
    """Who signs: `verified` when the name/email come from login (st.user), not typed in."""

    name: str
    email: str | None = None
    verified: bool = False
    side: str | None = None  # stated side, needed only for a signer the roster does not know

    @property
    def key(self) -> str:
        return (self.email or self.name).strip().lower()


def _roster_person(cfg: EngagementConfig, signer: Signer):
    email, name = (signer.email or "").strip().lower(), privacy.normal_name(signer.name)
    person = next((p for p in cfg.people if email and email in {e.lower() for e in p.emails}), None)
    return person or next((p for p in cfg.people if privacy.normal_name(p.name) == name), None)


def roster_side(cfg: EngagementConfig, signer: Signer, on: dt.date) -> str | None:
    """The signer's side on a date from the roster (by email, else by name); None when not on the roster or
    not affiliated that day."""
    person = _roster_person(cfg, signer)
    if person is None:
        return None
    for a in person.affiliations:
        if (a.from_ is None or a.from_ <= on) and (a.until is None or on < a.until):
            return a.side
    return None


def signer_id(cfg: EngagementConfig, key_salt: bytes, signer: Signer) -> str:
    """The signer's person id: their roster person's (so login and typed-in signatures of one person are one
    signer, and a purge of that person keeps the id), else their login email's, else their typed name's."""
    person = _roster_person(cfg, signer)
    if person is not None:
        return privacy.person_id(key_salt, person.name)
    if signer.email:
        return privacy.email_id(key_salt, signer.email.strip().lower())
    return privacy.person_id(key_salt, signer.name)


def _signer_side(cfg: EngagementConfig, signer: Signer, now: dt.datetime) -> str:
    on = now.astimezone(cfg.engagement.tz).date()
    side = roster_side(cfg, signer, on)
    if side and signer.side and side != signer.side:
        raise AcceptanceError(f"{signer.name} is {side} on {on} according to the roster, not {signer.side}")
    side = side or signer.side
    if side not in SIDES:
        raise AcceptanceError(f"{signer.name} is not on the roster on {on}: state the side (internal or vendor)")
    return side


# Evidence row fields that name someone besides `person` (logins, emails, approvers): left out of what is signed
# or frozen, since a purge rewrites them (SPEC §9); `person` (as an id) and `side` say who.
PERSONAL_FIELDS = ("email", "approvers", "author_login", "creator", "pr_author", "promoter",
                   "last_changed_by", "missing",  # artifact_completeness: who changed a file last, what is missing
                   "last_internal", "last_vendor", "people")  # exit_readiness: who did an operation


def stable_row(row: dict, key_salt: bytes | None) -> str | None:
    """An evidence row (parsed canonical JSON, changed in place) in its purge-stable form: no title, no
    personal field but `person`, as an id (None without a salt); an `id` naming the person (exit_readiness keys a
    person's row "capability:operation:person") names the id instead. Returns the title it had."""
    title = row.pop("title", None)
    for name in PERSONAL_FIELDS:
        row.pop(name, None)
    person = row.get("person")
    row["person"] = privacy.person_id(key_salt, person) if key_salt else None
    if isinstance(person, str) and person and isinstance(row.get("id"), str) and person in row["id"]:
        row["id"] = row["id"].replace(person, row["person"] or "person")
    return title


def signed_document(document: dict, key_salt: bytes) -> tuple[dict, dict[str, str]]:
    """The purge-stable form of an evidence document (evidence rows' persons as ids, no titles nor other
    personal fields) and the titles left out (row key -> title), which are display hints only."""
    doc = json.loads(canonical_json(document))
    titles: dict[str, str] = {}
    for criterion in doc.get("criteria", []):
        for row in criterion.get("rows", []):
            title = stable_row(row, key_salt)
            if title:
                titles[str(row_key(row))] = title
    return doc, titles


def document_for_week(m: EngagementMetrics, milestone_id: str, week: int | None) -> dict | None:
    """The evidence document of a milestone as the evidence of `week` stands now (what a signature over
    that week's evidence is compared with); None when the milestone is no longer configured."""
    try:
        ms = milestone(m, milestone_id)
    except KeyError:
        return None
    return week_document(m, ms, week)


def roster_digest(cfg: EngagementConfig) -> str:
    """sha256 of the roster and the [classify] rules: what decides every side (SPEC §3)."""
    return digest({"people": [p.model_dump(mode="json") for p in cfg.people],
                   "classify": cfg.classify.model_dump(mode="json")})


def standing_signatures(signatures: pd.DataFrame, milestone_id: str | None = None) -> pd.DataFrame:
    """Signatures not revoked (of one milestone, or all); rows that do not count (`counted` False: unverified
    ones once login is required) neither stand nor revoke."""
    rows = signatures if milestone_id is None else signatures[signatures["milestone"] == milestone_id]
    if "counted" in rows:
        rows = rows[rows["counted"].astype(bool)]
    revoked = set(rows.loc[rows["action"] == "revoke", "revokes_id"].dropna().astype(int))
    return rows[(rows["action"] == "sign") & ~rows["id"].isin(revoked)]


def _signer_key(rows: pd.DataFrame) -> pd.Series:
    if "signer_id" in rows:
        return rows["signer_id"].fillna(rows["email"].fillna(rows["signer"]).str.strip().str.lower())
    return rows["email"].fillna(rows["signer"]).str.strip().str.lower()


def is_accepted(standing: pd.DataFrame) -> bool:
    """An internal approver and a second, different approver (internal or vendor)."""
    return bool((standing["side"] == "internal").any() and _signer_key(standing).nunique() >= 2)


def _login_refusal(engine: Engine, signer: Signer, what: str) -> None:
    if not signer.verified and review_store.login_required(engine):
        raise AcceptanceError(f"login is required for this database: only a logged-in user can {what} (in the app); "
                              "a typed-in name or the command line cannot")


def sign(engine: Engine, m: EngagementMetrics, milestone_id: str, signer: Signer, comment: str,
         now: dt.datetime | None = None, witness: ledger.Witness | None = None) -> int:
    """Record a signature of a met milestone over its current evidence; returns the ledger row (seq)."""
    now = now or dt.datetime.now(dt.UTC)
    ms = milestone(m, milestone_id)
    if not comment.strip():
        raise AcceptanceError("a signature needs a comment")
    if not signer.name.strip():
        raise AcceptanceError("a signature needs the signer's name")
    _login_refusal(engine, signer, "sign")
    proof = evidence_document(m, ms)
    if proof.met_week is None:
        raise AcceptanceError(f"milestone {ms.id} is not met: only a met milestone can be signed")
    side = _signer_side(m.cfg, signer, now)
    key_salt = privacy.salt(engine)
    who = signer_id(m.cfg, key_salt, signer)
    standing = standing_signatures(review_store.load_signatures(engine, m.cfg.engagement.id), ms.id)
    if (_signer_key(standing) == who).any():
        raise AcceptanceError(f"{signer.name} has signed milestone {ms.id} already")
    doc, titles = signed_document(proof.document, key_salt)
    content = {"milestone": ms.id, "signer": who, "verified": signer.verified, "side": side,
               "email_id": privacy.email_id(key_salt, signer.email.strip().lower()) if signer.email else None,
               "signed_at": pd.Timestamp(now).tz_convert("UTC").isoformat(), "met_week": proof.met_week,
               "evidence_sha256": digest(doc), "evidence": doc, "roster_sha256": roster_digest(m.cfg)}
    details = {"signer": signer.name.strip(), "email": signer.email, "comment": comment.strip()}
    return review_store.append_signature(engine, m.cfg.engagement.id, "sign", content, details,
                                         {"titles": titles}, at=now, witness=witness)


def revoke(engine: Engine, m: EngagementMetrics, milestone_id: str, signer: Signer, comment: str,
           now: dt.datetime | None = None, witness: ledger.Witness | None = None) -> int:
    """Withdraw the signer's standing signature by appending a revocation; returns the new row (seq)."""
    now = now or dt.datetime.now(dt.UTC)
    ms = milestone(m, milestone_id)
    if not comment.strip():
        raise AcceptanceError("a revocation needs a comment")
    _login_refusal(engine, signer, "revoke a signature")
    who = signer_id(m.cfg, privacy.salt(engine), signer)
    standing = standing_signatures(review_store.load_signatures(engine, m.cfg.engagement.id), ms.id)
    mine = standing[_signer_key(standing) == who]
    if mine.empty:
        raise AcceptanceError(f"{signer.name} has no standing signature of milestone {ms.id} to revoke")
    row = mine.iloc[-1]
    content = {"milestone": ms.id, "revokes": int(row["id"]), "signer": who, "verified": signer.verified,
               "side": row["side"], "signed_at": pd.Timestamp(now).tz_convert("UTC").isoformat(),
               "met_week": None if pd.isna(row["met_week"]) else int(row["met_week"]),
               "evidence_sha256": row["evidence_sha256"]}
    details = {"signer": signer.name.strip(), "email": signer.email, "comment": comment.strip()}
    return review_store.append_signature(engine, m.cfg.engagement.id, "revoke", content, details, at=now,
                                         witness=witness)


def accepted_milestones(engine: Engine, cfg: EngagementConfig) -> set[str]:
    signatures = review_store.load_signatures(engine, cfg.engagement.id)
    standing = standing_signatures(signatures)
    configured = {ms.id for ms in cfg.milestones}
    return {mid for mid, rows in standing.groupby("milestone") if mid in configured and is_accepted(rows)}


def row_key(row: dict):
    """An evidence row's identity: (kind, id); rows signed before issue 10 had an `item` instead."""
    return f"{row.get('kind')}:{row['id']}" if "id" in row else row.get("item")


def _row_label(row: dict, titles: dict[str, str] | None = None) -> str:
    short = str(row.get("id", row.get("item")) or "")[:10]
    title = row.get("title") or (titles or {}).get(str(row_key(row)))
    return f"{row.get('kind') or 'item'} {short}" + (f" ({title})" if title else "")


def evidence_changes(old: dict, new: dict, limit: int = 20, titles: dict[str, str] | None = None) -> list[str]:
    """What differs between two evidence documents, one line per change (at most `limit` lines); `titles`
    names items the documents carry without a title."""
    lines = []
    if old.get("met_week") != new.get("met_week"):
        if new.get("met_week") is None:
            lines.append(f"no longer met (was met in week {old.get('met_week')})")
        else:
            lines.append(f"week first met: {old.get('met_week')} → {new.get('met_week')}")
    old_c = {c["criterion"]: c for c in old.get("criteria", [])}
    new_c = {c["criterion"]: c for c in new.get("criteria", [])}
    for j in sorted(set(old_c) | set(new_c)):
        a, b = old_c.get(j, {}), new_c.get(j, {})
        label = f"criterion {j} ({b.get('asks') or a.get('asks')})"
        if a.get("value") != b.get("value"):
            lines.append(f"{label}: value {_plain(a.get('value'))} → {_plain(b.get('value'))}")
        rows_a = {row_key(r): r for r in a.get("rows", [])}
        rows_b = {row_key(r): r for r in b.get("rows", [])}
        for item in sorted(set(rows_a) - set(rows_b), key=str):
            lines.append(f"{label}: {_row_label(rows_a[item], titles)} no longer counts")
        for item in sorted(set(rows_b) - set(rows_a), key=str):
            lines.append(f"{label}: {_row_label(rows_b[item], titles)} now counts")
        for item in sorted(set(rows_a) & set(rows_b), key=str):
            ra, rb = _plain(rows_a[item]), _plain(rows_b[item])
            diffs = [f"{k} {ra.get(k)} → {rb.get(k)}" for k in sorted(set(ra) | set(rb)) if ra.get(k) != rb.get(k)]
            if diffs:
                lines.append(f"{label}: {_row_label(rows_b[item], titles)}: " + ", ".join(diffs))
    if not lines and canonical_json(old) != canonical_json(new):
        lines.append("the milestone's definition (title, due week or criteria) changed")
    return lines[:limit] + ([f"… and {len(lines) - limit} more"] if len(lines) > limit else [])


ACCEPTANCE_COLUMNS = ["milestone", "title", "met_week", "signatures", "internal_signed", "second_signed",
                      "accepted", "evidence_changed", "changes"]


def _shown(r) -> str:
    note = "" if r.verified else ", unverified"
    note += "" if r.counted else ", not counted: login is required"
    return f"{r.signer} ({r.side}{note}, {r.signed_at:%Y-%m-%d %H:%M} UTC): {r.comment}"


def acceptance_table(engine: Engine, m: EngagementMetrics) -> pd.DataFrame:
    """Per milestone: standing signatures ("name (side, unverified)"), whether each key is there, accepted,
    and whether the evidence changed since any standing signature (with what changed)."""
    signatures = review_store.load_signatures(engine, m.cfg.engagement.id)
    hints = review_store.signature_hints(engine, m.cfg.engagement.id) if len(signatures) else {}
    key_salt = privacy.salt(engine) if len(signatures) else b""
    rows = []
    for ms in m.cfg.milestones:
        standing = standing_signatures(signatures, ms.id)
        uncounted = signatures[(signatures["milestone"] == ms.id) & (signatures["action"] == "sign")
                               & ~signatures["counted"].astype(bool)]
        changed, titles = standing.iloc[0:0], {}
        if len(standing):  # only a standing signature is compared with the evidence as it stands now
            current, titles = signed_document(evidence_document(m, ms).document, key_salt)
            changed = standing[standing["evidence_sha256"] != digest(current)]
        changes = []
        for sig in changed.itertuples():
            names = {**titles, **hints.get(int(sig.id), {}).get("titles", {})}
            changes += [f"since {sig.signer}'s signature: {line}"
                        for line in evidence_changes(json.loads(sig.evidence_json), current, titles=names)]
        internal = standing[standing["side"] == "internal"]
        rows.append({
            "milestone": ms.id, "title": ms.title, "met_week": met_week(m, ms),
            "signatures": [_shown(r) for r in standing.itertuples()] + [_shown(r) for r in uncounted.itertuples()],
            "internal_signed": len(internal) > 0,
            "second_signed": _signer_key(standing).nunique() >= 2 and len(internal) > 0,
            "accepted": is_accepted(standing) if len(standing) else False,
            "evidence_changed": len(changed) > 0, "changes": changes,
        })
    return pd.DataFrame(rows, columns=ACCEPTANCE_COLUMNS)
