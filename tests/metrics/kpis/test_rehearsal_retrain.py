"""rehearsal_retrain (SPEC §11): the acceptance rehearsal — data cut → successful train → passing evaluation →
successful staging deploy, all triggered by internal people, no vendor-triggered run of those kinds in between;
hours of the week's fastest complete cycle. Hand-computed tables: a small engagement, the demo, and real recorded
runs (DevLake's panjf2000/ants, where the train step is a re-run that started a day after its creation)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from collectors.demo import github_data as gh
from metrics.engagement import SourceData, compute
from metrics.engagement_file import parse_engagement
from metrics.service import evidence
from tests.support.system_kpis import (
    T,
    collect_recorded,
    config,
    demo,
    devlake_runs,
    junit,
    metrics,
    needs_samples,
    reconciliation_problems,
    row,
    run,
)

KPI = "rehearsal_retrain"
STAGING = "deploy-staging.yml"


def tags(*rows: tuple[str, str, str]) -> pd.DataFrame:
    """(name, tagged at UTC, tagger email) -> the tags frame db.queries.load_tags reads."""
    return pd.DataFrame([{"source_id": 2, "name": n, "sha": f"{i:040x}", "at": T(at), "tagger_name": email,
                          "tagger_email": email} for i, (n, at, email) in enumerate(rows)])


RUNS = [
    # week 1, cycle A: cut done 07:00 -> train 08-10 -> eval run 10:30-11:00 -> staging deploy done 12:00 = 5 h
    run(60, "data-cut.yml", "iortiz", "2026-09-08T06:00Z", updated="2026-09-08T07:00Z"),
    run(61, "train.yml", "iortiz", "2026-09-08T08:00Z", updated="2026-09-08T10:00Z"),
    run(62, "eval.yml", "pnair", "2026-09-08T10:30Z", updated="2026-09-08T11:00Z"),
    run(63, STAGING, "iortiz", "2026-09-08T11:30Z", updated="2026-09-08T12:00Z"),
    # week 1, attempt B: Marco trains between the cut and the deploy -> no cycle
    run(64, "data-cut.yml", "pnair", "2026-09-10T06:00Z", updated="2026-09-10T07:00Z"),
    run(65, "train.yml", "marco", "2026-09-10T08:00Z", updated="2026-09-10T09:00Z"),
    run(66, "train.yml", "pnair", "2026-09-10T09:30Z", updated="2026-09-10T10:30Z"),
    run(67, "eval.yml", "pnair", "2026-09-10T11:00Z", updated="2026-09-10T11:20Z"),
    run(68, STAGING, "pnair", "2026-09-10T12:00Z", updated="2026-09-10T12:30Z"),
    # week 2: tag data-v7 at 06:00, a newer cut (run 70) at 08:00; the train is a re-run created on Sunday that
    # started Monday 09:00 (after the cut; its created_at is before both cuts); JUnit 72 fails, 73 passes
    run(70, "data-cut.yml", "iortiz", "2026-09-14T07:00Z", updated="2026-09-14T08:00Z"),
    run(71, "train.yml", "iortiz", "2026-09-13T20:00Z", updated="2026-09-13T21:00Z", conclusion="failure"),
    run(71, "train.yml", "iortiz", "2026-09-13T20:00Z", attempt=2, started="2026-09-14T09:00Z",
        updated="2026-09-14T11:00Z"),
    run(72, "eval.yml", "pnair", "2026-09-14T11:30Z", updated="2026-09-14T12:00Z", conclusion="failure"),
    run(73, "eval.yml", "pnair", "2026-09-14T12:30Z", updated="2026-09-14T13:00Z"),
    run(75, STAGING, "iortiz", "2026-09-14T14:30Z", updated="2026-09-14T15:00Z"),  # cycle: 08:00 -> 15:00 = 7 h
    run(76, STAGING, "pnair", "2026-09-14T15:30Z", updated="2026-09-14T16:00Z"),  # same cut: already closed
    run(74, STAGING, "tbecker", "2026-09-14T16:30Z", updated="2026-09-14T17:00Z"),  # Tom is vendor until 21 Sep
    run(77, "deploy.yml", "iortiz", "2026-09-14T18:00Z", updated="2026-09-14T18:30Z"),  # production: not staging
    # week 3: two cycles, 3.5 h (tag data-v8 at 06:00 -> deploy done 09:30) and 4 h (cut done 06:30 -> 10:30)
    run(80, "train.yml", "tbecker", "2026-09-21T07:00Z", updated="2026-09-21T08:00Z"),
    run(81, "eval.yml", "tbecker", "2026-09-21T08:30Z", updated="2026-09-21T08:45Z"),
    run(82, STAGING, "tbecker", "2026-09-21T09:00Z", updated="2026-09-21T09:30Z"),
    run(83, "data-cut.yml", "pnair", "2026-09-22T06:00Z", updated="2026-09-22T06:30Z"),
    run(84, "train.yml", "pnair", "2026-09-22T07:00Z", updated="2026-09-22T09:00Z"),
    run(85, "eval.yml", "pnair", "2026-09-22T09:10Z", updated="2026-09-22T09:20Z"),
    run(86, STAGING, "pnair", "2026-09-22T09:30Z", updated="2026-09-22T10:30Z"),
]
JUNIT = [junit(67, "2026-09-10T11:20Z", 5), junit(72, "2026-09-14T12:00Z", 10, 1), junit(73, "2026-09-14T13:00Z", 10)]
TAGS = tags(("data-v7", "2026-09-14T06:00Z", "ines@client.com"), ("data-v8", "2026-09-21T06:00Z", "ines@client.com"))
# week -> (hours of the fastest cycle, cycles)
EXPECTED = {1: (5.0, 1), 2: (7.0, 1), 3: (3.5, 2)}


def test_fastest_complete_internal_cycle_per_week_by_hand():
    m = metrics(config(), RUNS, JUNIT, TAGS)
    for week, (hours, n) in EXPECTED.items():
        r = row(m, KPI, week)
        assert (r["value"], r["n"], r["internal"], r["vendor"]) == (pytest.approx(hours), n, n, 0), week
    assert reconciliation_problems(m, KPI) == []


def test_evidence_names_each_step_and_why_other_staging_deploys_close_nothing():
    m = metrics(config(), RUNS, JUNIT, TAGS)
    week1 = evidence(m, KPI, 1).set_index("id")
    assert week1.loc["run 60 → deploy 63/1", ["train_run", "eval_run", "eval_source"]].tolist() == [
        "61/1", "62/1", "eval run"]
    assert "1 vendor-triggered run(s)" in week1.loc["68/1", "reason"] and not week1.loc["68/1", "counted"]
    week2 = evidence(m, KPI, 2).set_index("id")
    cycle = week2.loc["run 70 → deploy 75/1"]
    assert (cycle["train_run"], cycle["eval_run"], cycle["eval_source"], cycle["hours"]) == ("71/2", "73/1", "junit",
                                                                                            7.0)
    assert "closed by an earlier staging deploy" in week2.loc["76/1", "reason"]
    assert week2.loc["74/1", "reason"] == "deployed by vendor (Tom)"
    assert week2["counted"].sum() == 1
    week3 = evidence(m, KPI, 3)
    assert sorted(week3["hours"]) == [3.5, 4.0] and week3.iloc[0]["cut"] == "tag data-v8"


def test_demo_values():
    m = demo()
    for week in m.weeks:
        r = row(m, KPI, week)
        hours, n = gh.INTENDED_REHEARSAL.get(week, (None, 0))
        assert r["n"] == n, week
        if hours is not None:
            assert r["value"] == pytest.approx(hours)
    week7 = evidence(m, KPI, 7)
    assert week7[["id", "counted", "reason"]].values.tolist() == [
        ["706/1", False, "no passing internal evaluation before it"]]
    assert reconciliation_problems(m, KPI) == []


@needs_samples
def test_devlake_cycle_with_a_rerun_train(tmp_path):
    """panjf2000/ants, read from the recording, with a data-cut tag by the maintainer at 2022-06-25T12:00Z: train =
    Tests 2559400714 (attempt 2: created 2022-06-25T04:17:45Z, before the cut; started 2022-06-26T12:35:50Z, after
    it; done 12:41:24), evaluation = Lint 2589885639 (attempt 2, started 2022-07-01T13:34:14Z, done 13:34:43),
    staging deploy = CodeQL 2600408985 (started 2022-07-02T05:05:26Z, done 05:06:23). All re-runs were triggered by
    panjf2000 (first attempts by zqkgo and hanfezh). Earlier CodeQL runs close nothing (no evaluation or train
    before them), later ones find the cut already closed."""
    frames = collect_recorded(tmp_path, devlake_runs())
    frames["tags"] = tags(("data-v1", "2022-06-25T12:00Z", "andy@ants.dev"))
    people = [{"name": "Andy", "emails": ["andy@ants.dev"], "github": ["panjf2000"],
               "affiliations": [{"side": "internal"}]},
              {"name": "Han", "github": ["hanfezh"], "affiliations": [{"side": "vendor"}]},
              {"name": "Zq", "github": ["zqkgo"], "affiliations": [{"side": "vendor"}]}]
    cfg = parse_engagement({
        "engagement": {"name": "ants", "start": dt.date(2022, 6, 27), "weeks": 2}, "people": people,
        "pipeline": {"data_cut": {"tags": ["data-v*"]}, "train": {"workflows": ["ci.yml"]},
                     "eval": {"workflows": ["lint.yml"]}, "deploy": {"workflows": ["codeql.yml"]},
                     "deploy_staging": {"workflows": ["CodeQL"]}}})
    m = compute(cfg, SourceData(**frames), today=dt.datetime(2022, 7, 11, tzinfo=dt.UTC))
    r = row(m, KPI, 1)
    assert (r["n"], r["internal"]) == (1, 1)
    assert r["value"] == pytest.approx(6 * 24 + 17 + 6 / 60 + 23 / 3600)  # 06-25 12:00:00 -> 07-02 05:06:23
    cycle = m.facts.rehearsals.cycles.iloc[0]
    assert (cycle["train_run"], cycle["eval_run"], cycle["deploy_run"]) == ("2559400714/2", "2589885639/2",
                                                                            "2600408985/1")
    assert reconciliation_problems(m, KPI) == []
