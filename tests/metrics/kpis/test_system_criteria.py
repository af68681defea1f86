"""Milestone criteria over the SPEC §11 KPIs (issue 13 §3): each of the seven is a criterion metric through the KPI
registry, with its filters checked; evaluated on the demo against the weeks its INTENDED tables give by hand."""

from __future__ import annotations

import pytest

from engagement.config import ConfigError
from metrics.engagement import compute
from metrics.engagement_file import load_engagement
from metrics.milestones import criterion_evidence, met_week, milestone_states
from tests.support.system_kpis import demo

# milestone id -> (criterion, the week it is first met on the demo by hand, None = never)
CRITERIA = {
    "S1": ('{ metric = "rehearsal_retrain", op = "<=", value = 48 }', 8),  # week 8: 5 h
    "S2": ('{ metric = "artifact_completeness", op = ">=", value = 0.9 }', None),  # at most 9 of 12
    "S3": ('{ metric = "artifact_completeness", capability = "training", op = ">=", value = 1.0 }', 7),
    "S4": ('{ metric = "rollback_time", op = "<=", value = 60 }', 4),  # week 4: 30 min
    "S5": ('{ metric = "train_run_minutes", op = "<=", value = 50 }', 1),  # week 1: median 45 (the MLflow runs)
    "S6": ('{ metric = "eval_pass_rate", op = ">=", value = 0.95 }', 7),  # 14/17, then 19/20
    "S7": ('{ metric = "environment_rebuild", side = "internal", op = ">=", value = 2 }', 7),  # Ivan's two rebuilds
    "S8": ('{ metric = "takeover_weeks", capability = "data", op = "<=", value = 4 }', 4),
}


def with_milestones(path, entries: dict[str, str]):
    text = path.read_text(encoding="utf-8")
    for mid, criterion in entries.items():
        text += f'\n[[milestones]]\nid = "{mid}"\ndue_week = 8\ntitle = "{mid}"\ncriteria = [{criterion}]\n'
    out = path.with_name("engagement-criteria.toml")
    out.write_text(text, encoding="utf-8")
    return out


def test_every_system_kpi_is_a_criterion_met_in_the_hand_computed_week():
    m = demo()
    cfg = load_engagement(with_milestones(m.cfg.file, {k: c for k, (c, _) in CRITERIA.items()}))
    m2 = compute(cfg, m.facts.data, today=None)
    for ms in cfg.milestones:
        if ms.id in CRITERIA:
            assert met_week(m2, ms) == CRITERIA[ms.id][1], ms.id
    states = milestone_states(m2).set_index(["milestone", "week"])["state"]
    assert states[("S2", 8)] == "at risk" and states[("S1", 8)] == "met"
    s1 = next(ms for ms in cfg.milestones if ms.id == "S1")
    rows = criterion_evidence(m2, s1.criteria[0], 8)
    assert rows["kind"].tolist() == ["cycle"] and rows["side"].tolist() == ["internal"]


@pytest.mark.parametrize("criterion, problem", [
    ('{ metric = "rehearsal_retrain", capability = "training", op = "<=", value = 48 }',
     "metric 'rehearsal_retrain' takes no capability filter (filters it takes: side)"),
    ('{ metric = "rollback_time", runbook = "rollback", op = "<=", value = 30 }',
     "metric 'rollback_time' takes no runbook filter (filters it takes: side)"),
    ('{ metric = "artifact_completeness", capability = "nope", op = ">=", value = 0.9 }',
     "unknown capability 'nope'"),
])
def test_wrong_filters_are_configuration_errors(criterion, problem):
    with pytest.raises(ConfigError) as err:
        load_engagement(with_milestones(demo().cfg.file, {"X1": criterion}))
    assert any(problem in p for p in err.value.problems), err.value.problems
