"""GitLab and MLflow in the shared KPIs (SPEC §12; docs/metrics.md "GitLab and MLflow"), against hand-computed tables.

The world of tests/metrics/kpis/world.py (start Mon 2026-09-07, UTC; Ines internal; Marco vendor; Tom vendor until
Sep 21) plus roster identities: Ines is GitLab `ines.o` and MLflow `ines`; Marco is GitLab `m.rossi` (MLflow by
his email marco@acme.com); Tom is GitLab `tbecker.gl` and MLflow `tom`. GitLab `iortiz` is NOT Ines (her GitHub
login): a GitLab username matches only GitLab roster identities. GitLab and MLflow rows go through the collectors'
row functions and a real database (SQLite and PostgreSQL), GitHub rows are frames as db.queries returns them.

Merged PRs/MRs (internal_pr_share), base main:
  GitHub #1 iortiz (Ines) Sep 8 w1 internal   | GitHub #2 marco Sep 9 w1 vendor
  GitLab !1 ines.o Sep 10 w1 internal         | GitLab !2 iortiz Sep 10 w1 unattributed (not on the roster as GitLab)
  GitLab !3 m.rossi Sep 15 w2 vendor          | GitLab !5 project_42_bot_9f Sep 16 w2 bot (a project access token)
  GitLab !4 ines.o open: not counted
  week | internal vendor unattributed bots | value
   1   |    2       1         1         0  | 2/3
   2   |    0       1         0         1  | 0.0
   3   |    0       0         0         0  | null

Approvals (internal_review_share): GitHub review 101 of #1 by marco Sep 8 (w1 vendor); !1 by m.rossi (note Sep 10
09:00) and tbecker.gl (note Sep 10 09:30; an unapprove and re-approve before it), w1 vendor x2; !3 by tbecker.gl
(note Sep 15 09:00, w2 vendor) and ines.o (no note: dated at the merge, Sep 15 10:00, w2 internal).
  week 1: internal 0, vendor 3 -> 0.0;  week 2: internal 1, vendor 1 -> 0.5
two_key_compliance (merged into main; an internal approver other than the author plus a second approver):
  week 1: #1 (marco only), #2 (none), !1 (two vendor approvers), !2 (none): 0 of 4; week 2: !3 compliant, !5 not:
  1 of 2 = 0.5. Side counts by author: week 1 internal 2, vendor 1, unattributed 1; week 2 vendor 1, bots 1.

Train runs (internal_train_share; [pipeline].train = train.yml or GitLab jobs "train-*", MLflow experiment
fraud-train):
  GitHub run 7 train.yml push marco Sep 8 11:00 success               w1 vendor
  MLflow r1 fraud-train ines notebook Sep 8 09:00-10:30 FINISHED      w1 internal (90 min)
  MLflow r2 fraud-train marco@acme.com job, ci.trigger=schedule Sep 9 w1 scheduled (counted apart)
  MLflow r5 scratch (not a train experiment) ines Sep 8               -
  MLflow r3 fraud-train user_id tom (no mlflow.user tag) Sep 16 FAILED w2 vendor (Tom vendor until Sep 21)
  GitLab pipeline 501 web ines.o, job train-model, Sep 17 09:00-10:01  w2 internal
  GitLab pipeline 502 schedule m.rossi, job train-model, Sep 18        w2 scheduled
  MLflow r4 fraud-train github-actions RUNNING Sep 22                 w3 bot
  week | internal vendor unattributed bots | value | n | scheduled
   1   |    1       1         0         0  |  0.5  | 2 |   1
   2   |    1       1         0         0  |  0.5  | 2 |   1
   3   |    0       0         0         1  |  null | 1 |   0
time_to_retrain: tag data-v1 by Ines Sep 8 08:00 -> the first successful train started after it is MLflow r1
  (started 09:00, ended 10:30): 2.5 h, owner internal, week 1.

Model promotions (registry "fraud": v1 from r1, v2 from r3; three collections):
  sweep 1 (first sight, ends Sep 10 12:00): alias production -> v1, tags promoted_by=marco@acme.com,
    promoted_at=Sep 9 15:00 -> at Sep 9 15:00 (tag), w1, creator Ines (v1's run), promoter Marco vendor, two-key no
  sweep 2 (Sep 10 12:00 .. Sep 17 12:00): production -> v2, no tags -> at Sep 17 12:00 (collection), w2,
    creator Tom, promoter unknown, two-key unknown
  sweep 3 (Sep 17 12:00 .. Sep 23 12:00): production -> v1 again, promoted_by=ines, promoted_at=Sep 22 10:00
    -> rollback (v1 < v2) replacing v2 promoted Sep 17 12:00; promoter Ines = creator: two-key no
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from collectors.gitlab.source import (
    approval_rows,
    job_row,
    mr_row,
    note_row,
    pipeline_row,
    write_merge_requests,
    write_pipelines,
)
from collectors.mlflow.source import experiment_row, registry_events, registry_targets, run_row, version_row
from db.engine import make_engine
from db.models import MlflowExperiment, MlflowModelVersion, MlflowRegistryEvent, MlflowRun
from db.queries import load_source_frames
from db.runs import ensure_source
from db.upsert import upsert
from metrics.engagement import SourceData, compute
from metrics.engagement_file import parse_engagement
from tests.metrics.kpis.world import START, TODAY, assert_every_row_reconciles, pull_requests, rows_of, runs, table

COLUMNS = ["week", "internal", "vendor", "unattributed", "bots", "value"]


def config():
    return parse_engagement({
        "engagement": {"name": "Mixed", "start": START, "weeks": 3, "timezone": "UTC"},
        "people": [
            {"name": "Ines", "emails": ["ines@client.com"], "github": ["iortiz"], "gitlab": ["ines.o"],
             "mlflow": ["ines"], "affiliations": [{"side": "internal"}]},
            {"name": "Marco", "emails": ["marco@acme.com"], "github": ["marco"], "gitlab": ["m.rossi"],
             "affiliations": [{"side": "vendor"}]},
            {"name": "Tom", "emails": ["tom@acme.com"], "github": ["tbecker"], "gitlab": ["tbecker.gl"],
             "mlflow": ["tom"], "affiliations": [{"side": "vendor", "until": dt.date(2026, 9, 21)},
                                                 {"side": "internal", "from": dt.date(2026, 9, 21)}]},
        ],
        "capabilities": [{"key": "training", "paths": ["train/**"], "ci_workflows": ["train.yml", "train-*"]}],
        "pipeline": {"data_cut": {"tags": ["data-v*"]},
                     "train": {"workflows": ["train.yml", "train-*"], "mlflow_experiments": ["fraud-train"]}},
        "sources": {"mlflow": [{"tracking_uri": "https://mlflow.client.example", "name": "mlflow"}],
                    "gitlab": [{"project": "client/model"}]},
    })


def ms(when: str) -> int:
    return int(pd.Timestamp(when, tz="UTC").timestamp() * 1000)


def user(name: str, uid: int) -> dict:
    return {"id": uid, "username": name, "name": name}


USERS = {"ines.o": 11, "iortiz": 12, "m.rossi": 13, "tbecker.gl": 14, "project_42_bot_9f": 15}


def mr(iid: int, author: str, merged: str | None) -> dict:
    return {"id": 9000 + iid, "iid": iid, "title": f"MR {iid}", "state": "merged" if merged else "opened",
            "created_at": "2026-09-07T08:00:00Z", "updated_at": merged or "2026-09-07T08:00:00Z",
            "merged_at": merged, "author": user(author, USERS[author]), "target_branch": "main",
            "source_branch": f"b{iid}", "web_url": f"https://gitlab.example/client/model/-/merge_requests/{iid}",
            "labels": []}


def note(nid: int, who: str, when: str, body: str) -> dict:
    return {"id": nid, "body": body, "author": user(who, USERS[who]), "created_at": when, "system": True}


def approved(*who: str) -> dict:
    return {"approved_by": [{"user": user(w, USERS[w])} for w in who]}


def write_gitlab(engine, sid: int) -> None:
    mrs = {1: mr(1, "ines.o", "2026-09-10T10:00:00Z"), 2: mr(2, "iortiz", "2026-09-10T11:00:00Z"),
           3: mr(3, "m.rossi", "2026-09-15T10:00:00Z"), 4: mr(4, "ines.o", None),
           5: mr(5, "project_42_bot_9f", "2026-09-16T10:00:00Z")}
    notes = {1: [note(1, "m.rossi", "2026-09-10T09:00:00Z", "approved this merge request"),
                 note(2, "tbecker.gl", "2026-09-10T09:10:00Z", "approved this merge request"),
                 note(3, "tbecker.gl", "2026-09-10T09:20:00Z", "unapproved this merge request"),
                 note(4, "tbecker.gl", "2026-09-10T09:30:00Z", "approved this merge request")],
             3: [note(5, "tbecker.gl", "2026-09-15T09:00:00Z", "approved this merge request")]}
    approvals = {1: approved("m.rossi", "tbecker.gl"), 3: approved("tbecker.gl", "ines.o")}
    approval, note_rows = [], []
    for iid, m in mrs.items():
        approval += approval_rows(sid, m, approvals.get(iid, {"approved_by": []}), notes.get(iid, []))
        note_rows += [note_row(sid, iid, n) for n in notes.get(iid, [])]
    pipelines = [
        ({"id": 501, "iid": 1, "status": "success", "source": "web", "ref": "main", "sha": "a" * 40,
          "created_at": "2026-09-17T09:00:00Z", "updated_at": "2026-09-17T10:01:00Z", "web_url": "https://gl/p/501"},
         {"user": user("ines.o", 11), "started_at": "2026-09-17T09:01:00Z", "finished_at": "2026-09-17T10:01:00Z",
          "duration": 3600}),
        ({"id": 502, "iid": 2, "status": "failed", "source": "schedule", "ref": "main", "sha": "b" * 40,
          "created_at": "2026-09-18T02:00:00Z", "updated_at": "2026-09-18T02:30:00Z", "web_url": "https://gl/p/502"},
         {"user": user("m.rossi", 13), "started_at": "2026-09-18T02:00:10Z", "finished_at": "2026-09-18T02:30:00Z",
          "duration": 1790}),
    ]
    jobs = [job_row(sid, pid, {"id": pid * 10, "name": "train-model", "stage": "train", "status": "success"})
            for pid in (501, 502)]
    with engine.begin() as conn:
        write_merge_requests(conn, sid, [mr_row(sid, m) for m in mrs.values()], approval, note_rows, [])
        write_pipelines(conn, [pipeline_row(sid, item, detail) for item, detail in pipelines], jobs)


def mlflow_run(run_id: str, exp: str, start: str, end: str | None, status: str, user_tag: str | None,
               user_id: str = "", source_type: str = "NOTEBOOK", trigger: str | None = None) -> dict:
    tags = [{"key": "mlflow.source.type", "value": source_type}]
    if user_tag:
        tags.append({"key": "mlflow.user", "value": user_tag})
    if trigger:
        tags.append({"key": "ci.trigger", "value": trigger})
    info = {"run_id": run_id, "experiment_id": exp, "run_name": run_id, "user_id": user_id, "status": status,
            "start_time": ms(start), "lifecycle_stage": "active"}
    if end:
        info["end_time"] = ms(end)
    return {"info": info, "data": {"tags": tags}}


def version(v: int, run_id: str, tags: dict | None = None) -> dict:
    return {"name": "fraud", "version": str(v), "creation_timestamp": ms("2026-09-08 11:00") + v,
            "last_updated_timestamp": ms("2026-09-08 11:00") + v, "current_stage": "None", "run_id": run_id,
            "status": "READY", "tags": [{"key": k, "value": val} for k, val in (tags or {}).items()]}


def write_mlflow(engine, sid: int) -> None:
    ui = "https://mlflow.client.example"
    runs_ = [mlflow_run("r1", "1", "2026-09-08 09:00", "2026-09-08 10:30", "FINISHED", "ines"),
             mlflow_run("r2", "1", "2026-09-09 02:00", "2026-09-09 03:00", "FINISHED", "marco@acme.com",
                        source_type="JOB", trigger="schedule"),
             mlflow_run("r5", "2", "2026-09-08 12:00", "2026-09-08 12:30", "FINISHED", "ines"),
             mlflow_run("r3", "1", "2026-09-16 09:00", "2026-09-16 09:20", "FAILED", None, user_id="tom"),
             mlflow_run("r4", "1", "2026-09-22 09:00", None, "RUNNING", "github-actions")]
    experiments = [{"experiment_id": "1", "name": "fraud-train"}, {"experiment_id": "2", "name": "scratch"}]
    sweeps = [  # (window_start, window_end, versions, aliases)
        (None, "2026-09-10 12:00", [version(1, "r1", {"promoted_by": "marco@acme.com",
                                                      "promoted_at": "2026-09-09T15:00:00Z"})],
         [{"alias": "production", "version": "1"}]),
        ("2026-09-10 12:00", "2026-09-17 12:00", [version(1, "r1"), version(2, "r3")],
         [{"alias": "production", "version": "2"}]),
        ("2026-09-17 12:00", "2026-09-23 12:00", [version(1, "r1", {"promoted_by": "ines",
                                                                    "promoted_at": "2026-09-22T10:00:00Z"}),
                                                  version(2, "r3")], [{"alias": "production", "version": "1"}]),
    ]
    events, before, seqs = [], {}, {}
    for start, end, versions, aliases in sweeps:
        after = registry_targets(versions, aliases)
        events += registry_events("fraud", before, after, {int(v["version"]): v for v in versions}, seqs,
                                  window_start=pd.Timestamp(start).to_pydatetime() if start else None,
                                  window_end=pd.Timestamp(end).to_pydatetime(), promoted_by_tag="promoted_by",
                                  source_id=sid)
        before = after
    with engine.begin() as conn:
        upsert(conn, MlflowExperiment.__table__, [experiment_row(sid, e) for e in experiments],
               key=["source_id", "experiment_id"])
        upsert(conn, MlflowRun.__table__, [run_row(sid, r, ui) for r in runs_], key=["source_id", "run_id"])
        upsert(conn, MlflowModelVersion.__table__, [version_row(sid, v, ["production"] if v["version"] == "1" else [],
                                                                ui) for v in sweeps[-1][2]],
               key=["source_id", "model", "version"])
        upsert(conn, MlflowRegistryEvent.__table__, events, key=["source_id", "model", "target", "seq"])


@pytest.fixture
def mixed(db_url):
    engine = make_engine(db_url)
    with engine.begin() as conn:
        ensure_source(conn, "github", "acme/model", "acme/model")  # id 1: the GitHub frames below
        gitlab = ensure_source(conn, "gitlab", "https://gitlab.example/client/model", "model")
        mlflow = ensure_source(conn, "mlflow", "https://mlflow.client.example", "mlflow")
    write_gitlab(engine, gitlab)
    write_mlflow(engine, mlflow)
    frames = load_source_frames(engine)
    frames.update(pull_requests([(1, "iortiz", "2026-09-08 10:00", "main", ["train/a.py"]),
                                 (2, "marco", "2026-09-09 10:00", "main", [])],
                                [(101, 1, "marco", "APPROVED", "2026-09-08 12:00")]))
    frames.update(runs([(7, 1, "train.yml", "push", "marco", "2026-09-08 11:00", "2026-09-08 12:00", "success")],
                       [("data-v1", "2026-09-08 08:00", "Ines")]))
    m = compute(config(), SourceData(**frames), today=TODAY)
    engine.dispose()
    return m


def test_one_internal_pr_share_series_over_github_and_gitlab(mixed):
    assert table(mixed, "internal_pr_share", COLUMNS) == [[1, 2, 1, 1, 0, 0.6667], [2, 0, 1, 0, 1, 0.0],
                                                          [3, 0, 0, 0, 0, None]]
    assert rows_of(mixed, "internal_pr_share", 1, columns=("id", "side", "url")) == [
        ["acme/model#1", "internal", "https://github.com/acme/model/pull/1"],
        ["acme/model#2", "vendor", "https://github.com/acme/model/pull/2"],
        ["model#1", "internal", "https://gitlab.example/client/model/-/merge_requests/1"],
        ["model#2", "unattributed", "https://gitlab.example/client/model/-/merge_requests/2"]]
    assert_every_row_reconciles(mixed, "internal_pr_share")


def test_gitlab_approvals_are_approving_reviews(mixed):
    assert table(mixed, "internal_review_share", COLUMNS) == [[1, 0, 3, 0, 0, 0.0], [2, 1, 1, 0, 0, 0.5],
                                                              [3, 0, 0, 0, 0, None]]
    assert rows_of(mixed, "internal_review_share", 2, columns=("id", "at", "side", "url")) == [
        ["5", "2026-09-15T09:00:00Z", "vendor", "https://gitlab.example/client/model/-/merge_requests/3#note_5"],
        ["-3000000011", "2026-09-15T10:00:00Z", "internal", "https://gitlab.example/client/model/-/merge_requests/3"]]
    assert_every_row_reconciles(mixed, "internal_review_share")


def test_two_key_compliance_counts_merge_requests(mixed):
    assert table(mixed, "two_key_compliance", [*COLUMNS, "n"]) == [[1, 2, 1, 1, 0, 0.0, 4.0],
                                                                   [2, 0, 1, 0, 1, 0.5, 2.0],
                                                                   [3, 0, 0, 0, 0, None, 0.0]]
    assert_every_row_reconciles(mixed, "two_key_compliance")


def test_mlflow_runs_and_gitlab_pipelines_are_train_runs(mixed):
    assert table(mixed, "internal_train_share", [*COLUMNS, "n", "scheduled"]) == [
        [1, 1, 1, 0, 0, 0.5, 2.0, 1.0], [2, 1, 1, 0, 0, 0.5, 2.0, 1.0], [3, 0, 0, 0, 1, None, 1.0, 0.0]]
    assert rows_of(mixed, "internal_train_share", 1, columns=("kind", "id", "side", "counted", "url")) == [
        ["mlflow_run", "r1", "internal", True, "https://mlflow.client.example/#/experiments/1/runs/r1"],
        ["run", "7/1", "vendor", True, "https://github.com/acme/model/actions/runs/7"],
        ["mlflow_run", "r2", "vendor", False, "https://mlflow.client.example/#/experiments/1/runs/r2"]]
    assert rows_of(mixed, "internal_train_share", 2, columns=("kind", "id", "side", "counted")) == [
        ["mlflow_run", "r3", "vendor", True], ["run", "501/1", "internal", True], ["run", "502/1", "vendor", False]]
    assert_every_row_reconciles(mixed, "internal_train_share")


def test_time_to_retrain_closes_on_an_mlflow_run(mixed):
    assert table(mixed, "time_to_retrain", ["week", "internal", "value", "n"]) == [[1, 1, 2.5, 1.0],
                                                                                    [2, 0, None, 0.0],
                                                                                    [3, 0, None, 0.0]]


def test_train_runs_keep_their_start_and_end_for_run_minutes(mixed):
    train = mixed.facts.github.runs
    train = train[train["kind"].eq("train")].set_index("run_id")
    minutes = (train["updated_at"] - train["run_started_at"]).dt.total_seconds() / 60
    assert minutes.drop("r4").round(1).to_dict() == {"7": 60.0, "r1": 90.0, "r2": 60.0, "r3": 20.0, "501": 60.0,
                                                     "502": 29.8}
    assert pd.isna(minutes["r4"])  # still running: no end time


def test_model_promotions_creator_promoter_rollback_two_key(mixed):
    p = mixed.facts.model_promotions
    cols = ["version", "at_source", "week", "creator_person", "promoter_person", "promoter_side", "rollback", "two_key"]
    got = p[cols].astype(object).where(p[cols].notna(), None).values.tolist()
    assert got == [[1, "tag", 1, "Ines", "Marco", "vendor", False, False],
                   [2, "collection", 2, "Tom", None, "unknown", False, None],
                   [1, "tag", 3, "Ines", "Ines", "internal", True, False]]
    assert [str(t) for t in p["at"]] == ["2026-09-09 15:00:00+00:00", "2026-09-17 12:00:00+00:00",
                                         "2026-09-22 10:00:00+00:00"]
    assert str(p["replaced_at"].iloc[2]) == "2026-09-17 12:00:00+00:00"
    assert p["url"].iloc[0] == "https://mlflow.client.example/#/models/fraud/versions/1"


def test_promotions_are_shown_beside_two_key_compliance_not_counted(mixed):
    from metrics.service import evidence

    rows = evidence(mixed, "two_key_compliance", 2, None)
    promo = rows[rows["kind"] == "model_promotion"]
    assert promo[["id", "counted", "side", "compliant"]].values.tolist() == [
        ["mlflow:fraud/2@2026-09-17T12:00:00Z", False, "unknown", None]]
    title = promo["title"].iloc[0]
    assert "promoted by unknown (promoter unknown: no version tag names one)" in title
    assert "between 2026-09-10 12:00 UTC and 2026-09-17 12:00 UTC" in title
    assert json.loads(json.dumps(rows.astype(object).where(rows.notna(), None).to_dict("records")))  # exportable
