"""The engagement file's MLflow and GitLab parts (SPEC §12): defaults, identities, one-line errors."""

from __future__ import annotations

import pytest

from engagement.config import ConfigError, parse_config

BASE = {"engagement": {"name": "E", "start": "2026-09-07"}}


def test_defaults_and_identities():
    cfg = parse_config({**BASE, "people": [{"name": "Ines", "gitlab": ["ines.o"], "mlflow": ["ines"]}],
                        "pipeline": {"train": {"mlflow_experiments": ["fraud-train", "7"]}},
                        "sources": {"mlflow": [{"tracking_uri": "https://host/mlflow"}],
                                    "gitlab": [{"project": "group/model"}]}})
    ml, gl = cfg.sources.mlflow[0], cfg.sources.gitlab[0]
    assert (ml.production_aliases, ml.production_stages, ml.promoted_by_tag, ml.trigger_tag, ml.display_name) == (
        ["production", "prod", "champion"], ["Production"], "promoted_by", "ci.trigger", "host/mlflow")
    assert (gl.base_url, gl.token_env, gl.display_name) == ("https://gitlab.com", "GITLAB_TOKEN", "model")
    assert (cfg.people[0].gitlab, cfg.people[0].mlflow) == (["ines.o"], ["ines"])
    assert cfg.pipeline.train.mlflow_experiments == ["fraud-train", "7"]


def test_missing_and_unknown_keys_are_one_line_each():
    with pytest.raises(ConfigError) as err:
        parse_config({**BASE, "sources": {"mlflow": [{"experiments": ["x"]}],
                                          "gitlab": [{"project": "g/p", "tokn_env": "X"}]}})
    assert err.value.problems == ["engagement: sources.mlflow[0].tracking_uri: required key is missing",
                                  "engagement: sources.gitlab[0].tokn_env: unknown key (typo?)"]
