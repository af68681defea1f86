"""The engagement file's handover-readiness tables (SPEC §10): [readiness], [competency.<capability>],
[raci.<capability>] — defaults, and one clear line per mistake naming the key path and what was expected."""

from __future__ import annotations

import pytest

from engagement.config import ConfigError, load_config

MINIMAL = '[engagement]\nname = "X"\nstart = 2026-09-07\n'


def _load(tmp_path, text: str):
    path = tmp_path / "engagement.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_defaults_two_people_in_four_weeks_and_no_plan(tmp_path):
    cfg = _load(tmp_path, MINIMAL)
    assert (cfg.readiness.min_people, cfg.readiness.window_weeks, cfg.readiness.operations) == (2, 4, {})
    assert cfg.competency == {} and cfg.raci == {}


def test_tables_are_read(tmp_path):
    cfg = _load(tmp_path, MINIMAL + '[readiness]\nmin_people = 3\nwindow_weeks = 6\n[readiness.operations]\n'
                'deployment = ["deploy", "runbook:deploy"]\n[competency.data]\nbeginner = ["data_cut"]\n'
                'independent = ["contract_change + fixed_data_cut"]\n'
                '[raci.deployment]\nresponsible = { 1 = "vendor", 5 = "internal" }\n')
    assert cfg.readiness.operations == {"deployment": ["deploy", "runbook:deploy"]}
    assert cfg.competency["data"].independent == ["contract_change + fixed_data_cut"]
    assert cfg.competency["data"].contract_paths == ["**/schema*", "**/*contract*"]
    assert cfg.raci["deployment"].responsible == {1: "vendor", 5: "internal"}


@pytest.mark.parametrize("text, expected", [
    ('[readiness]\nmin_people = 0\n', "engagement.toml: readiness.min_people: "),
    ('[readiness.operations]\nsecurity = ["commit"]\n',
     "engagement.toml: readiness.operations.security: expected a capability key (one of data, training, evaluation, "
     "deployment, operations)"),
    ('[readiness.operations]\ndata = ["comit"]\n',
     "engagement.toml: readiness.operations.data: unknown operation 'comit' (expected one of commit, pr_merge, "),
    ('[competency.data]\nintermediate = ["merged_change + reviews"]\n',
     "engagement.toml: competency.data.intermediate: unknown evidence 'reviews' (expected one of commit, "),
    ('[raci.data]\nresponsible = { 1 = "client" }\n', "engagement.toml: raci.data.responsible.1: expected 'vendor' or "
     "'internal', got \"client\""),
    ('[raci.data]\nowner = { 1 = "vendor" }\n', "engagement.toml: raci.data.owner: unknown key (typo?)"),
])
def test_mistakes_are_one_clear_line_each(tmp_path, text, expected):
    with pytest.raises(ConfigError) as exc:
        _load(tmp_path, MINIMAL + text)
    assert len(exc.value.problems) == 1, exc.value.problems
    assert exc.value.problems[0].startswith(expected), exc.value.problems[0]
