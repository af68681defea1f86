"""Engagement weeks (SPEC §4), computed once, here.

Week N covers [start + 7(N-1) days, start + 7N days) in the engagement's timezone; events before the
start are week 0 (the baseline). Bucketing uses the event's LOCAL calendar date, so a DST change
(a 23- or 25-hour day) never moves an event into the wrong week.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd


def local_dates(at: pd.Series, timezone: str) -> pd.Series:
    """UTC instants -> local calendar dates (as naive midnight datetime64) in `timezone`."""
    at = pd.to_datetime(at, utc=True)
    return at.dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize()


def week_of(local: pd.Series, start: dt.date) -> pd.Series:
    """Engagement week of each local date: 1-based, 0 for anything before the start."""
    days = (local - pd.Timestamp(start)) // pd.Timedelta(days=1)
    weeks = np.where(days < 0, 0, days // 7 + 1)
    return pd.Series(weeks, index=local.index, dtype="int64")


def week_start(week: int, start: dt.date) -> dt.date | None:
    """First local date of `week`; None for the baseline week 0 (it has no start)."""
    return None if week < 1 else start + dt.timedelta(days=7 * (week - 1))


def week_label(week: int, start: dt.date) -> str:
    """Calendar dates of a week for hover text, e.g. 'Sep 7 – Sep 13, 2026'."""
    first = week_start(week, start)
    if first is None:
        return f"before {start:%b %-d, %Y} (baseline)"
    last = first + dt.timedelta(days=6)
    return f"{first:%b %-d} – {last:%b %-d, %Y}"


def current_week(start: dt.date, timezone: str, now: dt.datetime | None = None) -> int:
    """The engagement week containing `now` (default: the clock) in the engagement timezone."""
    now = now or dt.datetime.now(dt.UTC)
    local = pd.Series([pd.Timestamp(now)])
    return int(week_of(local_dates(local, timezone), start).iloc[0])


def engagement_weeks(planned_weeks: int, event_weeks: Iterable[int], through_week: int | None = None) -> list[int]:
    """Weeks to report: the planned ones, every week up to the latest event (weeks keep counting after
    the plan), week 0 only when there is baseline activity. Events far in the future (a wrong clock)
    add their own week, not every week up to it, when `through_week` caps the dense range."""
    seen = {int(w) for w in event_weeks}
    current = [w for w in seen if through_week is None or w <= through_week]
    dense_to = max(planned_weeks, max(current, default=0))
    return sorted(set(range(1, dense_to + 1)) | seen)


def week_end(week: int, start: dt.date, timezone: str) -> dt.datetime:
    """The instant engagement week `week` ends (SPEC §4, §10): local midnight starting week `week + 1`, as an
    aware UTC datetime. Week 0 (the baseline) ends when week 1 starts."""
    from zoneinfo import ZoneInfo

    local = dt.datetime.combine(start + dt.timedelta(days=7 * max(int(week), 0)), dt.time(0), tzinfo=ZoneInfo(timezone))
    return local.astimezone(dt.UTC)
