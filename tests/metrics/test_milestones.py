"""Milestone evaluation against hand-computed tables (see tests/engagement_factory.py for the counts)."""

from __future__ import annotations

import pandas as pd
import pytest

from engagement.config import ConfigError
from metrics.milestones import criteria_table, criterion_evidence, milestone, milestone_states, state_table
from tests.support.engagement_factory import config, metrics, sha_of


def crit(metric, op, value, **filters):
    return {"metric": metric, "op": op, "value": value, **filters}


MILESTONES = [
    # internal data commits per week: 0, 1, 2, 1 -> first >= 2 in week 3 (due 3)
    {"id": "M1", "due_week": 3, "title": "Data", "criteria": [crit("internal_commits", ">=", 2, capability="data")]},
    # internal share of training commits: 0, 0, 0.5, none -> met in week 3, late (due 2)
    {"id": "M2", "due_week": 2, "title": "Train share",
     "criteria": [crit("internal_commit_share", ">=", 0.5, capability="training")]},
    # training stage: 0, 0, 2, none -> never >= 3
    {"id": "M3", "due_week": 4, "title": "Train stage",
     "criteria": [crit("ladder_stage", ">=", 3, capability="training")]},
    # internal commits of the engagement: 0, 1, 3, 1 -> never >= 5; due 2 -> missed from week 3
    {"id": "M4", "due_week": 2, "title": "Many", "criteria": [crit("internal_commits", ">=", 5)]},
    # each criterion holds in some week, never both in the same week: not met
    {"id": "M5", "due_week": 4, "title": "Together",
     "criteria": [crit("internal_commits", "==", 1, capability="data"),  # weeks 2 and 4
                  crit("internal_commit_share", ">=", 0.5, capability="training")]},  # week 3
]

EXPECTED = {
    "M1": ["pending", "at risk", "met", "met"],
    "M2": ["at risk", "at risk", "met", "met"],
    "M3": ["pending", "pending", "at risk", "at risk"],
    "M4": ["at risk", "at risk", "missed", "missed"],
    "M5": ["pending", "pending", "at risk", "at risk"],
}


def test_states_per_week_match_the_hand_computed_table():
    m = metrics(MILESTONES)
    table = state_table(m)
    assert {ms: table.loc[ms, [1, 2, 3, 4]].tolist() for ms in EXPECTED} == EXPECTED


def test_week_first_met_and_late():
    states = milestone_states(metrics(MILESTONES)).set_index(["milestone", "week"])
    assert states.loc[("M1", 3), "met_week"] == 3 and not states.loc[("M1", 4), "late"]
    assert states.loc[("M2", 4), "met_week"] == 3 and states.loc[("M2", 4), "late"]
    assert pd.isna(states.loc[("M1", 2), "met_week"])  # not met yet in week 2
    assert states.loc[("M5", 3), "criteria_met"] == 1 and states.loc[("M5", 4), "criteria_met"] == 1


@pytest.mark.parametrize(("op", "value", "expected_met"), [
    (">=", 3, 3), (">", 2, 3), ("<=", 0, 1), ("<", 1, 1), ("==", 1, 2),
])
def test_every_operator(op, value, expected_met):
    m = metrics([{"id": "X", "due_week": 4, "title": "t", "criteria": [crit("internal_commits", op, value)]}])
    states = milestone_states(m)
    assert states.loc[states["state"] == "met", "week"].min() == expected_met  # internal: 0, 1, 3, 1


def test_evidence_rows_are_the_commits_that_count():
    m = metrics(MILESTONES)
    ev = criterion_evidence(m, milestone(m, "M1").criteria[0], 3)
    assert sorted(ev["id"]) == sorted([sha_of("data/e.py"), sha_of("data/f.py")])
    assert set(ev["side"]) == {"internal"} and set(ev["person"]) == {"Ann Client"}
    share = criterion_evidence(m, milestone(m, "M2").criteria[0], 3)  # share: all attributed training commits
    assert sorted(share["id"]) == sorted([sha_of("train/c.py"), sha_of("train/d.py")])
    table = criteria_table(m, milestone(m, "M5"), 3).set_index("criterion")
    assert table["holds"].tolist() == [False, True]
    assert table["value"].tolist() == [2.0, 0.5]
    assert table["asks"].tolist() == ["internal_commits (capability=data) == 1",
                                      "internal_commit_share (capability=training) >= 0.5"]


def test_commit_links_when_the_repository_is_also_a_github_source():
    m = metrics(MILESTONES, sources={"github": [{"repo": "acme/model"}]})
    ev = criterion_evidence(m, milestone(m, "M1").criteria[0], 3)
    assert ev["url"].tolist() == [f"https://github.com/acme/model/commit/{sha_of(p)}" for p in ("data/e.py",
                                                                                                 "data/f.py")]
    assert metrics(MILESTONES).ladder is not None
    assert criterion_evidence(metrics(MILESTONES), milestone(m, "M1").criteria[0], 3)["url"].isna().all()


def test_accepted_milestone_lets_its_capability_reach_stage_4():
    tied = [{"id": "D", "due_week": 4, "title": "data", "capability": "data",
             "criteria": [crit("ladder_stage", ">=", 3, capability="data")]}]
    stages = metrics(tied).ladder.set_index(["capability", "week"])["stage"]
    assert [stages[("data", w)] for w in (1, 2, 3, 4)] == [0, 2, 3, 3]  # 0/2, 1/2, 2/2, 1/1 internal
    accepted = metrics(tied, accepted={"D"}).ladder.set_index(["capability", "week"])["stage"]
    assert [accepted[("data", w)] for w in (3, 4)] == [4, 4]
    assert milestone_states(metrics(tied)).query("week == 3")["state"].item() == "met"


@pytest.mark.parametrize(("criterion", "message"), [
    (crit("internal_deploy_runs", ">=", 1), "milestone M9, criterion 1: unknown metric 'internal_deploy_runs'"),
    (crit("internal_commits", ">=", 1, runbook="training"),
     "milestone M9, criterion 1: metric 'internal_commits' takes no runbook filter"),
    (crit("ladder_stage", ">=", 3), "milestone M9, criterion 1: metric 'ladder_stage' needs a capability filter"),
    (crit("internal_commits", ">=", 1, capability="cooking"),
     "milestone M9, criterion 1: unknown capability 'cooking'"),
])
def test_unknown_metric_or_filter_is_a_config_error_naming_milestone_and_criterion(criterion, message):
    with pytest.raises(ConfigError) as err:
        config([{"id": "M9", "due_week": 2, "title": "t", "criteria": [criterion]}])
    assert any(message in p and "milestones[0].criteria[0]" in p for p in err.value.problems), err.value.problems


def test_duplicate_milestone_ids_are_a_config_error():
    with pytest.raises(ConfigError) as err:
        config([{"id": "A", "due_week": 1, "title": "t"}, {"id": "A", "due_week": 2, "title": "u"}])
    assert "milestones[1].id: expected a unique milestone id, 'A' is used twice" in err.value.problems[0]


def test_side_filter_reads_that_sides_count():
    # vendor commits of the engagement per week: 3, 2, 1, 0 -> "<= 0" first holds in week 4
    m = metrics([{"id": "V", "due_week": 4, "title": "no vendor",
                  "criteria": [crit("internal_commit_share", "<=", 0, side="vendor")]}])
    states = milestone_states(m)
    assert states["state"].tolist() == ["pending", "pending", "at risk", "met"]
    ev = criterion_evidence(m, milestone(m, "V").criteria[0], 3)
    assert ev["id"].tolist() == [sha_of("train/d.py")] and ev["side"].tolist() == ["vendor"]
    with pytest.raises(ConfigError, match="metric 'internal_commits' takes no side filter"):
        config([{"id": "S", "due_week": 1, "title": "t", "criteria": [crit("internal_commits", ">=", 1,
                                                                               side="vendor")]}])
