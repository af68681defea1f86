"""Command line: `python -m metrics weekly --config F [--db URL] [--format json|csv|table]` (no UI needed).

Row contract (documented in README.md): one row per (week, kpi, capability) with keys week, week_start,
kpi, capability, value, internal, vendor, unattributed, bots, planned, n, p90, scheduled.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from engagement.cli import add_engagement_args, run_command
from metrics.engagement import SYSTEM_AMOUNT_COLUMNS, SYSTEM_COUNT_COLUMNS, TICKET_COUNT_COLUMNS
from metrics.engagement_file import load_engagement

OWN_COUNTS = [*TICKET_COUNT_COLUMNS, *SYSTEM_COUNT_COLUMNS]  # columns present only on their own KPI's rows


def weekly_records(frame) -> list[dict]:
    """Rows as plain JSON-ready dicts: NaN becomes null, dates ISO strings, counts ints."""
    records = []
    for row in frame.to_dict("records"):
        rec = {}
        for key, value in row.items():
            if key in OWN_COUNTS or key in SYSTEM_AMOUNT_COLUMNS:
                # KPI-specific counts appear only on the rows of the KPI they belong to.
                if value is not None and not (isinstance(value, float) and math.isnan(value)):
                    rec[key] = float(value) if key in SYSTEM_AMOUNT_COLUMNS else int(value)
                continue
            if value is None or (isinstance(value, float) and math.isnan(value)):
                rec[key] = None
            elif key == "week_start":
                rec[key] = value.isoformat()
            elif key in ("n", "scheduled"):  # counts added with the GitHub KPIs
                rec[key] = int(value)
            elif key in ("week", "internal", "vendor", "unattributed", "bots"):
                rec[key] = int(value)
            elif key in ("planned",) or (key == "value" and row["kpi"] == "ladder_stage"):
                rec[key] = int(value)
            else:
                rec[key] = float(value) if key == "value" else value
        records.append(rec)
    return records


def _weekly(args: argparse.Namespace) -> int:
    from db.engine import make_engine, resolve_db_url
    from db.queries import load_source_frames
    from metrics.engagement import SourceData, compute

    cfg = load_engagement(args.config)
    engine = make_engine(resolve_db_url(args.db, cfg.file))
    result = compute(cfg, SourceData(**load_source_frames(engine, args.repo)))
    frame = result.weekly
    if args.kpi:
        frame = frame[frame["kpi"].isin(args.kpi)]
    if args.capability:
        frame = frame[frame["capability"].isin(args.capability)]
    records = weekly_records(frame)
    if args.format == "json":
        json.dump(records, sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif args.format == "csv":
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=list(frame.columns))
        writer.writeheader()
        writer.writerows(records)
    else:
        import pandas as pd

        table = pd.DataFrame(records, columns=list(frame.columns))
        for col in OWN_COUNTS:
            if col in table:
                table[col] = table[col].astype("Int64")
        print(table.to_string(index=False, na_rep="—"))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metrics", description="Compute and export engagement KPIs.")
    sub = parser.add_subparsers(dest="command", required=True)
    weekly = sub.add_parser("weekly", help="one row per (week, kpi, capability)")
    add_engagement_args(weekly)
    weekly.add_argument("--format", choices=["json", "csv", "table"], default="table")
    weekly.add_argument("--repo", action="append", help="only this repository (source name); repeatable")
    weekly.add_argument("--kpi", action="append", help="only this KPI key; repeatable")
    weekly.add_argument("--capability", action="append", help="only this capability; repeatable")
    weekly.set_defaults(run=_weekly)
    from metrics.review_cli import add_review_commands

    add_review_commands(sub)
    return run_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
