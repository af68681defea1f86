"""Engagement files that used to be accepted and then moved numbers or hung a collector (issue 9, item 7):
each is now one error naming the key; the engagement has a stable id."""

from __future__ import annotations

from pathlib import Path

import pytest

from engagement.config import ConfigError, derive_engagement_id
from metrics.engagement_file import load_engagement

MINIMAL = '[engagement]\nname = "X"\nstart = 2026-09-07\n'
PERSON = "[[people]]\nname = '{name}'\nemails = {emails}\ngithub = {github}\n"


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "engagement.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_engagement(path)
    return info.value.problems


INVALID = [
    ('[engagement]\nname = "X"\nstart = 2026-09-07\nweeks = true\n',
     "engagement.toml: engagement.weeks: expected a whole number, got True"),
    (MINIMAL + "[targets]\ninternal_pr_share = 5\n",
     "engagement.toml: targets.internal_pr_share: expected a share between 0 and 1 (0.5 = 50%), got 5"),
    (MINIMAL + "[targets]\ntime_to_retrain = -3\n",
     "engagement.toml: targets.time_to_retrain: expected a number >= 0, got -3"),
    (MINIMAL + "[drills]\nsla_minutes = { sev1 = -60 }\n",
     "engagement.toml: drills.sla_minutes.sev1: expected a number > 0, got -60"),
    (MINIMAL + "[drills]\npostmortem_days = -1\n",
     "engagement.toml: drills.postmortem_days: expected a number >= 0, got -1"),
    (MINIMAL + '[[capabilities]]\nkey = "data"\npaths = ["["]\n',
     'engagement.toml: capabilities[0].paths[0]: expected a gitignore-style glob like "data/**", got "["'),
    ('[engagement]\nname = "X"\nstart = 0001-01-01\n',
     "engagement.toml: engagement.start: expected a date between 1970-01-01 and 2100-12-31, got 0001-01-01"),
    ('[engagement]\nname = "X"\nstart = 9999-01-01\n',
     "engagement.toml: engagement.start: expected a date between 1970-01-01 and 2100-12-31, got 9999-01-01"),
    (MINIMAL + "[[people]]\nname = 'A'\naffiliations = [{ side = 'vendor', until = 2200-01-01 }]\n",
     "engagement.toml: people[0].affiliations[0].until: expected a date between 1970-01-01 and 2100-12-31, "
     "got 2200-01-01"),
    (MINIMAL + '[[sources.github]]\nrepo = "a/b"\nissues = "yes"\n',
     'engagement.toml: sources.github[0].issues: expected true or false, got "yes"'),
    (MINIMAL + '[[milestones]]\nid = "M1"\ndue_week = 2\ntitle = "t"\n'
     'criteria = [{ metric = "internal_commits", op = ">=", value = true }]\n',
     "engagement.toml: milestones[0].criteria[0].value: expected a number, got True"),
    (MINIMAL + "[ladder]\npairs = true\n", "engagement.toml: ladder.pairs: expected a number, got True"),
    (MINIMAL + "[plan]\ntraining = { 1 = true }\n",
     "engagement.toml: plan.training.1: expected a whole number, got True"),
    ('[engagement]\nname = "  "\nstart = 2026-09-07\n',
     "engagement.toml: engagement.name: expected a non-empty text"),
    (MINIMAL + "[[people]]\nname = 'A'\nemails = ['dana']\n",
     'engagement.toml: people[0].emails: expected email addresses like "dana@client.com", got "dana"'),
    (MINIMAL.replace('name = "X"', 'name = "X"\nid = "Fraud Model!"'),
     'engagement.toml: engagement.id: expected lower-case letters, digits, ".", "_" or "-" (up to 100), like '
     '"fraud-model-handoff", got "Fraud Model!"'),
    (MINIMAL + "[retention]\ndays = 0\n", "engagement.toml: retention.days: expected a number >= 1, got 0"),
    (MINIMAL + "[engagement]\n", None),  # a TOML error (table defined twice), still one line
]


@pytest.mark.parametrize(("text", "expected"), INVALID)
def test_invalid_values_are_one_error_naming_the_key(tmp_path, text, expected):
    found = problems(tmp_path, text)
    if expected is None:
        assert len(found) == 1 and found[0].startswith("engagement.toml: invalid TOML:")
    else:
        assert found == [expected]


def test_duplicate_person_names_are_an_error(tmp_path):
    text = MINIMAL + PERSON.format(name="Sam Lee", emails="['sam@acme-consulting.com']", github="[]") \
        + PERSON.format(name="sam  lee", emails="['sam.lee@client.com']", github="[]")
    assert problems(tmp_path, text) == [
        "engagement.toml: people[1].name: expected a unique name, 'sam  lee' is also people[0]"]


def test_an_identity_under_two_people_is_an_error_whatever_its_case(tmp_path):
    text = MINIMAL + PERSON.format(name="Ann", emails="['ann@client.com']", github="['ann-c']") \
        + PERSON.format(name="Bob", emails="['bob@client.com', 'Ann@Client.com']", github="['ANN-C']")
    assert problems(tmp_path, text) == [
        "engagement.toml: people[1].emails[1]: expected each identity under one person, 'Ann@Client.com' is also "
        "under people[0] (Ann)",
        "engagement.toml: people[1].github[0]: expected each identity under one person, 'ANN-C' is also under "
        "people[0] (Ann)",
    ]


def test_engagement_id_is_explicit_or_derived_from_the_name(tmp_path):
    path = tmp_path / "engagement.toml"
    path.write_text('[engagement]\nname = "Fraud model handoff (demo)"\nstart = 2026-09-07\n')
    derived = load_engagement(path).engagement
    assert (derived.id, derived.id_derived) == ("fraud-model-handoff-demo", True)
    path.write_text('[engagement]\nname = "Renamed"\nid = "fraud-model-handoff-demo"\nstart = 2026-09-07\n')
    explicit = load_engagement(path).engagement
    assert (explicit.id, explicit.id_derived) == ("fraud-model-handoff-demo", False)
    assert derive_engagement_id("Ünïcode ✓ 2026") == "n-code-2026"
    assert derive_engagement_id("✓✓").startswith("engagement-") and len(derive_engagement_id("✓✓")) == 19
