"""The engagement file: valid files load, every kind of mistake names file, key path and expectation."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from engagement.config import ConfigError
from metrics.engagement_file import load_engagement
from metrics.kpis import target
from tests.support.paths import SHARED

SPEC = SHARED / "SPEC.md"
MINIMAL = '[engagement]\nname = "X"\nstart = 2026-09-07\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "engagement.toml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_engagement(write(tmp_path, text))
    return info.value.problems


def test_minimal_file_gets_the_spec_defaults(tmp_path):
    cfg = load_engagement(write(tmp_path, MINIMAL))
    assert cfg.engagement.weeks == 8 and cfg.engagement.timezone == "UTC"
    assert cfg.capability_keys == ["data", "training", "evaluation", "deployment", "operations"]
    assert cfg.classify.bots == ["*[bot]", "dependabot*", "renovate*", "github-actions*"]
    assert cfg.drills.sla_minutes == {"sev1": 60, "sev2": 240, "sev3": 1440}
    assert target(cfg, "internal_pr_share") == 0.5  # the default target lives in the KPI registry


@pytest.mark.skipif(not SPEC.exists(), reason="../shared/SPEC.md not present")
def test_the_spec_example_is_valid(tmp_path):
    toml = re.search(r"```toml\n(.*?)```", SPEC.read_text(), re.S).group(1)
    cfg = load_engagement(write(tmp_path, toml))
    assert cfg.people[0].affiliations[1].from_.isoformat() == "2026-10-01"
    assert cfg.plan == {"training": {1: 0, 3: 1, 5: 2, 7: 3, 8: 4}}
    assert cfg.resolve_path(cfg.sources.git[0].path) == (tmp_path / "../fraud-model").resolve()
    # Its milestone M3 names the counts metrics/criteria.py registers for it (train runs, runbook executions).
    (m3,) = cfg.milestones
    assert (m3.id, m3.due_week, m3.capability) == ("M3", 3, "training")
    assert [(c.metric, c.runbook, c.op, c.value) for c in m3.criteria] == [
        ("internal_train_runs", None, ">=", 1), ("runbook_executions_internal", "training", ">=", 1)]


def test_bad_date_names_file_key_path_and_expectation(tmp_path):
    text = MINIMAL + """
[[people]]
name = "A"
[[people]]
name = "B"
[[people]]
name = "C"
[[people]]
name = "Dana"
affiliations = [{ side = "vendor", from = "next week" }]
"""
    assert problems(tmp_path, text) == [
        'engagement.toml: people[3].affiliations[0].from: expected a date like 2026-09-07, got "next week"'
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MINIMAL.replace("name", "nmae"), ["engagement.toml: engagement.name: required key is missing",
                                           "engagement.toml: engagement.nmae: unknown key (typo?)"]),
        (MINIMAL + "[classify]\ninternal_domains = ['x.com']\n",
         ["engagement.toml: classify.internal_domains: unknown key (typo?)"]),
        ('[engagement]\nname = "X"\nstart = 2026-09-07\ntimezone = "Mars/Olympus"\n',
         ['engagement.toml: engagement.timezone: expected an IANA time zone like "Europe/Berlin", got "Mars/Olympus"']),
        (MINIMAL + "[[people]]\nname = 'A'\naffiliations = [{ side = 'partner' }]\n",
         ["engagement.toml: people[0].affiliations[0].side: expected 'vendor' or 'internal', got \"partner\""]),
        (MINIMAL + "[x]\nweeks = 8\n", ["engagement.toml: x: unknown key (typo?)"]),
        ('[engagement]\nname = "X"\nstart = 2026-09-07\nweeks = "eight"\n',
         ['engagement.toml: engagement.weeks: expected a whole number, got "eight"']),
        (MINIMAL + "[plan]\ntrainig = { 1 = 0 }\n",
         ["engagement.toml: plan.trainig: expected a capability key (one of data, training, evaluation, "
          "deployment, operations)"]),
        (MINIMAL + "[targets]\ninternal_pr_shar = 0.5\n",
         ["engagement.toml: targets.internal_pr_shar: expected a KPI key (one of artifact_completeness, "
          "drill_outcome, environment_rebuild, eval_coverage, eval_pass_rate, exit_readiness, "
          "internal_commit_share, internal_line_share, internal_pr_share, internal_review_share, "
          "internal_train_share, ladder_stage, raci_drift, rehearsal_retrain, rollback_time, "
          "runbook_completion, takeover_weeks, time_to_retrain, train_run_minutes, two_key_compliance)"]),
        ("[engagement\n", None),
    ],
)
def test_mistakes_are_reported_clearly(tmp_path, text, expected):
    found = problems(tmp_path, text)
    if expected is None:
        assert len(found) == 1 and found[0].startswith("engagement.toml: invalid TOML:")
    else:
        assert found == expected


def test_overlapping_affiliations_name_both(tmp_path):
    text = MINIMAL + """
[[people]]
name = "Dana Ortiz"
affiliations = [
  { side = "vendor", until = 2026-10-08 },
  { side = "internal", from = 2026-10-01 },
]
"""
    assert problems(tmp_path, text) == [
        "engagement.toml: people[0]: affiliations[0] (vendor from the beginning until 2026-10-08) overlaps "
        "affiliations[1] (internal from 2026-10-01 until open end) of Dana Ortiz"
    ]


def test_adjacent_affiliations_do_not_overlap(tmp_path):
    text = MINIMAL + """
[[people]]
name = "Dana"
affiliations = [{ side = "vendor", until = 2026-10-01 }, { side = "internal", from = 2026-10-01 }]
"""
    assert len(load_engagement(write(tmp_path, text)).people[0].affiliations) == 2


def test_missing_file_is_one_clear_line(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_engagement(tmp_path / "nope.toml")
    assert info.value.problems == [f"{tmp_path / 'nope.toml'}: cannot read the engagement file (No such file or "
                                   "directory)"]


def test_check_command_prints_summary_or_errors(tmp_path):
    good = write(tmp_path, MINIMAL + "[[people]]\nname = 'A'\n[[sources.git]]\npath = 'repo'\n")
    out = subprocess.run([sys.executable, "-m", "collectors", "check", "--config", str(good)],
                         capture_output=True, text=True)
    assert out.returncode == 0
    assert "People: 1" in out.stdout and "1 git" in out.stdout and "Capabilities: data, training" in out.stdout
    bad = write(tmp_path, MINIMAL + "[engagment2]\n")
    out = subprocess.run([sys.executable, "-m", "collectors", "check", "--config", str(bad)],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip() == "error: engagement.toml: engagment2: unknown key (typo?)"
