"""Command line (no UI needed), every number through metrics.service:

- `python -m metrics weekly --config F [--db URL] [--format json|csv|table]`: the weekly row contract (README):
  one row per (week, kpi, capability) with week, week_start, kpi, capability, value, unit, internal, vendor,
  unattributed, bots, planned, n, p90, scheduled, then KPI-specific counts on their own rows.
- `python -m metrics kpis [--format json|table]`: the KPI registry (key, label, unit, direction, default target).
- `python -m metrics evidence --config F [--db URL] --kpi K --week W [--capability C] [--format json|csv|table]`:
  the rows behind one weekly value; counted rows by side equal the row's counts (issue 10 §3).
- `python -m metrics competency --config F [--db URL] [--week W] [--format json|csv|table]`: the competency matrix
  (SPEC §10): one row per (person, capability, week) with person, side, capability, week, level, level_name,
  evidence_count.
Milestones, signatures, freezing and the pack: metrics/review_cli.py.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import os
import sys
from typing import TYPE_CHECKING

from metrics import outputcache  # first, and alone: a cached answer needs nothing else (metrics/outputcache.py)

if TYPE_CHECKING:  # pandas and the metrics load inside the commands: `pack` starts its browser before them
    import pandas as pd

INT_COLUMNS = ("week", "internal", "vendor", "unattributed", "bots", "n", "scheduled", "planned")


def _null(value) -> bool:
    import pandas as pd

    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def weekly_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as plain JSON-ready dicts: NaN becomes null, dates ISO strings, counts ints; KPI-specific counts
    (columns after WEEKLY_COLUMNS) only on the rows they belong to."""
    from metrics.engagement import WEEKLY_COLUMNS

    records = []
    stage_units = {"stage"}
    for row in frame.to_dict("records"):
        rec = {}
        for key, value in row.items():
            if key not in WEEKLY_COLUMNS:
                if not _null(value):  # counts as ints; amounts (train_run_minutes' total_minutes, cost) as numbers
                    rec[key] = int(value) if float(value).is_integer() else float(value)
                continue
            if _null(value):
                rec[key] = None
            elif key == "week_start":
                rec[key] = value.isoformat()
            elif key in INT_COLUMNS or (key == "value" and row.get("unit") in stage_units):
                rec[key] = int(value)
            elif key in ("value", "p90"):
                rec[key] = float(value)
            else:
                rec[key] = value
        records.append(rec)
    return records


def _write(records: list[dict], columns: list[str], fmt: str) -> None:
    import pandas as pd

    from metrics.report.cells import csv_safe, text_table

    if fmt == "json":
        json.dump(records, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
        return
    table = pd.DataFrame(records, columns=columns)
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(csv_safe(table).astype(object).where(table.notna(), None).to_dict("records"))
    else:
        print(text_table(table))


def _weekly(args: argparse.Namespace) -> int:
    from metrics.engagement import WEEKLY_COLUMNS
    from metrics.service import load

    _cfg, _engine, m = load(args.config, args.db, args.repo)
    frame = m.weekly
    if args.kpi:
        frame = frame[frame["kpi"].isin(args.kpi)]
    if args.capability:
        frame = frame[frame["capability"].isin(args.capability)]
    frame = frame[[c for c in frame.columns if c in WEEKLY_COLUMNS or frame[c].notna().any()]]
    _write(weekly_records(frame), list(frame.columns), args.format)
    return 0


def _kpis(args: argparse.Namespace) -> int:
    from metrics.service import catalogue

    table = catalogue()
    columns = ["key", "label", "unit", "direction", "default_target"] if args.format == "table" else list(table)
    records = table[columns].astype(object).where(table[columns].notna(), None).to_dict("records")
    _write(records, columns, args.format)
    return 0


def evidence_records(rows: pd.DataFrame) -> list[dict]:
    out = []
    for rec in rows.astype(object).where(rows.notna(), None).to_dict("records"):
        out.append({k: (v.item() if hasattr(v, "item") else v) for k, v in rec.items()})
    return out


def _evidence(args: argparse.Namespace) -> int:
    from metrics.kpis import REGISTRY
    from metrics.kpis.base import format_value
    from metrics.service import check_scope, evidence, load, reconcile

    _cfg, _engine, m = load(args.config, args.db)
    check_scope(m, args.kpi, args.week, args.capability)
    rows = evidence(m, args.kpi, args.week, args.capability)
    _write(evidence_records(rows), list(rows.columns), args.format)
    if args.format == "table":
        row = m.kpi_row(args.kpi, args.week, args.capability)
        value = "no row" if row is None else format_value(REGISTRY[args.kpi], row["value"])
        counts = "" if row is None else ", ".join(f"{c} {int(row[c])}" for c in ("internal", "vendor",
                                                                                  "unattributed", "bots"))
        problems = reconcile(m, args.kpi, args.week, args.capability)
        print(f"\n{args.kpi}, week {args.week}, {args.capability or 'engagement-wide'}: {value} ({counts}); "
              f"{int(rows['counted'].sum())} counted row(s) of {len(rows)}; "
              + ("reconciles" if not problems else "DOES NOT RECONCILE: " + "; ".join(problems)))
    return 0


def _competency(args: argparse.Namespace) -> int:
    from engagement.errors import UserError
    from metrics.service import load

    _cfg, _engine, m = load(args.config, args.db)
    matrix = m.facts.competency[0]
    if args.week is not None:
        if args.week not in set(matrix["week"]):
            weeks = sorted(set(matrix["week"]))
            raise UserError(f"--week: week {args.week} has no competency rows (weeks: "
                            f"{f'{weeks[0]}..{weeks[-1]}' if weeks else 'none yet'})")
        matrix = matrix[matrix["week"] == args.week]
    records = matrix.astype(object).where(matrix.notna(), None).to_dict("records")
    records = [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in records]
    _write(records, list(matrix.columns), args.format)
    return 0


def run_command(args: argparse.Namespace) -> int:
    from engagement.cli import run_command as run  # after the output cache missed: it imports the redaction rules

    return run(args)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    entry = outputcache.lookup(argv)  # before anything heavy is imported: see metrics/outputcache.py
    if entry is not None:
        cached = entry.cached()
        if cached is not None:
            try:
                sys.stdout.write(cached)
                sys.stdout.flush()
            except BrokenPipeError:  # piped into `head` and the like
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
            return 0
    from engagement.cli import add_engagement_args

    parser = argparse.ArgumentParser(prog="python -m metrics", description="Compute and export engagement KPIs.")
    sub = parser.add_subparsers(dest="command", required=True)
    weekly = sub.add_parser("weekly", help="one row per (week, kpi, capability)")
    add_engagement_args(weekly)
    weekly.add_argument("--format", choices=["json", "csv", "table"], default="table")
    weekly.add_argument("--repo", action="append", help="only this repository (source name); repeatable")
    weekly.add_argument("--kpi", action="append", help="only this KPI key; repeatable")
    weekly.add_argument("--capability", action="append", help="only this capability; repeatable")
    weekly.set_defaults(run=_weekly)

    kpis = sub.add_parser("kpis", help="the KPI registry: key, label, unit, direction, default target")
    kpis.add_argument("--format", choices=["json", "csv", "table"], default="table")
    kpis.set_defaults(run=_kpis)

    ev = sub.add_parser("evidence", help="the rows behind one weekly value (kind, id, url, at, person, side, counted)")
    add_engagement_args(ev)
    ev.add_argument("--kpi", required=True, help="KPI key (see `python -m metrics kpis`)")
    ev.add_argument("--week", required=True, type=int, help="engagement week")
    ev.add_argument("--capability", help="capability key (default: the engagement-wide value)")
    ev.add_argument("--format", choices=["json", "csv", "table"], default="table")
    ev.set_defaults(run=_evidence)

    comp = sub.add_parser("competency", help="the competency matrix: level per (person, capability, week)")
    add_engagement_args(comp)
    comp.add_argument("--week", type=int, help="only this engagement week (default: every week so far)")
    comp.add_argument("--format", choices=["json", "csv", "table"], default="table")
    comp.set_defaults(run=_competency)
    from metrics.review_cli import add_review_commands

    add_review_commands(sub)
    args = parser.parse_args(argv)
    if entry is None:
        return run_command(args)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = run_command(args)
    sys.stdout.write(printed.getvalue())
    if code == 0:
        entry.store(printed.getvalue())
    return code


if __name__ == "__main__":
    sys.exit(main())
