"""Every number reconciles with its rows (issue 10 §3), on the demo with all its sources: for every row of
`python -m metrics weekly` — every KPI, every week, every capability — the counted evidence rows grouped by side
equal the row's internal / vendor / unattributed / bots, and their `count` adds up to `n` where it is set; and
`python -m metrics evidence` prints those rows."""

from __future__ import annotations

import json
import subprocess

from metrics.kpis import REGISTRY
from metrics.service import evidence, load, reconcile
from tests.support.cli import metrics_cli

SIDES = {"internal": "internal", "vendor": "vendor", "unattributed": "unattributed", "bots": "bot"}


def cli(*args: str) -> subprocess.CompletedProcess:
    return metrics_cli(*args)  # `python -m metrics *args`, in this process (tests/support/cli.py)


def test_every_weekly_row_of_the_demo_reconciles_with_its_evidence(full_demo):
    run = cli("weekly", "--config", str(full_demo["toml"]), "--db", full_demo["url"], "--format", "json")
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    _cfg, _engine, m = load(full_demo["toml"], full_demo["url"])
    assert {r["kpi"] for r in rows} == set(REGISTRY)  # the demo exercises every registered KPI
    problems, counted_rows = [], 0
    for row in rows:
        ev = evidence(m, row["kpi"], row["week"], row["capability"])
        counted = ev[ev["counted"]]
        counted_rows += len(counted)
        weighted = REGISTRY[row["kpi"]].weighted  # internal_line_share: a file row counts its lines by side
        for column, side in SIDES.items():
            mine = counted["side"] == side
            got = int(counted.loc[mine, "count"].sum()) if weighted else int(mine.sum())
            if got != row[column]:
                problems.append((row["kpi"], row["week"], row["capability"], column))
        if row["n"] is not None and REGISTRY[row["kpi"]].reconcile is None and int(counted["count"].sum()) != row["n"]:
            problems.append((row["kpi"], row["week"], row["capability"], "n"))
        problems += reconcile(m, row["kpi"], row["week"], row["capability"])
    assert problems == []
    assert counted_rows > 500  # not trivially true: the demo's rows stand on hundreds of items


def test_ladder_cells_list_prs_reviews_and_runs_not_only_commits(full_demo):
    """Issue 10: 'a ladder cell says internal 5 and lists 2 evidence rows' — now it lists every item."""
    _cfg, _engine, m = load(full_demo["toml"], full_demo["url"])
    kinds = set()
    for cell in m.ladder[m.ladder["internal"] + m.ladder["vendor"] > 0].itertuples():
        ev = evidence(m, "ladder_stage", int(cell.week), cell.capability)
        assert len(ev) == cell.internal + cell.vendor + cell.unattributed + cell.bots
        kinds |= set(ev["kind"])
    assert {"commit", "pr", "review"} <= kinds


def test_the_evidence_command_prints_the_rows_of_one_value(full_demo):
    base = ("--config", str(full_demo["toml"]), "--db", full_demo["url"])
    weekly = json.loads(cli("weekly", *base, "--format", "json", "--kpi", "internal_pr_share").stdout)
    row = next(r for r in weekly if r["week"] == 3 and r["capability"] is None)
    run = cli("evidence", *base, "--kpi", "internal_pr_share", "--week", "3", "--format", "json")
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    assert all({"kind", "id", "url", "at", "person", "side", "counted"} <= set(r) for r in rows)
    assert {r["kind"] for r in rows} == {"pr"} and all(r["url"].startswith("https://github.com/") for r in rows)
    for column, side in SIDES.items():
        assert sum(1 for r in rows if r["counted"] and r["side"] == side) == row[column]
    table = cli("evidence", *base, "--kpi", "internal_train_share", "--week", "2")
    assert table.returncode == 0, table.stderr
    assert "reconciles" in table.stdout.splitlines()[-1] and "DOES NOT" not in table.stdout
    csv_out = cli("evidence", *base, "--kpi", "ladder_stage", "--week", "5", "--capability", "training",
                  "--format", "csv")
    assert csv_out.stdout.splitlines()[0].startswith("kind,id,url,at,person,side,counted,count,title,repo")


def test_evidence_mistakes_are_one_line(full_demo):
    base = ("--config", str(full_demo["toml"]), "--db", full_demo["url"])
    for args, message in [
        (("--kpi", "readiness", "--week", "3"), "error: --kpi: unknown KPI 'readiness': expected one of "),
        (("--kpi", "internal_pr_share", "--week", "99"), "error: --week: week 99 is not an engagement week"),
        (("--kpi", "time_to_retrain", "--week", "3", "--capability", "data"),
         "error: --capability: time_to_retrain has no per-capability rows"),
        (("--kpi", "ladder_stage", "--week", "3"), "error: --capability: ladder_stage is per capability"),
        (("--kpi", "internal_pr_share", "--week", "3", "--capability", "nope"),
         "error: --capability: unknown capability 'nope'"),
    ]:
        run = cli("evidence", *base, *args)
        assert run.returncode == 2 and run.stdout == ""
        assert run.stderr.count("\n") == 1 and run.stderr.startswith(message), run.stderr
