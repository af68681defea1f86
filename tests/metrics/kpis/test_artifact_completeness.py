"""artifact_completeness (SPEC §11): the handover binder at each week's end — present, fresh, owned — from a real git
repository collected by the real collectors (collectors/git/source.py, collectors/git/week_ends.py) on SQLite and
PostgreSQL, against hand-computed tables; the default binder; the demo's binder."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from collectors.demo import build as demo_build
from collectors.git.source import collect_git
from collectors.git.week_ends import collect_week_ends
from db.engine import make_engine
from db.queries import load_source_frames
from engagement.binder import DEFAULT_BINDER
from engagement.config import ConfigError
from metrics.binder import checklist
from metrics.engagement import SourceData, compute
from metrics.engagement_file import parse_engagement
from metrics.service import evidence
from tests.support.system_kpis import demo, reconciliation_problems, row

KPI = "artifact_completeness"
ANN, VIC = "Ann <ann@client.com>", "Vic <vic@acme.com>"
BOT = "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>"
NOW = dt.datetime(2026, 9, 30, 12, tzinfo=dt.UTC)  # week 4 of an engagement starting 2026-09-07 (UTC)
ARTIFACTS = [
    {"key": "readme", "title": "README", "paths": ["/README.md"]},
    {"key": "lock", "title": "Lock file", "paths": ["/requirements.txt"]},
    {"key": "runbook", "title": "Training runbook", "paths": ["runbooks/*train*"], "capability": "training",
     "max_age_weeks": 1},
    {"key": "card", "title": "Model card", "paths": ["/MODEL_CARD.md"], "capability": "training"},
    {"key": "env", "title": "Dockerfile", "paths": ["/Dockerfile"], "capability": "deployment"},
]


def config(repo, artifacts=ARTIFACTS):
    return parse_engagement({
        "engagement": {"name": "Binder", "start": dt.date(2026, 9, 7), "weeks": 3, "timezone": "UTC"},
        "classify": {"internal_email_domains": ["client.com"], "vendor_email_domains": ["acme.com"]},
        "sources": {"git": [{"path": str(repo), "branch": "main"}]},
        "capabilities": [{"key": "training", "paths": ["train/**"]}, {"key": "deployment", "paths": ["deploy/**"]}],
        **({"artifacts": artifacts} if artifacts else {})})


def history(repo) -> None:
    repo.commit("scaffold", {"README.md": "# x\n", "requirements.txt": "numpy==1\n", "Dockerfile": "FROM python\n"},
                author=VIC, date="2026-09-01T10:00:00+00:00")  # week 0
    repo.commit("training runbook", {"runbooks/train.md": "1\n"}, author=ANN, date="2026-09-08T10:00:00+00:00")
    for i, day in enumerate((9, 11, 12, 13)):  # four bot bumps: the last person to change it is still Vic
        repo.commit(f"bump {i}", {"requirements.txt": f"numpy=={i + 2}\n"}, author=BOT,
                    date=f"2026-09-{day:02d}T10:00:00+00:00")
    repo.commit("readme", {"README.md": "# x\nsetup\n"}, author=ANN, date="2026-09-10T10:00:00+00:00")
    repo.commit("runbook edit", {"runbooks/train.md": "1\n2\n"}, author=VIC, date="2026-09-16T10:00:00+00:00")
    repo.git("mv", "runbooks/train.md", "runbooks/training.md")
    repo.commit("rename runbook", author=ANN, date="2026-09-17T10:00:00+00:00")  # a rename is a change
    repo.commit("drop the Dockerfile", author=VIC, date="2026-09-18T10:00:00+00:00", delete=("Dockerfile",))
    repo.commit("model card", {"MODEL_CARD.md": "# card\n"}, author=ANN, date="2026-09-22T10:00:00+00:00")


def collected(repo, db_url, cfg):
    engine = make_engine(db_url)
    collect_git(engine, repo.path, "main", progress=False)
    collect_week_ends(engine, cfg, repo.path, "main", repo.path.name, now=NOW)
    return engine, compute(cfg, SourceData(**load_source_frames(engine)), today=NOW)


# week -> (present, fresh, owned, internal, vendor) over the five artifacts; value = fresh / 5
# w0: README, lock, Dockerfile by Vic. w1: README and runbook by Ann (runbook 5.6 days old, max 1 week); lock:
# newest change a bot bump, last person Vic. w2: runbook renamed by Ann (the rename is its last change); Dockerfile
# deleted. w3: model card by Ann; the runbook's last change (17 Sep) is 10.6 days old: stale, still Ann's.
EXPECTED = {0: (3, 3, 0, 0, 3), 1: (4, 4, 2, 2, 2), 2: (3, 3, 2, 2, 1), 3: (4, 3, 3, 3, 1)}
# (capability, week) -> value
EXPECTED_CAPABILITY = {("training", 1): 0.5, ("training", 2): 0.5, ("training", 3): 0.5, ("deployment", 1): 1.0,
                       ("deployment", 2): 0.0, ("training", 0): 0.0}


def test_present_fresh_owned_by_hand(git_repo, db_url):
    history(git_repo)
    cfg = config(git_repo.path)
    _, m = collected(git_repo, db_url, cfg)
    for week, (present, fresh, owned, internal, vendor) in EXPECTED.items():
        r = row(m, KPI, week)
        assert (r["artifacts"], r["present"], r["fresh"], r["owned"], r["internal"], r["vendor"], r["n"]) == (
            5, present, fresh, owned, internal, vendor, present), week
        assert r["value"] == pytest.approx(fresh / 5), week
    for (cap, week), value in EXPECTED_CAPABILITY.items():
        assert row(m, KPI, week, cap)["value"] == pytest.approx(value), (cap, week)
    assert reconciliation_problems(m, KPI) == []


def test_checklist_and_evidence_say_what_is_missing(git_repo, sqlite_url):
    history(git_repo)
    _, m = collected(git_repo, sqlite_url, config(git_repo.path))
    week1 = checklist(m.facts.binder, 1).set_index("key")
    assert week1.loc["lock", ["present", "fresh", "owned", "owner"]].tolist() == ["✓", "✓", "✗", "Vic (vendor)"]
    assert week1.loc["lock", "last change"] == "2026-09-13 by dependabot[bot]"
    assert week1.loc["card", "what is missing"] == "no file matches /MODEL_CARD.md"
    week3 = checklist(m.facts.binder, 3).set_index("key")
    assert week3.loc["runbook", ["present", "fresh", "owned"]].tolist() == ["✓", "✗", "✓"]
    assert week3.loc["runbook", "what is missing"].startswith("stale: last changed 1.5 weeks before")
    rows = evidence(m, KPI, 1).set_index("id")
    lock = rows.loc["lock:repo:requirements.txt"]
    assert (lock["person"], lock["side"], lock["last_changed_by"], lock["counted"]) == ("Vic", "vendor",
                                                                                       "dependabot[bot]", True)
    assert not rows.loc["card", "counted"]


def test_rerun_lists_nothing_again_and_keeps_the_rows(git_repo, sqlite_url):
    history(git_repo)
    cfg = config(git_repo.path)
    engine, _ = collected(git_repo, sqlite_url, cfg)
    before = pd.read_sql("SELECT * FROM artifact_files ORDER BY week, path", engine)
    collect_week_ends(engine, cfg, git_repo.path, "main", git_repo.path.name, now=NOW)
    after = pd.read_sql("SELECT * FROM artifact_files ORDER BY week, path", engine)
    pd.testing.assert_frame_equal(before, after)
    assert before.groupby("week").size().to_dict() == {0: 3, 1: 4, 2: 3, 3: 4, 4: 4}


def test_default_binder_finds_the_usual_places(git_repo, sqlite_url):
    files = {"README.md": "", "poetry.lock": "", "infra/terraform/main.tf": "", "contracts/transactions.yaml": "",
             "eval/thresholds.yaml": "", "docs/model_card.md": "", "runbooks/retrain.md": "",
             "runbooks/deploy.md": "", "runbooks/rollback.md": "", "runbooks/incident.md": "",
             "ops/alerts/latency.yaml": "", "docs/architecture.md": "", "docs/data-handling.md": "",
             "src/readme_helper.py": ""}
    git_repo.commit("everything", files, author=ANN, date="2026-09-08T10:00:00+00:00")
    cfg = config(git_repo.path, artifacts=None)
    assert [a.key for a in cfg.binder] == [a.key for a in DEFAULT_BINDER] and len(cfg.binder) == 13
    _, m = collected(git_repo, sqlite_url, cfg)
    binder = m.facts.binder.artifacts
    week1 = binder[binder["week"] == 1].set_index("artifact")
    assert week1["present"].all() and week1["owned"].all() and (week1["files"] == 1).all()
    r = row(m, KPI, 1)
    assert (r["value"], r["artifacts"], r["internal"]) == (1.0, 13, 13)


def test_engagement_file_checks_artifacts():
    base = {"engagement": {"name": "x", "start": dt.date(2026, 9, 7)}}
    with pytest.raises(ConfigError) as err:
        parse_engagement({**base, "artifacts": [{"key": "a", "paths": ["x"], "capability": "nope"},
                                                {"key": "a", "paths": ["y"]}]})
    assert err.value.problems == [
        "engagement: artifacts[1].key: expected a unique artifact key, 'a' is used twice",
        "engagement: artifacts[0].capability: expected a capability key (one of data, training, evaluation, "
        "deployment, operations), got 'nope'"]
    with pytest.raises(ConfigError) as err:
        parse_engagement({**base, "artifacts": [{"key": "a", "paths": []}]})
    assert err.value.problems[0].startswith("engagement: artifacts[0].paths:")


def test_demo_values():
    m = demo()
    for week, (present, fresh, owned, internal, vendor, unattributed) in demo_build.INTENDED_BINDER.items():
        r = row(m, KPI, week)
        assert (r["artifacts"], r["present"], r["fresh"], r["owned"], r["internal"], r["vendor"],
                r["unattributed"]) == (12, present, fresh, owned, internal, vendor, unattributed), week
        assert r["value"] == pytest.approx(fresh / 12), week
    week8 = checklist(m.facts.binder, 8).set_index("key")
    for key, (present, fresh, owned, owner) in demo_build.INTENDED_BINDER_WEEK8.items():
        assert week8.loc[key, ["present", "fresh", "owned"]].tolist() == [present, fresh, owned], key
        assert week8.loc[key, "owner"] == owner, key
    for cap, value in demo_build.INTENDED_BINDER_CAPABILITIES_WEEK8.items():
        assert row(m, KPI, 8, cap)["value"] == pytest.approx(value), cap
    assert reconciliation_problems(m, KPI) == []
