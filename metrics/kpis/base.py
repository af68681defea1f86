"""`KpiSpec`: everything Baton knows about one KPI, declared once (issue 10; SPEC §5–§7).

A KPI is one frozen `KpiSpec` in its own module (metrics/kpis/<key>.py) and one line of the registry
(metrics/kpis/__init__.py). Every place that shows, exports, checks or freezes a KPI reads the spec:
the weekly row contract (`unit` column), review cards and the scorecard (label, formatted value, target,
direction, change), the steering pack, snapshots, milestone criteria (value and evidence), engagement-file
validation (`[targets]` keys) and the pages (chart kind, detail page). Nothing branches on a KPI's key.

Pure: a spec's functions take `metrics.facts.Facts` (the attributed frames) and return frames.

- `compute(facts)` -> the KPI's weekly rows: `week`, `capability` (None = engagement-wide), the side counts
  `internal`, `vendor`, `unattributed`, `bots`, `value`, and any of `n`, `p90`, `scheduled` or KPI-specific
  counts (they become columns of the row contract). An empty frame means "no rows" (source not collected).
- `evidence(facts, week, capability)` -> the rows behind that one value, in `EVIDENCE_COLUMNS` (extra columns
  allowed after them). Its **reconciliation contract**: the rows with `counted` true, grouped by `side`
  (internal, vendor, unattributed, bot), number exactly the row's `internal`, `vendor`, `unattributed`,
  `bots`; and, where the row sets `n`, the sum of their `count` equals `n`. Rows shown but outside the value
  (a scheduled run, an execution started but not completed that week) have `counted` false. A spec with
  `weighted=True` has rows that stand for `count` units each (a file's lines): the counted `count` summed by side
  equals the side counts. A spec whose value is not a count of its rows (exit readiness: covered operations; RACI
  drift: matched roles) gives `reconcile(row, evidence) -> problems`, which recomputes the value and `n` from the
  rows and replaces the `n` check.
- `activity(facts)` (optional) -> ladder items (SPEC §6) this KPI's source contributes: evidence rows plus
  `capability` and `week`. The ladder counts the union over all registered specs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import pandas as pd

from metrics.ladder import STAGE_NAMES  # noqa: F401 - re-exported: the stage names live with the ladder's rule

if TYPE_CHECKING:
    from metrics.facts import Facts

Unit = Literal["share", "count", "hours", "minutes", "stage"]
Direction = Literal["higher", "lower"]
Chart = Literal["share", "value", "value_p90", "ladder", "none"]
UNITS = ("share", "count", "hours", "minutes", "stage")

# The evidence row (issue 10 §3): kind (commit, pr, review, run, cycle, ticket, test, ...), id (stable within the
# kind), url (None where the source has none), at (ISO UTC), person (roster name, else the raw identity), side
# (internal, vendor, unattributed, bot; None for a row that has no side, e.g. a test file), counted, count (the
# units the row stands for: 1, or e.g. the tests in a file), title, repo.
EVIDENCE_COLUMNS = ["kind", "id", "url", "at", "person", "side", "counted", "count", "title", "repo"]
ACTIVITY_COLUMNS = ["capability", "week", *EVIDENCE_COLUMNS]
SIDE_OF_COUNT = {"internal": "internal", "vendor": "vendor", "unattributed": "unattributed", "bots": "bot"}

ComputeFn = Callable[["Facts"], pd.DataFrame]
EvidenceFn = Callable[["Facts", int, "str | None"], pd.DataFrame]
ActivityFn = Callable[["Facts"], pd.DataFrame]
ReconcileFn = Callable[[pd.Series, pd.DataFrame], list[str]]


@dataclass(frozen=True)
class KpiSpec:
    """One KPI (see the module docstring). `doc` is its section in docs/metrics.md (`## <key>`)."""

    key: str
    label: str  # human name: "Internal PR share"
    unit: Unit
    direction: Direction  # which way is better; the target is a floor (higher) or a ceiling (lower)
    definition: str  # one or two sentences: what is counted, shown under charts and by `kpis`
    compute: ComputeFn
    evidence: EvidenceFn
    default_target: float | None = None  # `[targets]` overrides it
    spec_section: str = "SPEC §5"
    noun: str = ""  # for unit "count": what is counted, plural ("tests")
    activity: ActivityFn | None = None
    chart: Chart = "share"
    capabilities: bool = True  # has per-capability rows
    filters: frozenset[str] = field(default_factory=lambda: frozenset({"capability", "side"}))  # criterion filters
    required: frozenset[str] = frozenset()  # filters a criterion over it must give
    page: str | None = None  # url path of its detail page
    weighted: bool = False  # evidence rows stand for `count` units each (see the module docstring)
    reconcile: ReconcileFn | None = None  # value and n recomputed from the evidence (see the module docstring)

    def __post_init__(self):
        if self.unit not in UNITS:
            raise ValueError(f"KpiSpec {self.key}: unit {self.unit!r} is not one of {', '.join(UNITS)}")
        if self.direction not in ("higher", "lower"):
            raise ValueError(f"KpiSpec {self.key}: direction must be 'higher' or 'lower'")

    @property
    def doc(self) -> str:
        return f"docs/metrics.md#{self.key}"

    @property
    def is_share(self) -> bool:
        return self.unit == "share"


# --------------------------------------------------------------------------------------------------------
# Formatting: one place, reading the spec (never the key)
# --------------------------------------------------------------------------------------------------------

def missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return isinstance(value, float | int) and math.isnan(value)
    except TypeError:
        return False


def _count(value: float, noun: str) -> str:
    number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{number} {noun}".strip()


def format_value(spec: KpiSpec, value) -> str:
    """A value with its unit: "45%", "23 tests", "3.0 h", "42 min", "stage 2"; "–" when there is none."""
    if missing(value):
        return "–"
    value = float(value)
    if spec.unit == "share":
        return f"{value:.0%}"
    if spec.unit == "hours":
        return f"{value:.1f} h"
    if spec.unit == "minutes":
        return f"{value:.0f} min"
    if spec.unit == "stage":
        return f"stage {value:.0f}"
    return _count(value, spec.noun)


def format_change(spec: KpiSpec, change) -> str | None:
    """Week-over-week change with its unit: "+5.0 pp", "+3 tests", "-1.5 h"; None when there is none."""
    if missing(change):
        return None
    change = float(change)
    if spec.unit == "share":
        return f"{change * 100:+.1f} pp"
    if spec.unit == "hours":
        return f"{change:+.1f} h"
    if spec.unit == "minutes":
        return f"{change:+.0f} min"
    if spec.unit == "stage":
        return f"{change:+.0f} stage"
    number = f"{change:+,.0f}" if change.is_integer() else f"{change:+,.1f}"
    return f"{number} {spec.noun}".strip()


def format_target(spec: KpiSpec, target) -> str:
    """ "≥ 50%" (higher is better) or "≤ 24.0 h" (lower is better); "no target" when none is set."""
    if missing(target):
        return "no target"
    return ("≥ " if spec.direction == "higher" else "≤ ") + format_value(spec, target)


def target_status(spec: KpiSpec, value, target) -> str:
    """met / not met / no target / no data, by the spec's direction."""
    if missing(target):
        return "no target"
    if missing(value):
        return "no data"
    ok = float(value) >= float(target) if spec.direction == "higher" else float(value) <= float(target)
    return "met" if ok else "not met"


def change_is_good(spec: KpiSpec, change) -> bool | None:
    """Whether a change moves the KPI the better way (a falling time to retrain is good); None when flat."""
    if missing(change) or float(change) == 0:
        return None
    return (float(change) > 0) == (spec.direction == "higher")


def axis_title(spec: KpiSpec) -> str:
    """The y-axis title of the KPI's chart."""
    return {"share": spec.label, "hours": f"{spec.label} (hours)", "minutes": f"{spec.label} (minutes)",
            "stage": "Stage"}.get(spec.unit, f"{spec.label} ({spec.noun})" if spec.noun else spec.label)


# --------------------------------------------------------------------------------------------------------
# Evidence helpers for KPI modules
# --------------------------------------------------------------------------------------------------------

def iso(times) -> pd.Series:
    """UTC instants as ISO text (`2026-09-08T10:00:00Z`), None where missing."""
    at = pd.to_datetime(pd.Series(times), utc=True)
    out = at.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out.astype(object).where(at.notna(), None)


def _is_column(value) -> bool:
    return hasattr(value, "__len__") and not isinstance(value, str)


def evidence_frame(**columns) -> pd.DataFrame:
    """An evidence frame: EVIDENCE_COLUMNS first (defaults: counted True, count 1, others None), extras after.
    Columns are Series/arrays of one length or scalars (repeated)."""
    base = {"kind": None, "id": None, "url": None, "at": None, "person": None, "side": None, "counted": True,
            "count": 1, "title": None, "repo": None}
    n = max((len(v) for v in columns.values() if _is_column(v)), default=0)
    data = {}
    for col in [*EVIDENCE_COLUMNS, *[c for c in columns if c not in EVIDENCE_COLUMNS]]:
        value = columns.get(col, base.get(col))
        if isinstance(value, pd.Series | pd.Index):
            value = value.to_numpy()
        data[col] = value if _is_column(value) else [value] * n
    frame = pd.DataFrame(data)
    frame["counted"] = frame["counted"].astype(bool)
    frame["count"] = frame["count"].astype("int64")
    return frame


def empty_evidence(*extra: str) -> pd.DataFrame:
    return pd.DataFrame(columns=[*EVIDENCE_COLUMNS, *extra]).astype({"counted": bool, "count": "int64"})
