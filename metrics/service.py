"""The one place that loads and computes an engagement's metrics (issue 10 §2): the CLI (`python -m metrics`), the
pages (pages/_shared/data.py) and the steering pack call only this module to get numbers and their rows.

- `open_engagement(config, db)` -> (cfg, engine): the engagement file (validated against the KPI registry and the
  criterion metrics) and its database.
- `engagement_metrics(cfg, engine, repos)` -> `EngagementMetrics`: reads the source frames, takes the milestones
  accepted by two keys so far (they feed the ladder's stage 4, SPEC §6) and computes every registered KPI.
- `evidence(m, kpi, week, capability)` -> the rows behind one weekly value (the same rows every KPI card, ladder
  cell and milestone criterion opens); `reconcile(...)` says whether they add up to the row.
- `catalogue()` -> the registry as a table (`python -m metrics kpis`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

import pandas as pd
from sqlalchemy.engine import Engine

from engagement.config import EngagementConfig
from engagement.errors import UserError
from metrics.engagement import EngagementMetrics, SourceData, compute
from metrics.kpis import REGISTRY, kpi
from metrics.kpis.base import EVIDENCE_COLUMNS, SIDE_OF_COUNT, missing

EVIDENCE_SIDES = ("internal", "vendor", "unattributed", "bot")


def open_engagement(config_path, db_url: str | None = None) -> tuple[EngagementConfig, Engine]:
    """The validated engagement file and its database (--db, else $BATON_DB_URL, else baton.db beside the file)."""
    from db.engine import make_engine, resolve_db_url
    from metrics.engagement_file import load_engagement

    cfg = load_engagement(config_path)
    return cfg, make_engine(resolve_db_url(db_url, cfg.file))


def accepted_milestones(cfg: EngagementConfig, engine: Engine) -> frozenset[str]:
    """Milestones accepted by two keys (SPEC §7), as the signatures stand now."""
    from metrics.acceptance import accepted_milestones as accepted

    return frozenset(accepted(engine, cfg))


def engagement_metrics(cfg: EngagementConfig, engine: Engine, repos: Sequence[str] | None = None, *,
                       accepted: Collection[str] | None = None, today: dt.datetime | None = None) -> EngagementMetrics:
    """Load the frames (of `repos` only, when given), and compute with the accepted milestones."""
    from db.queries import load_source_frames

    data = SourceData(**load_source_frames(engine, list(repos) if repos else None))
    if accepted is None:
        accepted = accepted_milestones(cfg, engine)
    return compute(cfg, data, accepted_milestones=accepted, today=today)


def load(config_path, db_url: str | None = None, repos: Sequence[str] | None = None
         ) -> tuple[EngagementConfig, Engine, EngagementMetrics]:
    """open_engagement + engagement_metrics: what a command needs."""
    cfg, engine = open_engagement(config_path, db_url)
    return cfg, engine, engagement_metrics(cfg, engine, repos)


# --------------------------------------------------------------------------------------------------------
# Evidence and its reconciliation with the weekly rows
# --------------------------------------------------------------------------------------------------------

def check_scope(m: EngagementMetrics, key: str, week: int, capability: str | None) -> None:
    """UserError (one line) when the KPI, week or capability is not one the engagement has."""
    if key not in REGISTRY:
        raise UserError(f"--kpi: unknown KPI {key!r}: expected one of {', '.join(REGISTRY)}")
    if week not in m.weeks:
        raise UserError(f"--week: week {week} is not an engagement week (weeks: {m.weeks[0]}..{m.weeks[-1]})"
                        if m.weeks else f"--week: week {week}: the engagement has no weeks yet")
    if capability is not None and capability not in m.cfg.capability_keys:
        raise UserError(f"--capability: unknown capability {capability!r}: expected one of "
                        f"{', '.join(m.cfg.capability_keys)}")
    if capability is not None and not REGISTRY[key].capabilities:
        raise UserError(f"--capability: {key} has no per-capability rows (engagement-wide only)")
    if capability is None and REGISTRY[key].required >= {"capability"}:
        raise UserError(f"--capability: {key} is per capability: name one of {', '.join(m.cfg.capability_keys)}")


def evidence(m: EngagementMetrics, key: str, week: int, capability: str | None = None) -> pd.DataFrame:
    """The rows behind the weekly value of `key` in `week` for `capability` (None = engagement-wide), with
    `counted` false for rows shown but outside the value (EVIDENCE_COLUMNS first, KPI-specific columns after)."""
    rows = kpi(key).evidence(m.facts, int(week), capability)
    return rows.reset_index(drop=True)


def reconcile(m: EngagementMetrics, key: str, week: int, capability: str | None = None) -> list[str]:
    """Differences between a weekly row and its counted evidence rows (empty when they agree): per side, the
    number of counted rows (their summed `count` for a weighted spec); and where the row sets `n`, the sum of the
    counted rows' `count` — or, for a spec with its own `reconcile`, the value and `n` it recomputes."""
    row = m.kpi_row(key, week, capability)
    rows = evidence(m, key, week, capability)
    counted = rows[rows["counted"].astype(bool)]
    problems = []
    where = f"{key} week {week} {capability or 'all'}"
    spec = kpi(key)
    for column, side in SIDE_OF_COUNT.items():
        want = 0 if row is None else int(row[column])
        mine = counted["side"] == side
        got = int(counted.loc[mine, "count"].sum()) if spec.weighted else int(mine.sum())
        if want != got:
            problems.append(f"{where}: {column} is {want}, counted {side} evidence "
                            f"{'units' if spec.weighted else 'rows'} {got}")
    if spec.reconcile is not None:
        problems.extend(f"{where}: {p}" for p in (spec.reconcile(row, rows) if row is not None else []))
    elif row is not None and "n" in row and not missing(row["n"]):
        total = int(counted["count"].sum())
        if total != int(row["n"]):
            problems.append(f"{where}: n is {int(row['n'])}, counted evidence adds up to {total}")
    unknown = set(counted["side"].dropna()) - set(EVIDENCE_SIDES)
    if unknown:
        problems.append(f"{where}: counted rows with an unknown side {sorted(unknown)}")
    return problems


# --------------------------------------------------------------------------------------------------------
# The registry as a table
# --------------------------------------------------------------------------------------------------------

CATALOGUE_COLUMNS = ["key", "label", "unit", "direction", "default_target", "per_capability", "chart", "page",
                     "doc", "definition"]


def catalogue() -> pd.DataFrame:
    """One row per registered KPI, in registry order."""
    return pd.DataFrame([{
        "key": s.key, "label": s.label, "unit": s.unit + (f" ({s.noun})" if s.noun else ""),
        "direction": f"{s.direction} is better", "default_target": s.default_target,
        "per_capability": s.capabilities, "chart": s.chart, "page": s.page, "doc": s.doc,
        "definition": s.definition} for s in REGISTRY.values()], columns=CATALOGUE_COLUMNS)


__all__ = ["EVIDENCE_COLUMNS", "accepted_milestones", "catalogue", "check_scope", "engagement_metrics", "evidence",
           "load", "open_engagement", "reconcile"]
