"""takeover_weeks (SPEC §11): per capability, the first week of its current run at ladder stage ≥ 3 minus its first
week with any activity; engagement-wide, the slowest capability once all active ones are taken over; the side counts
are the ladder items the value stands on. Hand-computed tables: the rule on a hand-made ladder, an engagement's
commits end to end, the demo's ladder, and real recorded runs as ladder activity."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from collectors.demo import build as demo_build
from metrics.engagement import SourceData, compute
from metrics.engagement_file import parse_engagement
from metrics.service import evidence
from metrics.system import takeover
from tests.support.engagement_factory import ANN, COMMITS, metrics, source_data
from tests.support.system_kpis import (
    collect_recorded,
    demo,
    devlake_runs,
    needs_samples,
    reconciliation_problems,
    row,
)

KPI = "takeover_weeks"
N = np.nan


def ladder(cells: dict[str, list[tuple[float, int, int, int]]]) -> pd.DataFrame:
    """capability -> [(stage, internal, vendor, unattributed) for weeks 0, 1, ...]"""
    rows = [{"capability": cap, "week": week, "stage": stage, "internal": i, "vendor": v, "unattributed": u,
             "bots": 0} for cap, weeks in cells.items() for week, (stage, i, v, u) in enumerate(weeks)]
    return pd.DataFrame(rows)


def test_the_rule_on_a_hand_made_ladder():
    cells = takeover(ladder({
        # weeks 0..7: no activity; stage 0; stage 3; no activity (a gap does not break the run); 4; falls to 2; 3; 3
        "a": [(N, 0, 0, 0), (0, 0, 3, 0), (3, 4, 1, 0), (N, 0, 0, 0), (4, 2, 0, 0), (2, 1, 1, 0), (3, 5, 1, 0),
              (3, 4, 0, 0)],
        # only an unattributed item in week 0 (activity, no stage), then 1, 3, 3, ...
        "b": [(N, 0, 0, 1), (1, 1, 4, 0), (3, 9, 1, 0), (3, 9, 1, 0), (4, 3, 0, 0), (4, 3, 0, 0), (4, 3, 0, 0),
              (4, 3, 0, 0)],
        "c": [(N, 0, 0, 0)] + [(1, 1, 5, 0)] * 7,  # never taken over
    })).set_index(["capability", "week"])
    values = {cap: [None if pd.isna(v) else int(v) for v in cells.loc[cap, "value"]] for cap in "abc"}
    assert values == {"a": [None, None, 1, 1, 1, None, 5, 5],  # first active week 1; taken over w2, again w6
                      "b": [None, None, 2, 2, 2, 2, 2, 2],  # first active week 0
                      "c": [None] * 8}
    assert cells.loc[("a", 7), "taken_over"] == 6 and cells.loc[("b", 7), "first_active"] == 0


def test_end_to_end_from_commits_per_capability_and_engagement_wide():
    """tests/engagement_factory.py's commits, plus one internal training commit in week 4.
    data: (internal, vendor) 0/2, 1/1, 2/0, 1/0 -> stages 0, 2, 4, 4: taken over in week 3, active since week 1 -> 2.
    training: 0/1, 0/1, 1/1, 1/0 -> stages 0, 0, 2, 4: taken over in week 4 -> 3.
    Engagement-wide: week 3 has data only (training active, not taken over): none; week 4: max(2, 3) = 3."""
    m = metrics(data=source_data([*COMMITS, (4, ANN, "train/e.py")]))
    expected = {("data", 3): 2, ("data", 4): 2, ("training", 3): None, ("training", 4): 3, (None, 3): None,
                (None, 4): 3, ("data", 2): None, (None, 2): None}
    for (cap, week), value in expected.items():
        r = row(m, KPI, week, cap)
        assert (math.isnan(r["value"]) if value is None else r["value"] == value), (cap, week)
    assert (row(m, KPI, 3)["taken_over"], row(m, KPI, 4)["taken_over"]) == (1, 2)
    # the value stands on every ladder item up to the week: data 2+2+2+1 commits (internal 4, vendor 3), training
    # 1+1+2+1 (internal 2, vendor 3) -> engagement-wide in week 4: internal 6, vendor 6
    w4 = row(m, KPI, 4)
    assert (w4["internal"], w4["vendor"]) == (6, 6)
    assert (row(m, KPI, 3, "data")["internal"], row(m, KPI, 3, "data")["vendor"]) == (3, 3)
    rows = evidence(m, KPI, 4)
    assert rows["counted"].sum() == 12 and rows.loc[rows["counted"], "id"].str.match(r"^(data|training):").all()
    start = rows[rows["title"].str.endswith("the takeover run starts here")]
    assert start["id"].tolist() == ["data:w3", "training:w4"] and not start["counted"].any()
    assert reconciliation_problems(m, KPI) == []


def test_demo_values():
    m = demo()
    for cap, weeks in demo_build.INTENDED_TAKEOVER.items():
        for week, value in weeks.items():
            r = row(m, KPI, week, cap)
            assert (math.isnan(r["value"]) if value is None else r["value"] == value), (cap, week)
    wide = m.weekly[(m.weekly["kpi"] == KPI) & m.weekly["capability"].isna()].set_index("week")
    assert wide["value"].isna().all()  # operations is never taken over
    assert wide.loc[8, "taken_over"] == 4
    assert reconciliation_problems(m, KPI) == []


@needs_samples
def test_devlake_runs_as_ladder_activity_by_triggering_actor(tmp_path):
    """panjf2000/ants Tests and Lint runs as the activity of one capability, read from the recording. Week of
    20 Jun 2022: 2559400714 and 2559400713 (created 25 Jun; first attempts by zqkgo, re-run by panjf2000). Week of
    27 Jun: 2566218977, 2566218975 (push, panjf2000), 2589885628, 2589885639 (created 30 Jun; first attempts by
    hanfezh, re-run by panjf2000). By the triggering actor every item is internal: stage 4 from week 1, taken over
    in the week it became active -> 0 weeks; by `actor` week 1 would be vendor-only (stage 0)."""
    frames = collect_recorded(tmp_path, devlake_runs())
    people = [{"name": "Andy", "github": ["panjf2000"], "affiliations": [{"side": "internal"}]},
              {"name": "Han", "github": ["hanfezh"], "affiliations": [{"side": "vendor"}]},
              {"name": "Zq", "github": ["zqkgo"], "affiliations": [{"side": "vendor"}]}]
    cfg = parse_engagement({"engagement": {"name": "ants", "start": dt.date(2022, 6, 20), "weeks": 2},
                            "people": people,
                            "capabilities": [{"key": "ci", "ci_workflows": ["ci.yml", "lint.yml"]}]})
    m = compute(cfg, SourceData(**frames), today=dt.datetime(2022, 7, 4, tzinfo=dt.UTC))
    w1, w2 = row(m, KPI, 1, "ci"), row(m, KPI, 2, "ci")
    assert (w1["value"], w1["internal"], w1["vendor"]) == (0, 2, 0)
    assert (w2["value"], w2["internal"], w2["vendor"]) == (0, 6, 0)
    assert reconciliation_problems(m, KPI) == []
