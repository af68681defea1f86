"""CLI, pages and pack agree after a signature (issue 10 §2): they all compute through metrics.service, with the
milestones accepted so far. The demo's M1 is tied to the data capability here (a copy of the demo file), so its
two-key acceptance lifts data's ladder from stage 3 to 4 (no vendor item) in weeks 5–8; before the fix,
`python -m metrics weekly` ignored acceptances and could never show stage 4 where the dashboard did."""

from __future__ import annotations

import csv
import io
import json
import subprocess

import pytest
from streamlit.testing.v1 import AppTest

from metrics.review import stage_name
from tests.support.cli import metrics_cli
from tests.support.demo_template import copy_demo
from tests.support.paths import APP

WEEKS = [5, 6, 7, 8]


def cli(*args: str) -> subprocess.CompletedProcess:
    return metrics_cli(*args)  # `python -m metrics *args`, in this process (tests/support/cli.py)


@pytest.fixture
def tied(tmp_path):
    """A collected copy of the demo whose M1 is tied to data (collecting reads no milestone: the same rows as
    collecting after the edit)."""
    toml = copy_demo(tmp_path)
    text = toml.read_text()
    at = text.index('id = "M1"')
    toml.write_text(text[:at] + 'id = "M1"\ncapability = "data"' + text[at + len('id = "M1"'):])
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    return toml, url, tmp_path


def cli_stages(toml, url) -> dict[int, int]:
    run = cli("weekly", "--config", str(toml), "--db", url, "--format", "json", "--kpi", "ladder_stage",
              "--capability", "data")
    assert run.returncode == 0, run.stderr
    return {r["week"]: r["value"] for r in json.loads(run.stdout) if r["week"] in WEEKS}


def page_stages(monkeypatch, toml, url, week: int) -> str:
    monkeypatch.setenv("BATON_CONFIG", str(toml))
    monkeypatch.setenv("BATON_DB_URL", url)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.query_params["week"] = str(week)
    at.switch_page("pages/review.py").run()
    assert not at.exception, [e.value for e in at.exception]
    ladder = next(d.value for d in at.dataframe if "behind plan" in d.value.columns)
    return ladder.set_index("capability").loc["data", "measured"]


def test_cli_pack_and_page_show_the_same_stages_after_a_signature(tied, monkeypatch):
    toml, url, out = tied
    assert cli_stages(toml, url) == {w: 3 for w in WEEKS}  # M1 not accepted: no stage 4 yet
    assert page_stages(monkeypatch, toml, url, 8) == stage_name(3)

    for name, comment in (("Ines Ortiz", "the data pipeline is ours"), ("Marco Bianchi", "agreed")):
        run = cli("sign", "--config", str(toml), "--db", url, "--milestone", "M1", "--name", name,
                  "--comment", comment)
        assert run.returncode == 0, run.stderr
    assert "accepted (two keys)" in run.stdout

    assert cli_stages(toml, url) == {w: 4 for w in WEEKS}
    pack = cli("pack", "--config", str(toml), "--db", url, "--week", "8", "--out", str(out / "pack"), "--no-pdf")
    assert pack.returncode == 0, pack.stderr
    rows = csv.DictReader(io.StringIO((out / "pack" / "kpi-rows-week-8.csv").read_text(encoding="utf-8")))
    packed = {int(r["week"]): int(r["value"]) for r in rows
              if r["kpi"] == "ladder_stage" and r["capability"] == "data" and int(r["week"]) in WEEKS}
    assert packed == {w: 4 for w in WEEKS}
    html = (out / "pack" / "steering-pack-week-8.html").read_text(encoding="utf-8")
    assert f"<td>data</td>\n      <td>{stage_name(4)}</td>" in html or f"<td>{stage_name(4)}</td>" in html
    assert page_stages(monkeypatch, toml, url, 8) == stage_name(4)

    milestones = json.loads(cli("milestones", "--config", str(toml), "--db", url, "--week", "8",
                                "--format", "json").stdout)
    m1 = next(r for r in milestones if r["milestone"] == "M1")
    assert m1["accepted"] and len(m1["evidence_sha256"]) == 2 and all(len(d) == 64 for d in m1["evidence_sha256"])
    m3 = next(r for r in milestones if r["milestone"] == "M3")
    assert (m3["state"], m3["late"]) == ("met", True)  # met in week 6, due in week 5
