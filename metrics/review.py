"""The weekly review (SPEC §7), as plain data: what the review page shows and the steering pack exports.

Generic over the registry (metrics.kpis): every registered engagement-wide KPI becomes a card whose label,
formatted value, target, direction and change come from its `KpiSpec`, never from its key. On a frozen week the
card shows the frozen value and, when recomputation differs, the recomputed one beside it marked restated.
The ladder shows stage names; milestones their state (met, late, at risk, pending, missed), the standing
signatures with the sha256 digest each one covers; drills the week's drills with severity, SLA, restore time,
responder side and postmortem; data freshness comes from the collection runs.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy.engine import Engine

from db import privacy, review_store
from engagement.weeks import week_label
from metrics.acceptance import acceptance_table, standing_signatures
from metrics.engagement import EngagementMetrics
from metrics.kpis import REGISTRY, target
from metrics.kpis.base import (
    STAGE_NAMES,
    change_is_good,
    format_change,
    format_target,
    format_value,
    target_status,
)
from metrics.milestones import milestone_states
from metrics.snapshots import restatements, snapshot

CARD_COLUMNS = ["kpi", "label", "unit", "direction", "week", "value", "shown", "target", "target_shown",
                "target_status", "previous", "change", "change_shown", "change_good", "internal", "vendor",
                "unattributed", "bots", "unattributed_share", "n", "page", "definition", "recomputed",
                "recomputed_shown", "restated"]


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def stage_name(value) -> str:
    """ "2 Internal leads, vendor reviews"; "–" when there is no stage."""
    return "–" if _missing(value) else f"{int(value)} {STAGE_NAMES[int(value)]}"


def card_specs():
    """The KPIs that get a card: every registered KPI with an engagement-wide value (not the ladder)."""
    return [s for s in REGISTRY.values() if s.unit != "stage"]


def _frozen_values(frozen: dict | None) -> dict[str, float | None]:
    if not frozen:
        return {}
    return {f["kpi"]: f["value"] for f in frozen["figures"] if f.get("capability") is None}


def kpi_cards(m: EngagementMetrics, week: int, frozen: dict | None = None, carry_forward: bool = False
              ) -> pd.DataFrame:
    """One card per registered engagement-wide KPI that has rows (registry order).

    The value is the week's; with `carry_forward` (the scorecard) a week without a value shows the latest earlier
    value and names its week. Change = value − the previous week's value. With `frozen` (a snapshot), the card
    value is the frozen one and `recomputed`/`restated` say what recomputation gives now."""
    overall = m.weekly[m.weekly["capability"].isna()]
    earlier = [w for w in m.weeks if w < week]
    frozen_values = _frozen_values(frozen)
    cards = []
    for spec in card_specs():
        rows = overall[overall["kpi"] == spec.key].set_index("week")
        if rows.empty:
            continue
        shown_week = week
        if carry_forward:
            with_value = [int(w) for w in rows.index[rows["value"].notna()] if w <= week]
            shown_week = with_value[-1] if with_value else week
        if shown_week not in rows.index:
            continue
        row = rows.loc[shown_week]
        value = None if _missing(row["value"]) else float(row["value"])
        prev_week = ([w for w in m.weeks if w < shown_week] or [None])[-1] if carry_forward else (
            earlier[-1] if earlier else None)
        previous = None
        if prev_week is not None and prev_week in rows.index and not _missing(rows.loc[prev_week, "value"]):
            previous = float(rows.loc[prev_week, "value"])
        recomputed, restated = value, False
        if spec.key in frozen_values:
            old = frozen_values[spec.key]
            value = None if old is None else float(old)
            restated = not (value is None and recomputed is None) and (
                value is None or recomputed is None or not math.isclose(value, recomputed, rel_tol=1e-9,
                                                                        abs_tol=1e-12))
        counts = {k: int(row[k]) for k in ("internal", "vendor", "unattributed", "bots")}
        total = sum(counts.values())
        goal = target(m.cfg, spec.key)
        change = None if value is None or previous is None else value - previous
        cards.append({
            "kpi": spec.key, "label": spec.label, "unit": spec.unit, "direction": spec.direction, "week": shown_week,
            "value": value, "shown": format_value(spec, value), "target": goal,
            "target_shown": format_target(spec, goal),
            "target_status": target_status(spec, value, goal), "previous": previous, "change": change,
            "change_shown": format_change(spec, change), "change_good": change_is_good(spec, change), **counts,
            "unattributed_share": counts["unattributed"] / total if total else 0.0,
            "n": None if _missing(row.get("n")) else int(row["n"]), "page": spec.page, "definition": spec.definition,
            "recomputed": recomputed, "recomputed_shown": format_value(spec, recomputed), "restated": restated,
        })
    frame = pd.DataFrame(cards, columns=CARD_COLUMNS)
    return frame.astype(object).where(frame.notna(), None)  # "no value" is None everywhere, never NaN


LADDER_COLUMNS = ["capability", "planned", "measured", "behind plan", "internal", "vendor", "unattributed", "bots"]


def ladder_week(m: EngagementMetrics, week: int) -> pd.DataFrame:
    """Planned vs measured stage (with its name) per capability in the week, and the side counts behind it."""
    rows = m.ladder[m.ladder["week"] == week]
    return pd.DataFrame({
        "capability": rows["capability"].to_numpy(),
        "planned": [stage_name(v) for v in rows["planned"]],
        "measured": [stage_name(v) if not _missing(v) else "– no activity" for v in rows["stage"]],
        "behind plan": rows["behind"].to_numpy(dtype=bool),
        "internal": rows["internal"].to_numpy(), "vendor": rows["vendor"].to_numpy(),
        "unattributed": rows["unattributed"].to_numpy(), "bots": rows["bots"].to_numpy(),
    }, columns=LADDER_COLUMNS)


def behind_plan(m: EngagementMetrics, week: int) -> pd.DataFrame:
    """The ladder cells of the week whose measured stage is below plan."""
    board = ladder_week(m, week)
    return board[board["behind plan"]].reset_index(drop=True)


MILESTONE_COLUMNS = ["milestone", "title", "capability", "due_week", "state", "late", "met_week", "due", "accepted",
                     "signatures", "evidence_changed"]
# What the page and the pack call the columns (the frames keep their keys for code and CSV).
MILESTONE_LABELS = {"milestone": "Milestone", "title": "Title", "capability": "Capability", "due_week": "Due week",
                    "state": "State", "late": "Late", "met_week": "Met in week", "due": "Due now",
                    "accepted": "Accepted (two keys)", "signatures": "Signatures",
                    "evidence_changed": "Evidence changed since signing"}
LADDER_LABELS = {"capability": "Capability", "planned": "Planned stage", "measured": "Measured stage",
                 "behind plan": "Behind plan", "internal": "Internal items", "vendor": "Vendor items",
                 "unattributed": "Unattributed items", "bots": "Bot items"}


def milestone_state_text(state: str, late: bool) -> str:
    return "met (late)" if state == "met" and late else state


def milestone_board(engine: Engine, m: EngagementMetrics, week: int) -> pd.DataFrame:
    """Each milestone in the week: state (met, at risk, pending, missed), late (met after its due week), week
    first met, due now (this or next week), accepted (two keys), standing signatures, evidence changed."""
    states = milestone_states(m)
    states = states[states["week"] == week].set_index("milestone") if len(states) else states
    accept = acceptance_table(engine, m).set_index("milestone")
    rows = []
    for ms in m.cfg.milestones:
        state = states.loc[ms.id] if ms.id in states.index else None
        acc = accept.loc[ms.id]
        rows.append({
            "milestone": ms.id, "title": ms.title, "capability": ms.capability, "due_week": ms.due_week,
            "state": state["state"] if state is not None else "pending",
            "late": bool(state is not None and state["late"]),
            "met_week": None if state is None or _missing(state["met_week"]) else int(state["met_week"]),
            "due": week <= ms.due_week <= week + 1, "accepted": bool(acc["accepted"]),
            "signatures": len(acc["signatures"]), "evidence_changed": bool(acc["evidence_changed"]),
        })
    return pd.DataFrame(rows, columns=MILESTONE_COLUMNS).astype({"met_week": "Int64"})


def milestones_due_or_at_risk(board: pd.DataFrame) -> pd.DataFrame:
    """Milestones due this or next week and not met, or at risk, or missed (what a committee must act on)."""
    if board.empty:
        return board
    return board[(board["due"] & (board["state"] != "met")) | board["state"].isin(["at risk", "missed"])]


SIGNATURE_COLUMNS = ["milestone", "signer", "side", "verified", "signed_at", "met_week", "comment", "digest",
                     "digest_short"]


def signature_table(engine: Engine, m: EngagementMetrics) -> pd.DataFrame:
    """Standing signatures: who, side, when, and the sha256 of the evidence each one covers (short and full)."""
    standing = standing_signatures(review_store.load_signatures(engine, m.cfg.engagement.id))
    configured = [ms.id for ms in m.cfg.milestones]
    standing = standing[standing["milestone"].isin(configured)]
    return pd.DataFrame({
        "milestone": standing["milestone"].to_numpy(), "signer": standing["signer"].to_numpy(),
        "side": standing["side"].to_numpy(), "verified": standing["verified"].astype(bool).to_numpy(),
        "signed_at": standing["signed_at"].to_numpy(), "met_week": standing["met_week"].to_numpy(),
        "comment": standing["comment"].to_numpy(), "digest": standing["evidence_sha256"].to_numpy(),
        "digest_short": standing["evidence_sha256"].str[:12].to_numpy(),
    }, columns=SIGNATURE_COLUMNS)


DRILL_COLUMNS = ["drill", "title", "severity", "sla", "restore", "within_sla", "responder", "responder_side",
                 "postmortem", "outcome", "url"]
DRILL_LABELS = {"drill": "Drill", "title": "Name", "severity": "Severity", "sla": "SLA", "restore": "Time to restore",
                "within_sla": "Within SLA", "responder": "Primary responder", "responder_side": "Responder side",
                "postmortem": "Postmortem", "outcome": "Outcome", "url": "Link"}


def _duration(minutes) -> str:
    if _missing(minutes):
        return "–"
    minutes = float(minutes)
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def drills_week(m: EngagementMetrics, week: int) -> pd.DataFrame:
    """The drills of the week: restored in it, or open at its end (created by then, not restored by then)."""
    drills = m.drills
    if drills is None or drills.empty:
        return pd.DataFrame(columns=DRILL_COLUMNS)
    created_week = m.facts.week_series(drills["created_at"]) if m.facts is not None else None
    restored = drills["restored_week"] == week
    still_open = (created_week <= week) & (drills["restored_week"].isna() | (drills["restored_week"] > week))
    rows = drills[restored | still_open].sort_values(["created_at", "key"])
    outcome = []
    for r in rows.itertuples():
        if _missing(r.restored_week) or r.restored_week > week:
            outcome.append("open")
        else:
            outcome.append("internal pass" if r.internal_pass else "pass" if r.passed else "fail")
    return pd.DataFrame({
        "drill": rows["key"].to_numpy(), "title": rows["title"].to_numpy(),
        "severity": rows["severity"].fillna("none").to_numpy(),
        "sla": [_duration(v) for v in rows["sla_minutes"]],
        "restore": [_duration(v) if o != "open" else "not restored" for v, o in zip(rows["minutes_to_restore"],
                                                                                   outcome, strict=True)],
        "within_sla": rows["within_sla"].astype(bool).to_numpy(),
        "responder": rows["responder_person"].fillna(rows["responder"]).to_numpy(),
        "responder_side": rows["responder_side"].to_numpy(),
        "postmortem": rows["postmortem"].fillna("none").to_numpy(), "outcome": outcome,
        "url": rows["url"].to_numpy(),
    }, columns=DRILL_COLUMNS)


def freshness(engine: Engine) -> pd.DataFrame:
    """Last successful collection per source (UTC), and the status of its latest run."""
    return review_store.last_collections(engine)


@dataclass(frozen=True)
class Review:
    """Everything on the weekly review page for one week."""

    engagement: str
    week: int
    week_dates: str
    cards: pd.DataFrame
    ladder: pd.DataFrame
    milestones: pd.DataFrame
    signatures: pd.DataFrame
    drills: pd.DataFrame
    freshness: pd.DataFrame
    frozen: dict | None  # the snapshot row (frozen_at, frozen_by, verified, evidence_sha256, figures)
    restated: pd.DataFrame  # old, new, why per restated row; empty when not frozen or nothing differs
    generated_at: dt.datetime
    # Handover readiness (SPEC §10, metrics/readiness.py): per capability exit readiness, bus factor, line share,
    # takeover; the operations not covered with the last vendor to do them; planned vs actual RACI.
    readiness: pd.DataFrame = field(default_factory=pd.DataFrame)
    uncovered: pd.DataFrame = field(default_factory=pd.DataFrame)
    raci: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def frozen_label(self) -> str:
        if not self.frozen:
            return f"Week {self.week} is not frozen: figures are recomputed from the current data."
        by = self.frozen["frozen_by"] + ("" if self.frozen["verified"] else " (unverified)")
        text = f"Week {self.week} frozen on {self.frozen['frozen_at']:%Y-%m-%d %H:%M} UTC by {by}"
        return text + (f"; {len(self.restated)} figure(s) restated since." if len(self.restated) else
                       "; no figure restated since.")


def weekly_review(engine: Engine, m: EngagementMetrics, week: int, now: dt.datetime | None = None) -> Review:
    frozen = snapshot(engine, m.cfg.engagement.id, week)
    restated = (restatements(frozen, m, privacy.salt(engine)) if frozen else
                pd.DataFrame(columns=["kpi", "capability", "runbook", "old", "new", "why"]))
    from metrics.readiness import raci_board, readiness_board, uncovered_operations

    return Review(m.cfg.engagement.name, week, week_label(week, m.cfg.engagement.start), kpi_cards(m, week, frozen),
                  ladder_week(m, week), milestone_board(engine, m, week), signature_table(engine, m),
                  drills_week(m, week), freshness(engine), frozen, restated, now or dt.datetime.now(dt.UTC),
                  readiness_board(m, week), uncovered_operations(m, week), raci_board(m, week))


@dataclass(frozen=True)
class Scorecard:
    """The Overview (issue 10 §4): what a steering committee reads in 30 seconds."""

    week: int
    week_dates: str
    cards: pd.DataFrame  # every KPI's latest value vs target, change from the week before
    behind: pd.DataFrame  # ladder cells of the week behind plan
    milestones: pd.DataFrame  # due (this or next week) and not met, at risk, or missed


def scorecard(engine: Engine, m: EngagementMetrics, week: int) -> Scorecard:
    board = milestone_board(engine, m, week)
    return Scorecard(week, week_label(week, m.cfg.engagement.start), kpi_cards(m, week, carry_forward=True),
                     behind_plan(m, week), milestones_due_or_at_risk(board))
