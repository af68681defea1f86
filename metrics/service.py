"""The one place that loads and computes an engagement's metrics (issue 10 §2): the CLI (`python -m metrics`), the
pages (pages/_shared/data.py) and the steering pack call only this module to get numbers and their rows.

- `open_engagement(config, db)` -> (cfg, engine): the engagement file (validated against the KPI registry and the
  criterion metrics) and its database.
- `engagement_metrics(cfg, engine, repos)` -> `EngagementMetrics`: reads the source frames, takes the milestones
  accepted by two keys so far (they feed the ladder's stage 4, SPEC §6) and computes every registered KPI on the
  roster the stored data needs (`db.privacy.effective_config`: purged people as pseudonyms, SPEC §9).
- `evidence(m, kpi, week, capability)` -> the rows behind one weekly value (the same rows every KPI card, ladder
  cell and milestone criterion opens); `reconcile(...)` says whether they add up to the row.
- `catalogue()` -> the registry as a table (`python -m metrics kpis`).

Computed metrics are cached on disk (metrics/cache.py, issue 11) per (data version of the database, engagement
file hash, filters: repos + accepted milestones, the engagement-local date, code version), so the CLI, a fresh
server and every page reuse one computation. A cached result's `facts` (the attributed frames the evidence
reads) load from the database on first use only. `BATON_METRICS_CACHE=off` computes every time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
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
                       accepted: Collection[str] | None = None, today: dt.datetime | None = None,
                       use_cache: bool = True) -> EngagementMetrics:
    """Load the frames (of `repos` only, when given), and compute with the accepted milestones, on the roster the
    stored data needs (purged people under their pseudonym, pseudonymised identities: db.privacy); through the
    disk cache (see the module docstring) unless `use_cache` is false. The effective roster is part of the cache
    key, so a purge never serves figures or evidence computed before it."""
    from db.privacy import effective_config

    if accepted is None:
        accepted = accepted_milestones(cfg, engine)
    accepted = frozenset(accepted)
    cfg = effective_config(cfg, engine)
    entry = _cache_entry(cfg, engine, repos, accepted, today) if use_cache else None
    if entry is not None:
        cached = _load_cached(cfg, engine, repos, accepted, today, *entry)
        if cached is not None:
            return cached
    m = compute(cfg, _source_data(engine, repos), accepted_milestones=accepted, today=today)
    if entry is not None:
        _store_cached(m, *entry)
    return m


def _source_data(engine: Engine, repos: Sequence[str] | None) -> SourceData:
    from db.queries import load_source_frames

    return SourceData(**load_source_frames(engine, list(repos) if repos else None))


# --------------------------------------------------------------------------------------------------------
# The disk cache of computed metrics (metrics/cache.py)
# --------------------------------------------------------------------------------------------------------

_FRAMES = ("commits", "commit_caps", "commit_share", "ladder", "weekly", "runbook_executions", "drills")
_FACTS_FRAMES = ("commits", "commit_caps", "ladder", "runbook_executions", "drills")  # Facts properties of _FRAMES
# Facts properties compute() builds on the way (the readiness KPIs) that the review, the pack and the Readiness page
# read again: stored beside the entry (a separate one, so a frame Parquet cannot hold costs only itself).
_FACTS_EXTRA = ("handover_items", "operation_table")
CACHE_ENV = "BATON_METRICS_CACHE"


def _cache_entry(cfg: EngagementConfig, engine: Engine, repos: Sequence[str] | None, accepted: frozenset[str],
                 today: dt.datetime | None) -> tuple[str, str] | None:
    """(folder, key) of the cache entry for this computation, or None when it cannot be cached."""
    if cfg.file is None or os.environ.get(CACHE_ENV, "").lower() in ("0", "off", "no", "false"):
        return None
    from zoneinfo import ZoneInfo

    from db.reads import data_version
    from engagement.cachedir import cache_dir
    from metrics import cache

    try:
        when = today or dt.datetime.now(dt.UTC)
        as_of = when.astimezone(ZoneInfo(cfg.engagement.timezone)).date().isoformat() if today is None else \
            when.isoformat()
        key = cache.cache_key(data_version(engine), cache.engagement_hash(cfg.file),
                              {"repos": sorted(repos or []), "accepted": sorted(accepted),
                               "roster": [p.model_dump(mode="json") for p in cfg.people]}, as_of,
                              cache.code_version())
    except OSError:
        return None
    return str(cache_dir(cfg.file)), key


class _LazyFacts:
    """The `facts` of a cached result: built (frames read, attributed) on first use only. Pickles as what
    rebuilds it (Streamlit's cache copies results by pickling)."""

    def __init__(self, cfg: EngagementConfig, engine: Engine | None, url: str, repos, accepted, today,
                 known: dict | None = None):
        self._args = (cfg, url, tuple(repos or ()), frozenset(accepted), today)
        self._engine = engine
        self._real = None
        self._known = known or {}  # Facts properties the cache already holds: not computed again

    def _facts(self):
        if self._real is None:
            from metrics.facts import Facts

            cfg, url, repos, accepted, today = self._args
            if self._engine is None:
                from db.engine import make_engine

                self._engine = make_engine(url, migrate=False)
            real = Facts(cfg, _source_data(self._engine, repos or None), accepted, today)
            real.__dict__.update(self._known)  # what a functools.cached_property stores once computed
            self._real = real
        return self._real

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._facts(), name)

    def __reduce__(self):
        if self._real is not None:
            return (_identity, (self._real,))
        return (_LazyFacts, (self._args[0], None, *self._args[1:]))


def _identity(value):
    return value


def _store_cached(m: EngagementMetrics, folder: str, key: str) -> None:
    from metrics import cache

    frames = {f"m.{name}": getattr(m, name) for name in _FRAMES}
    meta = {"weeks": [int(w) for w in m.weeks], "github": None}
    if m.github is not None:
        meta["github"] = {}
        for f in dataclasses.fields(m.github):
            value = getattr(m.github, f.name)
            if isinstance(value, pd.DataFrame):
                frames[f"github.{f.name}"] = value
            elif isinstance(value, str | int | float | bool) or value is None:
                meta["github"][f.name] = value
            else:
                return  # a field this cache does not know how to store: compute next time too
    frames["meta"] = pd.DataFrame({"json": [json.dumps(meta)]})
    if cache.store_frames(folder, key, frames):
        built = getattr(m.facts, "__dict__", {})
        extra = {name: built[name] for name in _FACTS_EXTRA if isinstance(built.get(name), pd.DataFrame)}
        if extra:
            cache.store_frames(folder, f"{key}-facts", extra)
        cache.prune(folder, keep=40)  # an entry and its "-facts" beside it


def _load_cached(cfg: EngagementConfig, engine: Engine, repos, accepted: frozenset[str], today,
                 folder: str, key: str) -> EngagementMetrics | None:
    from metrics import cache
    from metrics.github_kpis import GitHubMetrics

    frames = cache.load_frames(folder, key)
    if frames is None:
        return None
    try:
        meta = json.loads(frames["meta"]["json"].iloc[0])
        github = None
        if meta["github"] is not None:
            values = {f.name: frames[f"github.{f.name}"] if f"github.{f.name}" in frames else meta["github"][f.name]
                      for f in dataclasses.fields(GitHubMetrics)}
            github = GitHubMetrics(**values)
        url = engine.url.render_as_string(hide_password=False)
        stored = {name: frames[f"m.{name}"] for name in _FRAMES}
        # compute() takes these from its Facts (the same objects): the facts built for evidence start from them
        known = {name: stored[name] for name in _FACTS_FRAMES}
        known.update(cache.load_frames(folder, f"{key}-facts") or {})
        if github is not None:
            known["github"] = github
        return EngagementMetrics(cfg=cfg, weeks=list(meta["weeks"]), github=github, accepted=accepted,
                                 facts=_LazyFacts(cfg, engine, url, repos, accepted, today, known), **stored)
    except (KeyError, ValueError, TypeError):
        return None


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
