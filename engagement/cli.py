"""What `python -m collectors` and `python -m metrics` share: engagement arguments and error handling."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from engagement.errors import UserError
from engagement.redact import redact

DB_HELP = "database URL (default: $BATON_DB_URL, else baton.db beside the config)"


def add_engagement_args(parser: argparse.ArgumentParser, *, db: bool = True) -> None:
    parser.add_argument("--config", required=True, type=Path, help="the engagement file (TOML)")
    if db:
        parser.add_argument("--db", help=DB_HELP)


def run_command(args: argparse.Namespace) -> int:
    """Run the chosen sub-command; configuration errors are one line each, exit code 2."""
    try:
        return args.run(args)
    except UserError as exc:
        print("\n".join(f"error: {redact(line)}" for line in exc.lines), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted: what was written is kept; rerun to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0
