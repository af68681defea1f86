"""The engagement file as the metrics layer reads it: `engagement.config` plus the milestone criteria
checked against the metric registry (which the base layer cannot import). Pages, the metrics CLI and
the pack load engagements through here; collectors use `engagement.config.load_config` directly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engagement.config import EngagementConfig, load_config, parse_config
from metrics.registry import Filters, criterion_problems


def check_criterion(metric: str, capability: str | None, runbook: str | None, side: str | None,
                    capability_keys: list[str]) -> list[str]:
    return criterion_problems(metric, Filters(capability, runbook, side), capability_keys)


def load_engagement(path: str | Path) -> EngagementConfig:
    return load_config(path, criterion_check=check_criterion)


def parse_engagement(data: dict[str, Any], file: Path | None = None) -> EngagementConfig:
    return parse_config(data, file, criterion_check=check_criterion)
