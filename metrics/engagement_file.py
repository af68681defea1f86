"""The engagement file as the metrics layer reads it: `engagement.config` plus what only this layer knows, passed
in through the validation context: milestone criteria checked against the criterion metrics (metrics.criteria)
and `[targets]` keys against the KPI registry (metrics.kpis). Pages, the metrics CLI and the pack load
engagements through here; collectors use `engagement.config.load_config` directly (shape checks only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engagement.config import EngagementConfig, load_config, parse_config
from metrics.criteria import Filters, criterion_problems
from metrics.kpis import REGISTRY, kpi_keys


def check_criterion(metric: str, capability: str | None, runbook: str | None, side: str | None,
                    capability_keys: list[str]) -> list[str]:
    return criterion_problems(metric, Filters(capability, runbook, side), capability_keys)


def share_kpis() -> frozenset[str]:
    """KPIs whose value (and so their target) is a share 0..1."""
    return frozenset(k for k, spec in REGISTRY.items() if spec.is_share)


def load_engagement(path: str | Path) -> EngagementConfig:
    return load_config(path, criterion_check=check_criterion, kpi_keys=kpi_keys(), share_kpis=share_kpis())


def parse_engagement(data: dict[str, Any], file: Path | None = None) -> EngagementConfig:
    return parse_config(data, file, criterion_check=check_criterion, kpi_keys=kpi_keys(), share_kpis=share_kpis())
