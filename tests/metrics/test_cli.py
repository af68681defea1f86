"""`python -m metrics kpis` lists the registry; `weekly` carries the unit and its table prints nulls one way and
rounds (issue 10 §1, §5)."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

from metrics.kpis import REGISTRY
from tests.support.cli import metrics_cli


def cli(*args: str) -> subprocess.CompletedProcess:
    """A real `python -m metrics` process (the entry point itself; the other tests call its main() in-process)."""
    return subprocess.run([sys.executable, "-m", "metrics", *args], capture_output=True, text=True)


def test_kpis_lists_the_registry():
    run = cli("kpis", "--format", "json")
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    assert [r["key"] for r in rows] == list(REGISTRY)
    by_key = {r["key"]: r for r in rows}
    assert by_key["time_to_retrain"]["unit"] == "hours" and by_key["time_to_retrain"]["direction"] == "lower is better"
    assert by_key["eval_coverage"]["unit"] == "count (tests)" and by_key["eval_coverage"]["default_target"] is None
    assert by_key["internal_train_share"]["default_target"] == 0.7
    table = cli("kpis").stdout.splitlines()
    assert table[0].split() == ["key", "label", "unit", "direction", "default_target"]
    assert len(table) == 1 + len(REGISTRY)


def test_weekly_table_prints_nulls_one_way_and_rounds(full_demo):
    run = metrics_cli("weekly", "--config", str(full_demo["toml"]), "--db", full_demo["url"])
    assert run.returncode == 0, run.stderr
    text = run.stdout
    for other in ("None", "<NA>", "NaN", "nan", "NaT"):
        assert not re.search(rf"(?<![\w]){other}(?![\w])", text), other
    assert "—" in text
    decimals = [len(m) for m in re.findall(r"\d\.(\d+)", text)]
    assert decimals and max(decimals) <= 3
    assert "0.667" in text or "0.333" in text  # a share like 2/3 is rounded, not 0.6666666666666666


def test_weekly_csv_and_json_carry_the_unit(full_demo):
    base = ("weekly", "--config", str(full_demo["toml"]), "--db", full_demo["url"])
    rows = list(csv.DictReader(io.StringIO(metrics_cli(*base, "--format", "csv").stdout)))
    header = list(rows[0])
    assert header[:6] == ["week", "week_start", "kpi", "capability", "value", "unit"]
    assert {r["kpi"]: r["unit"] for r in rows} == {k: s.unit for k, s in REGISTRY.items()}
    records = json.loads(metrics_cli(*base, "--format", "json", "--kpi", "eval_coverage").stdout)
    assert {r["unit"] for r in records} == {"count"} and max(r["value"] or 0 for r in records) > 1
