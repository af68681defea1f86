"""The counts of the SPEC §2 milestone example, `internal_train_runs` and `runbook_executions_internal`
(metrics/criteria.py), against hand-computed tables, and the SPEC's M3 moving from pending to met.

Tiny engagement of tests/engagement_factory.py (UTC, start Mon 2026-09-07, 4 weeks: W1 = 7-13 Sep,
W2 = 14-20, W3 = 21-27, W4 = 28 Sep-4 Oct). Ann is internal, Vic is vendor. `train.yml` and
`Nightly retrain` are train workflows; only `train.yml` is a `ci_workflows` of the training capability.

CI run attempts (triggering actor)        | kind     | counts?          | week
  101/1 train.yml push (Vic)              | train    | no: vendor       | 1
  101/2 train.yml re-run (Ann), failed    | train    | yes (training)   | 1
  102/1 train.yml schedule (Ann)          | train    | no: scheduled    | 1
  103/1 deploy.yml dispatch (Ann)         | deploy   | no: not train    | 2
  104/1 Nightly retrain dispatch (Ann)    | train    | yes (no cap.)    | 3
  105/1 train.yml dispatch (Ann)          | train    | yes (training)   | 3
  106/1 train.yml dispatch (bot)          | train    | no: bot          | 3
  107/1 train.yml push (Vic)              | train    | no: vendor       | 4
-> internal_train_runs: 1, 0, 2, 0; with capability training: 1, 0, 1, 0.

Runbook executions (executor at completion)                       | counts?            | week done
  OPS-1 runbook:deploy, Ann, the vendor commented while it ran    | yes (deploy)       | 1
  OPS-2 runbook:training, Vic                                     | no: vendor         | 2
  OPS-3 runbook:training, Ann                                     | yes (training)     | 2
  OPS-4 runbook:Training, started W2 by Vic, handed to Ann, done  | yes (training)     | 3
  OPS-5 runbook:training, Ann, still in progress                  | no: not completed  | -
  OPS-6 only `runbook:training` (no `runbook` label), Ann, done   | no: not a runbook  | 3
-> runbook_executions_internal: 1, 1, 1, 0; with runbook training: 0, 1, 1, 0; deploy: 1, 0, 0, 0.
"""

from __future__ import annotations

import pandas as pd
import pytest

from db.engine import make_engine
from db.queries import load_source_frames
from engagement.config import ConfigError
from metrics.criteria import CRITERION_METRICS, Filters
from metrics.engagement import SourceData
from metrics.milestones import criterion_evidence, criterion_values, milestone, milestone_states, state_table
from tests.support.engagement_factory import config, metrics, source_data
from tests.support.ticket_rows import TicketBook

PEOPLE = [
    {"name": "Ann Client", "emails": ["ann@client.com"], "github": ["ann"], "jira": ["acc-ann"],
     "affiliations": [{"side": "internal"}]},
    {"name": "Vic Vendor", "emails": ["vic@acme.com"], "github": ["vic"], "jira": ["acc-vic"],
     "affiliations": [{"side": "vendor"}]},
]
EXTRA = {
    "people": PEOPLE,
    "capabilities": [{"key": "data", "paths": ["data/**"]},
                     {"key": "training", "paths": ["train/**"], "ci_workflows": ["train.yml"]}],
    "pipeline": {"train": {"workflows": ["train.yml", "Nightly retrain"]}, "deploy": {"workflows": ["deploy.yml"]}},
}
# The SPEC §2 example's M3 (criteria verbatim), due in week 4.
M3 = {"id": "M3", "due_week": 4, "capability": "training",
      "title": "Internal team runs the end-to-end training pipeline in staging using the runbook",
      "criteria": [{"metric": "internal_train_runs", "op": ">=", "value": 1},
                   {"metric": "runbook_executions_internal", "runbook": "training", "op": ">=", "value": 1}]}


def runs_frame() -> pd.DataFrame:
    def run(rid, workflow, name, event, trig, created, attempt=1, ttype="User", conclusion="success", actor=None):
        at = pd.Timestamp(created, tz="UTC")
        return {"source_id": 1, "repo": "acme/model", "run_id": rid, "run_attempt": attempt,
                "workflow_path": f".github/workflows/{workflow}", "name": name, "event": event,
                "actor_login": actor or trig, "triggering_login": trig, "triggering_type": ttype, "created_at": at,
                "run_started_at": at, "updated_at": at + pd.Timedelta(hours=1), "conclusion": conclusion,
                "status": "completed", "html_url": f"https://github.com/acme/model/actions/runs/{rid}"}

    return pd.DataFrame([
        run(101, "train.yml", "Train", "push", "vic", "2026-09-08T10:00"),
        run(101, "train.yml", "Train", "push", "ann", "2026-09-08T12:00", attempt=2, conclusion="failure",
            actor="vic"),
        run(102, "train.yml", "Train", "schedule", "ann", "2026-09-10T02:00"),
        run(103, "deploy.yml", "Deploy", "workflow_dispatch", "ann", "2026-09-15T10:00"),
        run(104, "nightly.yml", "Nightly retrain", "workflow_dispatch", "ann", "2026-09-22T09:00"),
        run(105, "train.yml", "Train", "workflow_dispatch", "ann", "2026-09-23T09:00"),
        run(106, "train.yml", "Train", "workflow_dispatch", "github-actions[bot]", "2026-09-23T10:00", ttype="Bot"),
        run(107, "train.yml", "Train", "push", "vic", "2026-09-29T10:00"),
    ])


def ticket_book() -> TicketBook:
    b = TicketBook()
    b.ticket("OPS-1", "2026-09-08 09:00", ["runbook", "runbook:deploy"], assignee="Ann", status="5")
    b.event("OPS-1", "2026-09-09 10:00", "comment", "Vic", body="remember the rollback step")
    b.event("OPS-1", "2026-09-09 12:00", "status", "Ann", frm="1", to="5")
    b.ticket("OPS-2", "2026-09-14 09:00", ["runbook", "runbook:training"], assignee="Vic", status="5")
    b.event("OPS-2", "2026-09-15 12:00", "status", "Vic", frm="1", to="5")
    b.ticket("OPS-3", "2026-09-15 09:00", ["runbook", "runbook:training"], assignee="Ann", status="5")
    b.event("OPS-3", "2026-09-16 12:00", "status", "Ann", frm="1", to="5")
    b.ticket("OPS-4", "2026-09-16 09:00", ["runbook", "runbook:Training"], assignee="Ann", status="5")
    b.event("OPS-4", "2026-09-16 09:01", "assignee", "Vic", frm=None, to="Vic")
    b.event("OPS-4", "2026-09-22 08:00", "assignee", "Vic", frm="Vic", to="Ann")
    b.event("OPS-4", "2026-09-24 10:00", "status", "Ann", frm="1", to="5")
    b.ticket("OPS-5", "2026-09-29 09:00", ["runbook", "runbook:training"], assignee="Ann", status="3")
    b.ticket("OPS-6", "2026-09-21 09:00", ["runbook:training"], assignee="Ann", status="5")
    b.event("OPS-6", "2026-09-22 09:00", "status", "Ann", frm="1", to="5")
    return b


@pytest.fixture
def data(db_url) -> SourceData:
    engine = make_engine(db_url)
    ticket_book().store(engine)
    frames = load_source_frames(engine)
    commits = source_data()
    return SourceData(commits.commits, commits.commit_files, tickets=frames["tickets"],
                      ticket_events=frames["ticket_events"], checklist_items=frames["checklist_items"],
                      workflow_runs=runs_frame())


def values(m, key: str, **filters) -> list[float]:
    return CRITERION_METRICS[key].values(m, Filters(**filters)).reindex(m.weeks).tolist()


def test_internal_train_runs_per_week_and_evidence(data):
    m = metrics([M3], data=data, **EXTRA)
    assert values(m, "internal_train_runs") == [1, 0, 2, 0]
    assert values(m, "internal_train_runs", capability="training") == [1, 0, 1, 0]
    # the same runs as the `internal` count of internal_train_share (schedules apart, bots beside)
    share = m.weekly[m.weekly["kpi"] == "internal_train_share"].set_index("week")
    assert share.loc[[1, 3], "internal"].tolist() == [1, 2] and share.loc[1, "scheduled"] == 1
    ev = CRITERION_METRICS["internal_train_runs"].evidence(m, Filters(), 3)
    assert ev[["id", "kind", "at", "repo", "person", "side", "url"]].values.tolist() == [
        ["104/1", "run", "2026-09-22T09:00:00Z", "acme/model", "Ann Client", "internal",
         "https://github.com/acme/model/actions/runs/104"],
        ["105/1", "run", "2026-09-23T09:00:00Z", "acme/model", "Ann Client", "internal",
         "https://github.com/acme/model/actions/runs/105"],
    ]
    first = CRITERION_METRICS["internal_train_runs"].evidence(m, Filters(capability="training"), 1)
    assert first["id"].tolist() == ["101/2"] and first["title"].tolist() == ["Train (push, attempt 2, failure)"]
    assert CRITERION_METRICS["internal_train_runs"].evidence(m, Filters(), 2).empty


def test_runbook_executions_internal_per_week_with_runbook_filter_and_evidence(data):
    m = metrics([M3], data=data, **EXTRA)
    assert values(m, "runbook_executions_internal") == [1, 1, 1, 0]
    assert values(m, "runbook_executions_internal", runbook="training") == [0, 1, 1, 0]
    assert values(m, "runbook_executions_internal", runbook="deploy") == [1, 0, 0, 0]
    ev = CRITERION_METRICS["runbook_executions_internal"].evidence(m, Filters(runbook="training"), 3)
    assert ev[["id", "kind", "at", "person", "side", "title", "url"]].values.tolist() == [
        ["OPS-4", "ticket", "2026-09-24T10:00:00Z", "Ann Client", "internal",
         "runbook Training: title OPS-4", "https://jira.example/browse/OPS-4"],
    ]
    week1 = CRITERION_METRICS["runbook_executions_internal"].evidence(m, Filters(), 1)
    assert week1["id"].tolist() == ["OPS-1"]  # counted although the vendor commented while it ran


def test_the_spec_m3_moves_from_pending_to_met_when_both_counts_hold_in_the_same_week(data):
    # train runs hold in weeks 1 and 3, training runbook executions in weeks 2 and 3 -> met in week 3
    m = metrics([M3], data=data, **EXTRA)
    ms = milestone(m, "M3")
    assert [criterion_values(m, c).tolist() for c in ms.criteria] == [[1, 0, 2, 0], [0, 1, 1, 0]]
    assert state_table(m).loc["M3", [1, 2, 3, 4]].tolist() == ["pending", "pending", "met", "met"]
    states = milestone_states(m).set_index("week")
    assert states.loc[4, "met_week"] == 3 and not states.loc[4, "late"]
    assert criterion_evidence(m, ms.criteria[1], 3)["id"].tolist() == ["OPS-4"]
    assert criterion_evidence(m, ms.criteria[0], 3)["id"].tolist() == ["104/1", "105/1"]


def test_without_runs_or_tickets_the_counts_have_no_value_and_m3_is_never_met():
    m = metrics([M3], **EXTRA)
    assert all(pd.isna(criterion_values(m, c)).all() for c in milestone(m, "M3").criteria)
    assert state_table(m).loc["M3", [1, 2, 3, 4]].tolist() == ["pending", "pending", "at risk", "at risk"]


@pytest.mark.parametrize(("criterion", "message"), [
    ({"metric": "internal_train_runs", "op": ">=", "value": 1, "runbook": "training"},
     "metric 'internal_train_runs' takes no runbook filter"),
    ({"metric": "runbook_executions_internal", "op": ">=", "value": 1, "side": "vendor"},
     "metric 'runbook_executions_internal' takes no side filter"),
])
def test_filters_the_counts_do_not_take_are_config_errors(criterion, message):
    with pytest.raises(ConfigError) as err:
        config([{"id": "M9", "due_week": 2, "title": "t", "criteria": [criterion]}], **EXTRA)
    assert any(message in p and "milestone M9, criterion 1" in p for p in err.value.problems), err.value.problems
