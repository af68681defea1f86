"""The ladder (SPEC §6) against hand-computed cells."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from metrics.engagement_file import parse_engagement
from metrics.ladder import ladder, planned_stage


def cfg(**extra):
    return parse_engagement({"engagement": {"name": "X", "start": dt.date(2026, 9, 7)},
                         "capabilities": [{"key": "training", "paths": ["train/**"]}], **extra})


def activity(week: int, internal: int, vendor: int, bots: int = 0, unattributed: int = 0) -> pd.DataFrame:
    sides = ["internal"] * internal + ["vendor"] * vendor + ["bot"] * bots + ["unattributed"] * unattributed
    return pd.DataFrame({"capability": "training", "week": week, "side": sides, "kind": "commit",
                         "id": [f"w{week}-{i}" for i in range(len(sides))]})


# (internal, vendor, bots, unattributed) -> (share, stage); thresholds 10% / 50% / 80%+<=1 vendor / 0 vendor.
CELLS = [
    ((0, 5, 0, 0), 0.0, 0),
    ((1, 10, 0, 0), 1 / 11, 0),  # 9.1% < 10%
    ((1, 9, 0, 0), 0.10, 1),  # exactly 10%
    ((4, 5, 3, 2), 4 / 9, 1),  # bots and unattributed do not dilute the share
    ((5, 5, 0, 0), 0.5, 2),  # exactly 50%
    ((8, 2, 0, 0), 0.8, 2),  # 80% but two vendor items
    ((4, 1, 0, 0), 0.8, 3),  # 80% and one vendor item
    ((9, 1, 0, 0), 0.9, 3),
    ((3, 0, 1, 0), 1.0, 4),  # no vendor item, no milestone pending
    ((0, 0, 2, 1), np.nan, np.nan),  # only bots and unattributed: no measured stage
]


@pytest.mark.parametrize(("counts", "share", "stage"), CELLS, ids=[str(c[0]) for c in CELLS])
def test_measured_stage_per_cell(counts, share, stage):
    rows = ladder(activity(1, *counts), cfg(), [1, 2])
    cell = rows[rows["week"] == 1].iloc[0]
    assert cell["share"] == pytest.approx(share, nan_ok=True)
    assert cell["stage"] == pytest.approx(stage, nan_ok=True)
    week2 = rows[rows["week"] == 2].iloc[0]
    assert np.isnan(week2["stage"])  # no activity at all: empty, not 0


def test_item_counted_once_per_capability():
    acts = pd.concat([activity(1, 1, 0), activity(1, 1, 0)])  # same items listed twice
    assert ladder(acts, cfg(), [1]).iloc[0]["internal"] == 1


def test_pending_milestone_caps_stage_at_3_until_accepted():
    c = cfg(milestones=[{"id": "M1", "due_week": 2, "title": "t", "capability": "training"}])
    assert ladder(activity(1, 3, 0), c, [1]).iloc[0]["stage"] == 3
    assert ladder(activity(1, 3, 0), c, [1], accepted_milestones={"M1"}).iloc[0]["stage"] == 4


def test_planned_stage_is_the_latest_planned_week_at_or_before():
    plan = {1: 0, 3: 1, 5: 2, 7: 3, 8: 4}
    got = planned_stage(plan, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    assert got.tolist()[1:] == [0, 0, 1, 1, 2, 2, 3, 4, 4, 4]
    assert np.isnan(got.iloc[0])


def test_behind_plan_only_when_measured_below_planned():
    c = cfg(plan={"training": {1: 2, 2: 1}})
    acts = pd.concat([activity(1, 1, 4), activity(2, 5, 0)])
    rows = ladder(acts, c, [1, 2, 3]).set_index("week")
    assert rows.loc[1, ["stage", "planned", "behind"]].tolist() == [1, 2, True]
    assert rows.loc[2, ["stage", "planned", "behind"]].tolist() == [4, 1, False]
    assert rows.loc[3, "behind"] == False  # noqa: E712 - no activity is not "behind", it is empty


def test_thresholds_are_configurable():
    c = cfg(ladder={"pairs": 0.2, "leads": 0.6, "shadows": 0.9, "shadows_max_vendor_items": 0})
    assert ladder(activity(1, 1, 9), c, [1]).iloc[0]["stage"] == 0  # 10% < 20%
    assert ladder(activity(1, 9, 1), c, [1]).iloc[0]["stage"] == 2  # 90% but one vendor item
