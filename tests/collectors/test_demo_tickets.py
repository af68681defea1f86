"""The demo's tickets end to end: recording -> local replay server -> real Jira collector -> DB -> KPIs -> CLI
and pages, equal to what the demo intends (collectors/demo/tickets.py INTENDED_* tables)."""

from __future__ import annotations

import json

import pytest

from collectors.__main__ import main as collectors_main
from collectors.demo import tickets as demo_tickets
from tests.support.cli import metrics_cli, run_main
from tests.support.demo_template import collect_output, copy_demo


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-tickets")
    toml = copy_demo(out)  # the demo collected by plain `collect` (tests/support/demo_template.py)
    db = f"sqlite:///{out / 'baton.db'}"
    assert "jira fraud-model Jira: 12 issues seen, 12 fetched" in collect_output()  # what that collection printed
    return toml, db


def _weekly(toml, db, kpi):
    out = metrics_cli("weekly", "--config", str(toml), "--db", db, "--format", "json", "--kpi", kpi, check=True)
    return {r["week"]: r for r in json.loads(out.stdout) if r["capability"] is None}


def test_demo_runbook_completion_matches_intent(collected):
    rows = _weekly(*collected, "runbook_completion")
    got = {w: (r["started"], r["completed"], r["internal"], r["vendor"], r["unprompted_internal"], r["items_checked"],
               r["items_total"], r["value"]) for w, r in rows.items()}
    assert got == demo_tickets.INTENDED_RUNBOOK_WEEKLY


def test_demo_drill_outcome_matches_intent(collected):
    rows = _weekly(*collected, "drill_outcome")
    got = {w: (r["drills"], r["internal"], r["vendor"], r["passes"], r["internal_passes"], r["value"])
           for w, r in rows.items()}
    assert got == demo_tickets.INTENDED_DRILL_WEEKLY
    assert "started" not in rows[2]  # runbook-only counts are absent from drill rows


def test_demo_rerun_fetches_no_issue_bodies(collected):
    toml, db = collected
    run = run_main(collectors_main, "collect", "--config", str(toml), "--db", db, "--quiet", check=True)
    # Only the newest issue lies inside the 10-minute overlap window; it is unchanged, so no body is fetched.
    assert "jira fraud-model Jira: 1 issues seen, 0 fetched" in run.stdout


def test_demo_pages_show_runbooks_and_drills(app, collected):  # noqa: F811
    toml, db = collected
    at = app(toml, db, "pages/runbooks.py")
    assert {m.label: m.value for m in at.metric} == {"Executions": "7", "Completed": "6",
                                                     "Unprompted internal": "50%"}
    table = [d.value for d in at.dataframe if "unprompted internal" in d.value.columns][0]
    assert table["ticket"].iloc[0] == "https://fraud-model.atlassian.net/browse/MLOPS-1"
    at = app(toml, db, "pages/drills.py")
    assert {m.label: m.value for m in at.metric} == {"Drills": "3", "Open": "0", "Passed": "2",
                                                     "Internal passes": "1"}
