"""Week bucketing (SPEC §4): local calendar dates in the engagement timezone, across DST changes."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from engagement.weeks import engagement_weeks, local_dates, week_label, week_of, week_start

START = dt.date(2026, 9, 7)  # a Monday


@pytest.mark.parametrize(
    ("utc", "tz", "week"),
    [
        ("2026-09-06T21:59:59Z", "Europe/Berlin", 0),  # Sunday 23:59:59 local, before the start: baseline
        ("2026-09-06T22:00:00Z", "Europe/Berlin", 1),  # Monday 00:00 local (+02:00) although Sunday in UTC
        ("2026-09-13T21:59:59Z", "Europe/Berlin", 1),
        ("2026-09-13T22:00:00Z", "Europe/Berlin", 2),
        # DST ends Sunday 2026-10-25 03:00 -> 02:00 in Berlin: week 7 is 25 hours longer... by one hour.
        ("2026-10-25T22:59:59Z", "Europe/Berlin", 7),  # Sunday 23:59:59 local (+01:00 now)
        ("2026-10-25T23:00:00Z", "Europe/Berlin", 8),  # Monday 00:00 local; a fixed +02:00 would say week 7
        ("2026-10-25T22:30:00Z", "Europe/Berlin", 7),  # would be Monday 00:30 with the summer offset
        # US DST starts Sunday 2027-03-14 in New York.
        ("2027-03-15T03:59:00Z", "America/New_York", 27),  # Sunday 23:59 EDT
        ("2027-03-15T04:00:00Z", "America/New_York", 28),  # Monday 00:00 EDT
        ("2026-09-07T00:00:00Z", "UTC", 1),
        ("2020-01-01T00:00:00Z", "UTC", 0),
        ("2031-01-01T00:00:00Z", "UTC", 226),  # a commit dated in the future keeps counting weeks
    ],
)
def test_week_of_local_date(utc, tz, week):
    local = local_dates(pd.Series([pd.Timestamp(utc)]), tz)
    assert int(week_of(local, START).iloc[0]) == week


def test_week_start_and_label():
    assert week_start(1, START) == START
    assert week_start(8, START) == dt.date(2026, 10, 26)
    assert week_start(0, START) is None
    assert week_label(8, START) == "Oct 26 – Nov 1, 2026"
    assert week_label(0, START) == "before Sep 7, 2026 (baseline)"


def test_engagement_weeks_cover_the_plan_then_keep_counting():
    assert engagement_weeks(8, [2, 3]) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert engagement_weeks(8, [0, 10]) == [0, *range(1, 11)]
    # A commit with a wrong clock far in the future adds its week, not every week up to it.
    assert engagement_weeks(8, [3, 226], through_week=12) == [*range(1, 9), 226]
