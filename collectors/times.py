"""The one time parser of every REST source (SPEC §8; Time in the guide: store UTC, keep the offset).

GitHub writes `2026-09-08T10:00:00Z`, Jira `2021-01-25T21:49:52.514+0800` (an offset without a colon),
MLflow and some Jira fields epoch milliseconds, GitHub's rate-limit reset epoch seconds. `parse_time` reads
them all into an *aware* datetime that keeps the source's offset (a naive text is taken as UTC), so two
parsers can never disagree about naive versus aware again. Rows store naive UTC (`db_utc`) with the
offset in minutes beside it where the schema keeps one (`utc_parts`).
"""

from __future__ import annotations

import datetime as dt
import re

_COLONLESS_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


def parse_time(value: str | int | float | dt.datetime | None) -> dt.datetime | None:
    """An aware datetime (the source's own offset kept) from ISO 8601 text or epoch milliseconds; None and ""
    stay None. ValueError (naming the value) for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 time like 2021-01-25T21:49:52.514+0800, got {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = _COLONLESS_OFFSET.sub(r"\1:\2", text) if "T" in text else text
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected an ISO 8601 time like 2021-01-25T21:49:52.514+0800, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def db_utc(value: str | int | float | dt.datetime | None) -> dt.datetime | None:
    """`parse_time` as the naive UTC datetime the schema stores (db/models.py)."""
    parsed = parse_time(value)
    return None if parsed is None else parsed.astimezone(dt.UTC).replace(tzinfo=None)


def utc_parts(value: dt.datetime | None) -> tuple[dt.datetime | None, int]:
    """(naive UTC, the original offset in minutes) of an aware datetime, for columns that keep the offset."""
    if value is None:
        return None, 0
    offset = value.utcoffset() or dt.timedelta(0)
    return value.astimezone(dt.UTC).replace(tzinfo=None), int(offset.total_seconds() // 60)


def epoch_or_iso(value: str | None) -> dt.datetime | None:
    """A rate-limit reset header: epoch seconds (GitHub, GitLab) or an ISO time (Jira); None when unreadable."""
    if not value:
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return dt.datetime.fromtimestamp(float(text), dt.UTC)
    try:
        return parse_time(text)
    except ValueError:
        return None
