"""The registry is the one home of every KPI (issue 10): each registered KPI has its docs/metrics.md section and its
own hand-computed test file, the README's KPI and page tables equal the registry and the navigation, engagement-file
validation takes its KPI keys and default targets from it, and nothing formats a value by guessing from its key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engagement.config import ConfigError
from metrics.engagement_file import parse_engagement
from metrics.kpis import REGISTRY, default_targets, target
from metrics.kpis.base import UNITS, KpiSpec, format_value

ROOT = Path(__file__).resolve().parents[3]
MINIMAL = {"engagement": {"name": "X", "start": "2026-09-07"}}


def _block(text: str, marker: str) -> list[str]:
    body = text.split(f"<!-- {marker}")[1].split(f"<!-- /{marker} -->")[0]
    return [line for line in body.splitlines() if line.startswith("| ") and not line.startswith("| key")
            and not line.startswith("| page")]


@pytest.mark.parametrize("key", list(REGISTRY))
def test_every_kpi_has_a_docs_section_a_test_file_and_a_module(key):
    docs = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert re.search(rf"^## `?{key}`?\s*$", docs, re.M), f"docs/metrics.md has no '## {key}' section"
    test_file = ROOT / "tests" / "metrics" / "kpis" / f"test_{key}.py"
    assert test_file.exists(), f"{test_file.relative_to(ROOT)} is missing"
    assert f'KPI = "{key}"' in test_file.read_text(encoding="utf-8")
    assert (ROOT / "metrics" / "kpis" / f"{key}.py").exists()
    assert REGISTRY[key].doc == f"docs/metrics.md#{key}"


def test_specs_are_complete_and_well_formed():
    labels = [s.label for s in REGISTRY.values()]
    assert len(set(labels)) == len(labels)
    for key, spec in REGISTRY.items():
        assert isinstance(spec, KpiSpec) and spec.key == key
        assert spec.unit in UNITS and spec.direction in ("higher", "lower")
        assert spec.label[0].isupper() and "_" not in spec.label  # never "Internal pr share"
        assert spec.definition.endswith(".")
        assert spec.unit != "count" or spec.noun, f"{key}: a count names what it counts"
        assert spec.page is None or (ROOT / "pages" / f"{spec.page}.py").exists()
    with pytest.raises(ValueError, match="unit"):
        KpiSpec("x", "X", "percent", "higher", "x.", compute=lambda f: None, evidence=lambda f, w, c: None)


def test_readme_kpi_table_is_the_registry():
    rows = _block((ROOT / "README.md").read_text(encoding="utf-8"), "kpi-table")
    expected = []
    for key, s in REGISTRY.items():
        goal = "–" if s.default_target is None else f"{s.default_target:g}"
        expected.append(f"| `{key}` | {s.label} | {s.unit}{f' ({s.noun})' if s.noun else ''} | {s.direction} | "
                        f"{goal} |")
    assert rows == expected


def test_readme_page_table_is_the_navigation():
    nav = (ROOT / "pages" / "_shared" / "nav.py").read_text(encoding="utf-8")
    pages = re.findall(r'st\.Page\((?:OVERVIEW|"pages/\w+\.py"), title="([^"]+)"', nav)
    rows = _block((ROOT / "README.md").read_text(encoding="utf-8"), "page-table")
    assert [r.split("|")[1].strip() for r in rows] == pages
    assert "Overview" in pages and len(pages) == len(list((ROOT / "pages").glob("*.py")))


def test_targets_are_validated_against_the_registry_and_default_from_it():
    cfg = parse_engagement({**MINIMAL, "targets": {"time_to_retrain": 24}})
    assert target(cfg, "time_to_retrain") == 24
    assert target(cfg, "internal_train_share") == REGISTRY["internal_train_share"].default_target == 0.7
    assert default_targets() == {"internal_commit_share": 0.5, "internal_pr_share": 0.5,
                                 "internal_review_share": 0.5, "two_key_compliance": 1.0,
                                 "internal_train_share": 0.7, "artifact_completeness": 0.9,  # SPEC §11 from here
                                 "rehearsal_retrain": 48.0, "eval_pass_rate": 0.95, "environment_rebuild": 1.0,
                                 "internal_line_share": 0.5, "exit_readiness": 1.0,
                                 "raci_drift": 1.0}
    with pytest.raises(ConfigError) as err:
        parse_engagement({**MINIMAL, "targets": {"readiness": 0.5}})
    assert err.value.problems == [f"engagement: targets.readiness: expected a KPI key (one of "
                                  f"{', '.join(sorted(REGISTRY))})"]


def test_the_engagement_layer_holds_no_kpi_list():
    config = (ROOT / "engagement" / "config.py").read_text(encoding="utf-8")
    for name in ("KPI_KEYS", "DEFAULT_TARGETS", "CRITERION_METRICS"):
        assert name not in config


def test_nothing_formats_a_kpi_value_from_its_key():
    """The old guesses (suffix lists, LOWER_IS_BETTER sets, key.replace('_', ' ')) are gone from the code that
    shows values; formatting reads the spec."""
    shown = [ROOT / "metrics" / "review.py", ROOT / "metrics" / "report" / "pack.py",
             ROOT / "pages" / "_shared" / "kpi_view.py", ROOT / "pages" / "_shared" / "review_ui.py",
             ROOT / "pages" / "overview.py", ROOT / "pages" / "review.py"]
    for path in shown:
        text = path.read_text(encoding="utf-8")
        for guess in ('endswith(("_share"', "LOWER_IS_BETTER", "PERCENT_SUFFIXES", 'replace("_", " ")',
                      "SHARE_KPIS"):
            assert guess not in text, f"{path.relative_to(ROOT)} guesses from the key: {guess}"
    assert format_value(REGISTRY["eval_coverage"], 23) == "23 tests"
    assert format_value(REGISTRY["drill_outcome"], 1) == "100%"
