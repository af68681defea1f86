"""Frozen weekly reviews (SPEC §7): "Freeze week N" stores every KPI row of the week with its evidence.

A snapshot holds, for each row of the weekly contract of week N (any KPI, any capability or runbook), the
value, the side counts, the planned stage, the counted evidence items (`id` -> side, person id;
metrics.service.evidence) and the sha256 of the evidence's purge-stable canonical JSON (persons as ids, no
titles), plus one digest over all of it. It is a row of the hash-chained ledger (db/ledger.py): a week is frozen
once and never overwritten or edited, and a purge (SPEC §9) changes neither its figures nor its digests, because
persons are ids (db/privacy.py).

**Restated** figures: when recomputation gives another value for a frozen row, the review shows the frozen
(old) value, the new one and why, from the evidence: items that were not there -> "new data collected";
items gone -> "data removed at the source"; items whose side or person changed -> "roster change"; none of
these -> "configuration change" (targets, plan, thresholds, milestone acceptance).
"""

from __future__ import annotations

import datetime as dt
import json
import math

import pandas as pd
from sqlalchemy.engine import Engine

from db import ledger, privacy, review_store
from db.queries import data_version
from metrics.acceptance import canonical_json, digest, stable_row
from metrics.acceptance import roster_digest as _roster_digest
from metrics.engagement import EngagementMetrics
from metrics.service import evidence

KEY_FIELDS = ("kpi", "capability", "runbook")
FIGURE_FIELDS = ("value", "internal", "vendor", "unattributed", "bots", "planned")
RESTATED_COLUMNS = ["kpi", "capability", "runbook", "old", "new", "why"]


class FreezeError(ValueError):
    """A week that cannot be frozen (already frozen, outside the engagement)."""


def roster_digest(m: EngagementMetrics) -> str:
    return _roster_digest(m.cfg)


def _key(row: dict) -> tuple:
    return tuple(row.get(k) for k in KEY_FIELDS)


def _evidence(m: EngagementMetrics, row: dict, week: int) -> pd.DataFrame:
    """The counted evidence rows of a weekly row (the items its value stands on)."""
    rows = evidence(m, row["kpi"], week, row.get("capability"))
    return rows[rows["counted"].astype(bool)]


def _clean(value):
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return value.item() if hasattr(value, "item") else value


def week_figures(m: EngagementMetrics, week: int, key_salt: bytes | None = None) -> list[dict]:
    """Every weekly-contract row of `week` with its evidence items and digest (what a freeze stores).

    Persons are ids (db.privacy.person_id with the DB's salt); without a salt they are left out (a
    comparison of sides only, for callers without a DB)."""
    rows = m.weekly[m.weekly["week"] == week]
    figures = []
    for rec in rows.to_dict("records"):
        row = {k: _clean(rec.get(k)) for k in KEY_FIELDS}
        row.update({k: _clean(rec.get(k)) for k in FIGURE_FIELDS})
        evidence = _evidence(m, row, week)
        records = json.loads(canonical_json(evidence.to_dict("records")))
        for r in records:  # free text and logins are not part of what a freeze keeps (a purge may rewrite them)
            stable_row(r, key_salt)
        row["evidence_sha256"] = digest(records)
        # Keyed by the row id alone (a commit's sha, a ticket's key), as snapshots frozen before issue 10 were.
        row["items"] = {str(r["id"]): {"side": r.get("side"), "person": r.get("person")} for r in records}
        figures.append(row)
    return sorted(figures, key=lambda r: tuple("" if v is None else str(v) for v in _key(r)))


def _frozen_error(existing: dict) -> FreezeError:
    return FreezeError(f"week {existing['week']} was frozen on {existing['frozen_at']:%Y-%m-%d %H:%M} UTC by "
                       f"{existing['frozen_by']}; a frozen week is never overwritten")


def freeze(engine: Engine, m: EngagementMetrics, week: int, frozen_by: str, verified: bool = False,
           now: dt.datetime | None = None, witness: ledger.Witness | None = None) -> dict:
    """Store week `week`'s figures (a ledger row); FreezeError when it is frozen already or not an engagement
    week. `frozen_by` is a name (typed in, or the logged-in user's); the row keeps its person id."""
    if week not in m.weeks:
        raise FreezeError(f"week {week} is not an engagement week (weeks: {m.weeks[0]}..{m.weeks[-1]})")
    existing = review_store.load_snapshot(engine, m.cfg.engagement.id, week)
    if existing:
        raise _frozen_error(existing)
    key_salt = privacy.salt(engine)
    figures = week_figures(m, week, key_salt)
    run_id, state = data_version(engine)
    now = now or dt.datetime.now(dt.UTC)
    content = {"week": week, "frozen_at": pd.Timestamp(now).tz_convert("UTC").isoformat(),
               "frozen_by": privacy.person_id(key_salt, frozen_by), "verified": verified,
               "data_version": f"run {run_id} {state}"[:200], "roster_sha256": roster_digest(m),
               "evidence_sha256": digest([r["evidence_sha256"] for r in figures]),
               "figures": json.loads(canonical_json(figures))}
    try:
        review_store.insert_snapshot(engine, m.cfg.engagement.id, content, {"frozen_by": frozen_by},
                                     witness=witness, at=now)
    except review_store.SnapshotExists as exc:  # frozen meanwhile by someone else
        raise _frozen_error(exc.existing) from None
    return {**content, "engagement": m.cfg.engagement.id, "figures_json": canonical_json(content["figures"])}


def snapshot(engine: Engine, engagement: str, week: int) -> dict | None:
    """The frozen week (of engagement id `engagement`) with its figures parsed, None when not frozen."""
    row = review_store.load_snapshot(engine, engagement, week)
    if row:
        row["figures"] = json.loads(row["figures_json"])
    return row


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def _why(old: dict, new: dict | None, roster_changed: bool) -> str:
    before, after = old.get("items", {}), (new or {}).get("items", {})
    reasons = []
    added = set(after) - set(before)
    removed = set(before) - set(after)
    moved = [i for i in set(before) & set(after) if before[i] != after[i]]
    if added:
        reasons.append(f"new data collected ({len(added)} new item{'s' if len(added) > 1 else ''})")
    if removed:
        reasons.append(f"data removed at the source ({len(removed)} item{'s' if len(removed) > 1 else ''})")
    if moved:
        reasons.append(f"roster change ({len(moved)} item{'s' if len(moved) > 1 else ''} re-attributed)")
    if not reasons:  # evidence without item ids (a KPI whose evidence is its own contract row): use the counts
        def total(row):
            return sum(int(row.get(k) or 0) for k in ("internal", "vendor", "unattributed", "bots"))

        old_total, new_total = total(old), total(new or {})
        if new_total > old_total:
            reasons.append(f"new data collected ({new_total - old_total} more events)")
        elif new_total < old_total:
            reasons.append(f"data removed at the source ({old_total - new_total} fewer events)")
        elif roster_changed:
            reasons.append("roster change")
        else:
            reasons.append("configuration change (targets, plan, thresholds or milestone acceptance)")
    return "; ".join(reasons)


def restatements(frozen: dict, m: EngagementMetrics, key_salt: bytes | None = None) -> pd.DataFrame:
    """Rows of a frozen week whose recomputed value differs: old, new and why. Empty when nothing differs.
    With the DB's salt a change of person counts as a re-attribution; without it, a change of side only."""
    week = int(frozen["week"])
    now = {_key(r): r for r in week_figures(m, week, key_salt)}
    if key_salt is None:  # compare sides only (an id naming a person's id names "person", as stable_row does)
        frozen = {**frozen, "figures": [{**f, "items": {privacy.PSEUDONYM_IN.sub("person", k): {**v, "person": None}
                                                        for k, v in f.get("items", {}).items()}}
                                        for f in frozen["figures"]]}
    roster_changed = frozen["roster_sha256"] != roster_digest(m)
    rows = []
    for old in frozen["figures"]:
        new = now.pop(_key(old), None)
        new_value = None if new is None else new["value"]
        if not _same(old["value"], new_value):
            rows.append({**{k: old.get(k) for k in KEY_FIELDS}, "old": old["value"], "new": new_value,
                         "why": _why(old, new, roster_changed)})
    for new in now.values():  # rows the frozen week did not have (a KPI or source added since)
        if new["value"] is not None:
            rows.append({**{k: new.get(k) for k in KEY_FIELDS}, "old": None, "new": new["value"],
                         "why": "new data collected (not in the frozen review)"})
    return pd.DataFrame(rows, columns=RESTATED_COLUMNS, dtype=object)
