"""The demo's milestones end to end through the CLI: pending -> met in the intended weeks, two keys accept one,
a roster edit afterwards flags "evidence changed since signing", a frozen week shows restated figures."""

from __future__ import annotations

import json
import subprocess

import pytest

from collectors.__main__ import main as collectors_main
from collectors.demo import build as demo
from db.engine import make_engine
from metrics.acceptance import acceptance_table
from metrics.engagement_file import load_engagement
from metrics.milestones import milestone_states
from metrics.service import engagement_metrics
from metrics.snapshots import restatements, snapshot
from tests.support.cli import metrics_cli  # `python -m metrics ...`, in this process
from tests.support.demo_edits import DEMO_ID, edit_roster
from tests.support.demo_template import copy_demo


@pytest.fixture
def demo_db(tmp_path):
    """A copy of the collected demo of this test's own (the tests sign, freeze, edit and commit)."""
    toml = copy_demo(tmp_path)
    return toml, f"sqlite:///{tmp_path / 'baton.db'}"


def test_demo_milestones_move_pending_to_met_in_the_intended_weeks(demo_db):
    toml, url = demo_db
    m = engagement_metrics(load_engagement(toml), make_engine(url))
    states = milestone_states(m)
    for ms, intended in demo.INTENDED_MILESTONE_STATES.items():
        rows = states[(states["milestone"] == ms) & states["week"].between(1, 8)].sort_values("week")
        assert rows["state"].tolist() == intended, ms
        assert rows["met_week"].dropna().unique().tolist() == [demo.INTENDED_MET_WEEK[ms]], ms
    out = metrics_cli("milestones", "--config", str(toml), "--db", url, "--week", "4", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert {r["milestone"]: r["state"] for r in json.loads(out.stdout)} == {"M1": "met", "M2": "met",
                                                                             "M3": "at risk"}


def test_two_keys_accept_then_a_roster_edit_flags_evidence_changed(demo_db):
    toml, url = demo_db
    base = ["--config", str(toml), "--db", url, "--milestone", "M1"]
    out = metrics_cli("sign", *base, "--name", "Ines Ortiz", "--comment", "Data changes are ours now")
    assert out.returncode == 0, out.stderr
    assert "(internal, unverified)" in out.stdout and "not accepted yet" in out.stdout
    out = metrics_cli("sign", *base, "--name", "Marco Bianchi", "--comment", "Agreed for Acme")
    assert out.returncode == 0, out.stderr
    assert "(vendor, unverified)" in out.stdout and "accepted (two keys)" in out.stdout
    out = metrics_cli("sign", "--config", str(toml), "--db", url, "--milestone", "M9", "--name", "Ines Ortiz",
                      "--comment", "x")
    assert out.returncode == 2 and out.stderr.strip() == "error: unknown milestone 'M9' (milestones: M1, M2, M3)"

    engine = make_engine(url)
    before = acceptance_table(engine, engagement_metrics(load_engagement(toml), engine)).set_index("milestone")
    assert before.loc["M1", "accepted"] and not before.loc["M1", "evidence_changed"]

    edit_roster(toml)
    after = acceptance_table(engine, engagement_metrics(load_engagement(toml), engine)).set_index("milestone")
    assert after.loc["M1", "accepted"] and after.loc["M1", "evidence_changed"]
    assert any("Handle missing merchant ids in loader" in line and "no longer counts" in line
               for line in after.loc["M1", "changes"]), after.loc["M1", "changes"]
    out = metrics_cli("milestones", "--config", str(toml), "--db", url, "--week", "8", "--format", "json")
    m1 = next(r for r in json.loads(out.stdout) if r["milestone"] == "M1")
    assert m1["accepted"] and m1["evidence_changed"] and m1["signatures"] == 2


def test_frozen_demo_week_is_restated_after_a_roster_edit(demo_db):
    toml, url = demo_db
    out = metrics_cli("freeze", "--config", str(toml), "--db", url, "--week", "3", "--by", "Ines Ortiz")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("froze week 3: ")
    again = metrics_cli("freeze", "--config", str(toml), "--db", url, "--week", "3")
    assert again.returncode == 2 and "a frozen week is never overwritten" in again.stderr

    engine = make_engine(url)
    edit_roster(toml)
    restated = restatements(snapshot(engine, DEMO_ID, 3), engagement_metrics(load_engagement(toml), engine))
    overall = restated[(restated["kpi"] == "internal_commit_share") & restated["capability"].isna()].iloc[0]
    week3 = demo.INTENDED_WEEKLY_COMMITS[3]
    assert overall["old"] == pytest.approx(week3["internal"] / (week3["internal"] + week3["vendor"]))
    priya_week3 = 2  # "Handle missing merchant ids in loader" (data), "Test segment report columns" (evaluation)
    assert overall["new"] == pytest.approx((week3["internal"] - priya_week3) / (week3["internal"] + week3["vendor"]))
    assert overall["why"] == "roster change (2 items re-attributed)"


def test_revoke_and_roles_from_the_command_line(demo_db):
    toml, url = demo_db
    base = ["--config", str(toml), "--db", url, "--milestone", "M2"]
    assert metrics_cli("sign", *base, "--name", "Ivan Kowalski", "--comment", "ok").returncode == 0
    out = metrics_cli("revoke", *base, "--name", "Ivan Kowalski", "--comment", "too early")
    assert out.returncode == 0 and "appended; nothing deleted" in out.stdout
    again = metrics_cli("revoke", *base, "--name", "Ivan Kowalski", "--comment", "again")
    assert again.returncode == 2
    assert again.stderr.strip() == "error: Ivan Kowalski has no standing signature of milestone M2 to revoke"
    from db.review_store import load_signatures, role_of

    assert load_signatures(make_engine(url), DEMO_ID)["action"].tolist() == ["sign", "revoke"]
    out = metrics_cli("role", "--config", str(toml), "--db", url, "--email", "Ines.Ortiz@client.com",
                      "--role", "editor,signer")
    assert out.returncode == 0, out.stderr
    assert role_of(make_engine(url), "ines.ortiz@client.com") == "editor,signer"
    bad = metrics_cli("role", "--config", str(toml), "--db", url, "--email", "x@y.z", "--role", "admin")
    assert bad.returncode == 2 and "--role: expected one or more of viewer, editor, signer" in bad.stderr


def test_frozen_demo_week_is_restated_after_new_data_is_collected(demo_db):
    toml, url = demo_db
    assert metrics_cli("freeze", "--config", str(toml), "--db", url, "--week", "8").returncode == 0
    repo = toml.parent / demo.REPO_NAME
    (repo / "data" / "late_fix.py").write_text("FIX = 1\n")
    env = {"GIT_AUTHOR_NAME": "Ines Ortiz", "GIT_AUTHOR_EMAIL": "ines.ortiz@client.com",
           "GIT_AUTHOR_DATE": "2026-10-28T10:00:00+01:00", "GIT_COMMITTER_NAME": "Ines Ortiz",
           "GIT_COMMITTER_EMAIL": "ines.ortiz@client.com", "GIT_COMMITTER_DATE": "2026-11-02T10:00:00+01:00",
           "PATH": "/usr/bin:/bin", "HOME": str(toml.parent)}
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "-c", "commit.gpgsign=false", "commit", "-q", "-m", "Late data fix"],
                   check=True, env=env)
    assert collectors_main(["collect", "--config", str(toml), "--db", url, "--quiet"]) == 0

    engine = make_engine(url)
    restated = restatements(snapshot(engine, DEMO_ID, 8), engagement_metrics(load_engagement(toml), engine))
    week8 = demo.INTENDED_WEEKLY_COMMITS[8]
    rows = {(r.kpi, r.capability if isinstance(r.capability, str) else None): r for r in restated.itertuples()}
    overall = rows[("internal_commit_share", None)]
    assert overall.old == pytest.approx(week8["internal"] / (week8["internal"] + week8["vendor"]))
    assert overall.new == pytest.approx((week8["internal"] + 1) / (week8["internal"] + 1 + week8["vendor"]))
    assert overall.why == "new data collected (1 new item)"
    data_internal, data_vendor = demo.INTENDED_COUNTS["data"][8]
    assert data_vendor == 0 and ("internal_commit_share", "data") not in rows  # 100% before and after
    assert set(rows) == {("internal_commit_share", None)}
