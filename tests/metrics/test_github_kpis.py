"""GitHub KPIs (SPEC §5) against hand-computed tables.

Engagement: starts Mon 2026-09-07, Europe/Berlin. Ines (iortiz) and Priya (pnair) are internal, Marco
(marco, marco@acme-consulting.com) is vendor, Tom (tbecker) is vendor until 2026-09-21 and internal
from then on.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from metrics.delivery import (
    approving_reviews,
    git_merged_prs,
    internal_pr_share,
    internal_review_share,
    merged_prs,
    pr_capabilities,
    two_key_compliance,
)
from metrics.engagement import SourceData, compute
from metrics.engagement_file import parse_engagement
from metrics.pipeline import run_kinds, tag_kinds
from metrics.retraining import attributed_runs, data_cuts, internal_train_share, retrain_cycles, time_to_retrain

CFG = parse_engagement({
    "engagement": {"name": "X", "start": dt.date(2026, 9, 7), "weeks": 3, "timezone": "Europe/Berlin"},
    "people": [
        {"name": "Ines", "emails": ["ines@client.com"], "github": ["iortiz"],
         "affiliations": [{"side": "internal", "org": "Client"}]},
        {"name": "Priya", "github": ["pnair"], "affiliations": [{"side": "internal", "org": "Client"}]},
        {"name": "Marco", "emails": ["marco@acme-consulting.com"], "github": ["marco"],
         "affiliations": [{"side": "vendor", "org": "Acme"}]},
        {"name": "Tom", "github": ["tbecker"],
         "affiliations": [{"side": "vendor", "org": "Acme", "until": dt.date(2026, 9, 21)},
                          {"side": "internal", "org": "Client", "from": dt.date(2026, 9, 21)}]},
    ],
    "capabilities": [{"key": "data", "paths": ["data/**"]},
                     {"key": "training", "paths": ["train/**"], "ci_workflows": ["train.yml"]}],
    "pipeline": {"data_cut": {"workflows": ["data-cut.yml"], "tags": ["data-v*"]},
                 "train": {"workflows": ["train.yml", "Nightly retrain"]},
                 "deploy": {"workflows": [".github/workflows/deploy.yml"]},
                 "rollback": {"workflows": ["roll?ack.yml"]}},
})

T = pd.Timestamp


def prs_frame() -> pd.DataFrame:
    rows = [  # number, author, type, merged_at (UTC), base
        (1, "iortiz", "User", "2026-09-08T10:00Z", "main"),
        (2, "marco", "User", "2026-09-09T10:00Z", "main"),
        (3, "dependabot[bot]", "Bot", "2026-09-10T10:00Z", "main"),
        (4, None, None, "2026-09-10T11:00Z", "main"),  # deleted account: user null
        (5, "ghost", "User", "2026-09-11T10:00Z", "main"),
        (6, "marco", "User", None, "main"),  # closed without merge
        (7, "tbecker", "User", "2026-09-20T22:30Z", "main"),  # Mon 21 Sep 00:30 in Berlin: week 3, internal
        (8, "iortiz", "User", "2026-09-15T10:00Z", "release"),
    ]
    return pd.DataFrame({
        "source_id": 1, "repo": "acme/model", "number": [r[0] for r in rows], "author_login": [r[1] for r in rows],
        "author_type": [r[2] for r in rows], "merged_at": pd.to_datetime([r[3] for r in rows], utc=True),
        "base_ref": [r[4] for r in rows], "title": [f"PR {r[0]}" for r in rows],
        "html_url": [f"https://github.com/acme/model/pull/{r[0]}" for r in rows]})


def files_frame() -> pd.DataFrame:
    return pd.DataFrame({"source_id": 1, "number": [1, 1, 2, 6], "path": ["train/a.py", "README.md", "data/x.py",
                                                                          "train/b.py"], "previous_path": None})


def reviews_frame() -> pd.DataFrame:
    rows = [  # review id, pr, reviewer, type, state, submitted (UTC)
        (1, 1, "marco", "User", "APPROVED", "2026-09-08T09:00Z"),
        (2, 1, "pnair", "User", "APPROVED", "2026-09-08T09:10Z"),
        (3, 2, "iortiz", "User", "APPROVED", "2026-09-09T09:00Z"),
        (4, 3, "iortiz", "User", "APPROVED", "2026-09-10T09:00Z"),
        (5, 3, "renovate[bot]", "Bot", "APPROVED", "2026-09-10T09:05Z"),
        (6, 4, "iortiz", "User", "APPROVED", "2026-09-10T10:00Z"),
        (7, 4, "marco", "User", "APPROVED", "2026-09-10T10:10Z"),
        (8, 5, "marco", "User", "APPROVED", "2026-09-11T09:00Z"),
        (9, 5, "marco", "User", "APPROVED", "2026-09-11T09:30Z"),  # the same approver twice
        (10, 5, "pnair", "User", "CHANGES_REQUESTED", "2026-09-11T09:40Z"),
        (11, 6, "pnair", "User", "APPROVED", "2026-09-09T12:00Z"),  # PR never merged
        (12, 8, "pnair", "User", "APPROVED", "2026-09-15T09:00Z"),
        (13, 2, "pnair", "User", "PENDING", None),
    ]
    return pd.DataFrame({"source_id": 1, "review_id": [r[0] for r in rows], "number": [r[1] for r in rows],
                         "reviewer_login": [r[2] for r in rows], "reviewer_type": [r[3] for r in rows],
                         "state": [r[4] for r in rows], "submitted_at": pd.to_datetime([r[5] for r in rows], utc=True),
                         "html_url": None})


def rows_of(frame: pd.DataFrame, cols: list[str], capability=None) -> list[list]:
    sel = frame[frame["capability"].isna()] if capability is None else frame[frame["capability"] == capability]
    out = sel.sort_values("week")[cols].astype(object).where(sel[cols].notna(), None).values.tolist()
    return [[round(v, 4) if isinstance(v, float) else v for v in r] for r in out]


def test_internal_pr_share_by_merge_week_with_deleted_accounts_and_bots_apart():
    merged = merged_prs(prs_frame(), CFG)
    share = internal_pr_share(merged, pr_capabilities(files_frame(), CFG.capabilities))
    # week, internal, vendor, unattributed, bots, value
    assert rows_of(share, ["week", "internal", "vendor", "unattributed", "bots", "value"]) == [
        [1, 1, 1, 2, 1, 0.5],  # #1 Ines, #2 Marco, #3 bot, #4 user:null and #5 ghost unattributed
        [2, 1, 0, 0, 0, 1.0],  # #8 into release counts too (any base branch)
        [3, 1, 0, 0, 0, 1.0],  # #7 Tom, merged Monday 00:30 Berlin = week 3, after his move to internal
    ]
    assert rows_of(share, ["week", "internal", "vendor", "value"], "training") == [[1, 1, 0, 1.0]]
    assert rows_of(share, ["week", "internal", "vendor", "value"], "data") == [[1, 0, 1, 0.0]]


def test_internal_review_share_counts_approvals_on_merged_prs_by_submitted_week():
    merged = merged_prs(prs_frame(), CFG)
    approvals = approving_reviews(reviews_frame(), merged, CFG)
    share = internal_review_share(approvals, pr_capabilities(files_frame(), CFG.capabilities))
    # week 1 approvals: 1 Marco, 2 Priya, 3 Ines, 4 Ines, 5 bot, 6 Ines, 7 Marco, 8 Marco, 9 Marco
    assert rows_of(share, ["week", "internal", "vendor", "unattributed", "bots", "value"]) == [
        [1, 4, 4, 0, 1, 0.5],
        [2, 1, 0, 0, 0, 1.0],  # 12 Priya on #8; 11 is on an unmerged PR, 10 and 13 do not approve
    ]


def test_two_key_compliance_needs_an_internal_approver_other_than_the_author_and_a_second_approver():
    merged = merged_prs(prs_frame(), CFG)
    approvals = approving_reviews(reviews_frame(), merged, CFG)
    two_key = two_key_compliance(merged, approvals, {"main"})
    # week 1 into main: #1 yes (Priya + Marco), #2 no (one approver), #3 no (second approver is a bot),
    # #4 yes (Ines + Marco), #5 no (Marco twice, no internal). Week 3: #7 has no review. #8 is into release.
    assert rows_of(two_key, ["week", "n", "compliant", "value"]) == [[1, 5, 2, 0.4], [3, 1, 0, 0.0]]


def test_internal_train_share_uses_the_triggering_actor_and_counts_schedules_apart():
    def run(rid, path, name, event, actor, trig, created, attempt=1, ttype="User"):
        return {"source_id": 1, "run_id": rid, "run_attempt": attempt, "workflow_path": path, "name": name,
                "event": event, "actor_login": actor, "triggering_login": trig, "triggering_type": ttype,
                "created_at": T(created, tz="UTC"), "run_started_at": T(created, tz="UTC"),
                "updated_at": T(created, tz="UTC"), "conclusion": "success", "status": "completed",
                "html_url": f"https://github.com/acme/model/actions/runs/{rid}"}
    runs = pd.DataFrame([
        run(1, ".github/workflows/train.yml", "Train", "push", "marco", "marco", "2026-09-08T10:00"),
        run(1, ".github/workflows/train.yml", "Train", "push", "marco", "iortiz", "2026-09-08T10:00", attempt=2),
        run(2, ".github/workflows/train.yml", "Train", "schedule", "iortiz", "iortiz", "2026-09-09T02:00"),
        run(3, ".github/workflows/nightly.yml", "Nightly retrain", "workflow_dispatch", "pnair", "pnair",
            "2026-09-15T10:00"),
        run(4, ".github/workflows/deploy.yml", "Deploy", "push", "marco", "marco", "2026-09-08T11:00"),
        run(5, ".github/workflows/train.yml", "Train", "workflow_dispatch", "marco", "github-actions[bot]",
            "2026-09-16T10:00", ttype="Bot"),
        run(6, ".github/workflows/rollback.yml", "Rollback", "workflow_dispatch", "marco", "marco",
            "2026-09-16T11:00"),
    ])
    assert run_kinds(runs, CFG.pipeline).tolist() == ["train", "train", "train", "train", "deploy", "train",
                                                      "rollback"]
    share = internal_train_share(attributed_runs(runs, CFG))
    assert rows_of(share, ["week", "internal", "vendor", "unattributed", "bots", "value", "n", "scheduled"]) == [
        [1, 1, 1, 0, 0, 0.5, 2, 1],  # first attempt by Marco, re-run by Ines; the schedule run apart
        [2, 1, 0, 0, 1, 1.0, 2, 0],  # Priya via the display name; the bot beside the share
    ]


def retrain_inputs():
    def run(rid, path, trig, started, completed, conclusion="success"):
        return {"source_id": 1, "run_id": rid, "run_attempt": 1, "workflow_path": f".github/workflows/{path}",
                "name": path, "event": "workflow_dispatch", "actor_login": trig, "triggering_login": trig,
                "triggering_type": "User", "created_at": T(started, tz="UTC"),
                "run_started_at": T(started, tz="UTC"), "updated_at": T(completed, tz="UTC"),
                "conclusion": conclusion, "status": "completed",
                "html_url": f"https://github.com/acme/model/actions/runs/{rid}"}
    runs = pd.DataFrame([
        run(10, "train.yml", "iortiz", "2026-09-08T07:00Z", "2026-09-08T13:00Z"),  # T0 starts before C1 and C2
        run(1, "data-cut.yml", "iortiz", "2026-09-08T07:30Z", "2026-09-08T08:00Z"),  # C1, superseded by C2
        run(2, "data-cut.yml", "iortiz", "2026-09-08T11:00Z", "2026-09-08T12:00Z"),  # C2
        run(11, "train.yml", "iortiz", "2026-09-08T14:00Z", "2026-09-08T14:30Z", "failure"),  # T1 failed
        run(12, "train.yml", "iortiz", "2026-09-08T15:00Z", "2026-09-08T18:00Z"),  # T2: closes C2, 6 h
        run(3, "data-cut.yml", "iortiz", "2026-09-09T08:00Z", "2026-09-09T09:00Z", "failure"),  # no cut
        run(13, "train.yml", "iortiz", "2026-09-10T01:00Z", "2026-09-10T03:00Z"),  # T3: closes tag data-v2, 3 h
        run(14, "train.yml", "marco", "2026-09-11T01:00Z", "2026-09-11T12:00Z"),  # T4: closes tag data-v3, 12 h
        run(4, "data-cut.yml", "iortiz", "2026-09-15T09:00Z", "2026-09-15T10:00Z"),  # C5
        run(15, "train.yml", "iortiz", "2026-09-15T11:00Z", "2026-09-15T20:00Z"),  # T5: closes C5, 10 h
        run(5, "data-cut.yml", "iortiz", "2026-09-16T00:00Z", "2026-09-16T01:00Z"),  # C6: no train after it
    ])
    tags = pd.DataFrame({"source_id": 1, "name": ["data-v2", "data-v3", "v1.0"], "sha": "x",
                         "at": pd.to_datetime(["2026-09-10T00:00Z", "2026-09-11T00:00Z", "2026-09-12T00:00Z"],
                                              utc=True),
                         "tagger_name": ["Marco", "Ines", "Ines"],
                         "tagger_email": ["marco@acme-consulting.com", "ines@client.com", "ines@client.com"]})
    return runs, tags


def test_time_to_retrain_pairs_cuts_with_the_first_successful_train_started_after_them():
    runs, tags = retrain_inputs()
    assert tag_kinds(tags, CFG.pipeline).tolist() == ["data_cut", "data_cut", None]
    attributed = attributed_runs(runs, CFG)
    cycles = retrain_cycles(attributed, data_cuts(attributed, tags, CFG), CFG)
    got = cycles[["cut_ref", "train_run_id", "hours", "owner", "week"]].values.tolist()
    assert got == [
        ["run 2", 12, 6.0, "internal", 1],  # C1 superseded by C2; T0 started before; T1 failed
        ["tag data-v2", 13, 3.0, "vendor", 1],  # Marco tagged the cut
        ["tag data-v3", 14, 12.0, "vendor", 1],  # Marco triggered the train
        ["run 4", 15, 10.0, "internal", 2],
    ]
    ttr = time_to_retrain(cycles)
    # week 1: [3, 6, 12] -> median 6, p90 = 6 + 0.8 * (12 - 6) = 10.8
    assert rows_of(ttr, ["week", "value", "p90", "n", "internal", "vendor"]) == [
        [1, 6.0, 10.8, 3, 1, 2], [2, 10.0, 10.0, 1, 1, 0]]


def test_a_train_that_starts_before_the_cut_never_closes_it():
    runs, _ = retrain_inputs()
    only = runs[runs["run_id"].isin([2, 10])]  # C2 at 12:00, T0 started 07:00 and completed 13:00
    attributed = attributed_runs(only, CFG)
    assert retrain_cycles(attributed, data_cuts(attributed, pd.DataFrame(), CFG), CFG).empty


def _commit(sha, parents, name, email, when, merge=False):
    return {"source_id": 1, "sha": sha, "parents": parents, "is_merge": merge, "name": name, "email": email,
            "at": T(when, tz="UTC"), "committed_at": T(when, tz="UTC")}


def test_git_fallback_counts_merges_by_the_merged_branch_author():
    commits = pd.DataFrame([
        _commit("c1", "", "Ines", "ines@client.com", "2026-09-08T08:00Z"),
        _commit("b1", "c1", "Marco", "marco@acme-consulting.com", "2026-09-08T09:00Z"),
        _commit("m1", "c1 b1", "Ines", "ines@client.com", "2026-09-08T10:00Z", merge=True),
        _commit("c2", "m1", "Ines", "ines@client.com", "2026-09-09T08:00Z"),  # pushed directly: not a PR
        _commit("b2", "c2", "Ines", "ines@client.com", "2026-09-15T09:00Z"),
        _commit("m2", "c2 b2", "Marco", "marco@acme-consulting.com", "2026-09-15T10:00Z", merge=True),
    ])
    merged = git_merged_prs(commits, CFG)
    share = internal_pr_share(merged, pd.DataFrame(columns=["source_id", "number", "capability"]))
    assert rows_of(share, ["week", "internal", "vendor", "value"]) == [[1, 0, 1, 0.0], [2, 1, 0, 1.0]]


def test_git_fallback_without_merges_counts_first_parent_commits():
    commits = pd.DataFrame([
        _commit("s1", "", "Marco", "marco@acme-consulting.com", "2026-09-08T08:00Z"),
        _commit("s2", "s1", "Ines", "ines@client.com", "2026-09-09T08:00Z"),
        _commit("s3", "s2", "Ines", "ines@client.com", "2026-09-10T08:00Z"),
    ])
    share = internal_pr_share(git_merged_prs(commits, CFG), pd.DataFrame(columns=["source_id", "number",
                                                                                  "capability"]))
    assert rows_of(share, ["week", "internal", "vendor", "value"]) == [[1, 2, 1, pytest.approx(2 / 3, abs=1e-4)]]


def test_weekly_contract_carries_the_github_kpis_for_every_week():
    runs, tags = retrain_inputs()
    empty_commits = pd.DataFrame(columns=["source_id", "repo", "sha", "parents", "is_merge", "name", "email", "at",
                                          "committed_at"])
    data = SourceData(commits=empty_commits, commit_files=pd.DataFrame(columns=["source_id", "sha", "path",
                                                                                 "old_path"]),
                      pull_requests=prs_frame(), pr_files=files_frame(), reviews=reviews_frame(),
                      workflow_runs=runs, tags=tags)
    weekly = compute(CFG, data, today=dt.datetime(2026, 9, 30, tzinfo=dt.UTC)).weekly
    wide = weekly[weekly["capability"].isna()]
    got = wide.pivot_table(index="week", columns="kpi", values="value", aggfunc="first", dropna=False)
    assert got.loc[1, "internal_pr_share"] == 0.5 and got.loc[1, "two_key_compliance"] == 0.4
    assert got.loc[1, "time_to_retrain"] == 6.0
    ttr2 = wide[(wide["kpi"] == "time_to_retrain") & (wide["week"] == 2)].iloc[0]
    assert (ttr2["value"], ttr2["p90"], ttr2["n"]) == (10.0, 10.0, 1)
    pr3 = wide[(wide["kpi"] == "internal_review_share") & (wide["week"] == 3)].iloc[0]
    assert np.isnan(pr3["value"]) and pr3["internal"] == 0  # a week without approvals has a row, value null
    assert set(weekly["kpi"]) >= {"internal_pr_share", "internal_review_share", "two_key_compliance",
                                  "internal_train_share", "time_to_retrain", "internal_commit_share", "ladder_stage"}


def test_ladder_counts_prs_reviews_and_runs_besides_commits():
    runs, tags = retrain_inputs()
    data = SourceData(commits=pd.DataFrame(columns=["source_id", "repo", "sha", "parents", "is_merge", "name",
                                                    "email", "at", "committed_at"]),
                      commit_files=pd.DataFrame(columns=["source_id", "sha", "path", "old_path"]),
                      pull_requests=prs_frame(), pr_files=files_frame(), reviews=reviews_frame(),
                      workflow_runs=runs, tags=tags)
    steps = compute(CFG, data, today=dt.datetime(2026, 9, 30, tzinfo=dt.UTC)).ladder.set_index(["capability", "week"])
    # training, week 1: PR #1 by Ines; its approvals by Marco and Priya; train.yml runs 10, 11 (failed runs
    # count as activity), 12, 13 by Ines and 14 by Marco -> internal 1 + 1 + 4 = 6, vendor 1 + 1 = 2
    assert steps.loc[("training", 1), ["internal", "vendor"]].tolist() == [6, 2]
    assert steps.loc[("training", 2), ["internal", "vendor"]].tolist() == [1, 0]  # run 15
    # data, week 1: PR #2 by Marco and Ines's approval of it
    assert steps.loc[("data", 1), ["internal", "vendor"]].tolist() == [1, 1]
