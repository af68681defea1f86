"""The weekly review (SPEC §7), as plain data: what the review page shows and the steering pack exports.

Generic over the KPIs present in the weekly row contract: every engagement-wide KPI row of the week becomes a
card (value, target status, change from the previous week, unattributed share of its events); the ladder
comes from `ladder_stage` rows; milestones from metrics.milestones/acceptance; data freshness from the
collection runs. A frozen week shows its frozen figures and any restatement beside the recomputed ones.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Engine

from db import privacy, review_store
from engagement.weeks import week_label
from metrics.acceptance import acceptance_table
from metrics.engagement import EngagementMetrics
from metrics.milestones import milestone_states
from metrics.registry import METRICS
from metrics.snapshots import restatements, snapshot

# KPIs where a smaller value is better (their target is a ceiling); every other KPI's target is a floor.
LOWER_IS_BETTER = {"time_to_retrain"}
PERCENT_SUFFIXES = ("_share", "_compliance", "_coverage", "_completion", "_outcome")
CARD_COLUMNS = ["kpi", "label", "value", "shown", "target", "target_status", "previous", "change", "internal",
                "vendor", "unattributed", "bots", "unattributed_share"]


def is_percent(kpi: str) -> bool:
    spec = METRICS.get(kpi)
    return spec.percent if spec else kpi.endswith(PERCENT_SUFFIXES)


def label_of(kpi: str) -> str:
    spec = METRICS.get(kpi)
    return spec.label if spec else kpi.replace("_", " ").capitalize()


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def show(kpi: str, value) -> str:
    if _missing(value):
        return "–"
    if is_percent(kpi):
        return f"{value:.0%}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def show_change(kpi: str, change) -> str | None:
    if _missing(change):
        return None
    return f"{change * 100:+.1f} pp" if is_percent(kpi) else f"{change:+g}"


def target_status(kpi: str, value, target) -> str:
    if target is None:
        return "no target"
    if _missing(value):
        return "no data"
    if kpi in LOWER_IS_BETTER:
        return "met" if value <= target else "not met"
    return "met" if value >= target else "not met"


def show_target(kpi: str, target) -> str:
    if target is None:
        return "none set"
    return ("≤ " if kpi in LOWER_IS_BETTER else "≥ ") + show(kpi, target)


def _overall(weekly: pd.DataFrame) -> pd.DataFrame:
    rows = weekly[weekly["capability"].isna() & (weekly["kpi"] != "ladder_stage")]
    if "runbook" in rows:
        rows = rows[rows["runbook"].isna()]
    return rows


def kpi_cards(m: EngagementMetrics, week: int) -> pd.DataFrame:
    """One card per engagement-wide KPI present in the week (in the order the KPIs first appear)."""
    overall = _overall(m.weekly)
    earlier = [w for w in m.weeks if w < week]
    prev_week = earlier[-1] if earlier else None
    cards = []
    for kpi in dict.fromkeys(overall["kpi"]):
        rows = overall[overall["kpi"] == kpi].set_index("week")
        if week not in rows.index:
            continue
        row = rows.loc[week]
        value = None if _missing(row["value"]) else float(row["value"])
        previous = None
        if prev_week is not None and prev_week in rows.index and not _missing(rows.loc[prev_week, "value"]):
            previous = float(rows.loc[prev_week, "value"])
        counts = {k: int(row[k]) if k in row and not _missing(row[k]) else 0
                  for k in ("internal", "vendor", "unattributed", "bots")}
        total = sum(counts.values())
        target = m.cfg.target(kpi)
        cards.append({
            "kpi": kpi, "label": label_of(kpi), "value": value, "shown": show(kpi, value), "target": target,
            "target_status": target_status(kpi, value, target), "previous": previous,
            "change": None if value is None or previous is None else value - previous, **counts,
            "unattributed_share": counts["unattributed"] / total if total else 0.0,
        })
    return pd.DataFrame(cards, columns=CARD_COLUMNS)


def ladder_week(m: EngagementMetrics, week: int) -> pd.DataFrame:
    """Planned vs measured stage per capability in the week."""
    rows = m.ladder[m.ladder["week"] == week]
    return pd.DataFrame({
        "capability": rows["capability"].to_numpy(),
        "planned": rows["planned"].astype("Int64").to_numpy(),
        "measured": rows["stage"].astype("Int64").to_numpy(),
        "behind plan": rows["behind"].to_numpy(),
        "internal": rows["internal"].to_numpy(), "vendor": rows["vendor"].to_numpy(),
    })


MILESTONE_COLUMNS = ["milestone", "title", "due_week", "state", "met_week", "due", "accepted", "signatures",
                     "evidence_changed"]


def milestone_board(engine: Engine, m: EngagementMetrics, week: int) -> pd.DataFrame:
    """Each milestone in the week: state, week first met, due now (this or next week), accepted (two keys),
    the standing signatures, and whether evidence changed since signing."""
    states = milestone_states(m)
    states = states[states["week"] == week].set_index("milestone")
    accept = acceptance_table(engine, m).set_index("milestone")
    rows = []
    for ms in m.cfg.milestones:
        state = states.loc[ms.id] if ms.id in states.index else None
        acc = accept.loc[ms.id]
        rows.append({
            "milestone": ms.id, "title": ms.title, "due_week": ms.due_week,
            "state": state["state"] if state is not None else "pending",
            "met_week": None if state is None or _missing(state["met_week"]) else int(state["met_week"]),
            "due": week <= ms.due_week <= week + 1, "accepted": bool(acc["accepted"]),
            "signatures": len(acc["signatures"]), "evidence_changed": bool(acc["evidence_changed"]),
        })
    return pd.DataFrame(rows, columns=MILESTONE_COLUMNS).astype({"met_week": "Int64"})


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
    freshness: pd.DataFrame
    frozen: dict | None  # the snapshot row (frozen_at, frozen_by, verified, evidence_sha256, figures)
    restated: pd.DataFrame  # old, new, why per restated row; empty when not frozen or nothing differs
    generated_at: dt.datetime

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
    return Review(m.cfg.engagement.name, week, week_label(week, m.cfg.engagement.start), kpi_cards(m, week),
                  ladder_week(m, week), milestone_board(engine, m, week), freshness(engine), frozen, restated,
                  now or dt.datetime.now(dt.UTC))
