"""Command line: `python -m collectors {check,collect,demo} ...` (no UI needed)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from collectors.runs import CollectError
from engagement.cli import add_engagement_args, run_command
from engagement.config import load_config, summarize


def _check(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    print(summarize(cfg))
    print("OK: the engagement file is valid.")
    return 0


def _collect(args: argparse.Namespace) -> int:
    from collectors.git.source import collect_git
    from db.engine import make_engine, redact_url, resolve_db_url

    cfg = load_config(args.config)
    url = resolve_db_url(args.db, cfg.file)
    engine = make_engine(url)
    print(f"Collecting into {redact_url(url)}", file=sys.stderr)
    failures = 0
    for source in cfg.sources.git:
        if args.source and source.display_name not in args.source:
            continue
        try:
            result = collect_git(engine, cfg.resolve_path(source.path), source.branch,
                                 source_name=source.display_name, progress=None if not args.quiet else False)
        except CollectError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failures += 1
            continue
        walk = "full walk" if result.full_walk else "incremental"
        print(f"git {result.source_name}: {result.commits_seen} commits read ({walk}), "
              f"{result.commits_removed} removed, {result.tags} tags, tip {result.cursor[:12]}")
        _collect_eval_tests(cfg, engine, source)
        _collect_week_ends(cfg, engine, source)
    failures += _collect_github(cfg, engine, args)
    failures += _collect_jira(cfg, engine, args)
    failures += _collect_github_issues(cfg, engine, args)
    if not cfg.sources.git and not cfg.sources.jira and not cfg.sources.github:
        print("No sources configured: nothing to collect.", file=sys.stderr)
    return 1 if failures else 0


def _collect_eval_tests(cfg, engine, source) -> None:
    """Evaluation test counts per week from the git source (eval_coverage)."""
    from collectors.git.eval_tests import collect_eval_tests

    tests = collect_eval_tests(engine, cfg, cfg.resolve_path(source.path), source.branch, source.display_name)
    print(f"git {source.display_name}: {tests} evaluation tests at the tip")


def _collect_week_ends(cfg, engine, source) -> None:
    """Week-end commits and the binder's files in each week-end tree (artifact_completeness, SPEC §11)."""
    from collectors.git.week_ends import collect_week_ends

    files = collect_week_ends(engine, cfg, cfg.resolve_path(source.path), source.branch, source.display_name)
    print(f"git {source.display_name}: {files} binder files at the tip")


def _collect_github(cfg, engine, args: argparse.Namespace) -> int:
    """Collect every `[[sources.github]]` repository; prints items and API calls used. Returns failures."""
    from collectors.github.source import collect_github

    failures = 0
    for source in cfg.sources.github:
        if args.source and source.repo not in args.source:
            continue
        if not os.environ.get(source.token_env):
            print(f"warning: {source.token_env} is not set: calling {source.base_url} without a token",
                  file=sys.stderr)
        try:
            result = collect_github(engine, source.repo, source.base_url, source.token_env,
                                    max_wait=args.max_wait, junit_workflows=source.junit_workflows,
                                    junit_artifacts=source.junit_artifacts)
        except CollectError as exc:
            print(f"error: github {source.repo}: {exc}", file=sys.stderr)
            failures += 1
            continue
        renamed = f" (now {result.repo})" if result.repo != source.repo else ""
        print(f"github {source.repo}{renamed}: {result.pulls} PRs, {result.reviews} reviews, {result.runs} runs "
              f"written; calls used: {result.calls} ({result.not_modified} not modified)")
        if source.junit_workflows:
            print(f"github {source.repo}: JUnit reports of {result.junit_runs} new completed runs examined")
    return failures


def _collect_jira(cfg, engine, args: argparse.Namespace) -> int:
    """Collect every [[sources.jira]]; returns the number of failed sources."""
    from collectors.jira.source import collect_jira

    failures = 0
    for source in cfg.sources.jira:
        if args.source and source.display_name not in args.source:
            continue
        try:
            result = collect_jira(engine, source, severity_field=cfg.drills.severity_field,
                                  replay_path=cfg.resolve_path(source.replay) if source.replay else None)
        except CollectError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failures += 1
            continue
        print(f"jira {result.source_name}: {result.issues_seen} issues seen, {result.issues_fetched} fetched, "
              f"cursor {result.cursor}")
    return failures


def _collect_github_issues(cfg, engine, args: argparse.Namespace) -> int:
    """Collect the issues of every [[sources.github]]; returns the number of failed sources."""
    from collectors.github.issues_source import collect_github_issues

    failures = 0
    for source in cfg.sources.github:
        if args.source and source.repo not in args.source:
            continue
        if not source.issues:  # GitHub Issues as tickets only when asked
            continue
        try:
            result = collect_github_issues(engine, source)
        except CollectError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failures += 1
            continue
        print(f"github issues {result.source_name}: {result.issues_seen} issues seen, {result.issues_fetched} "
              f"fetched, cursor {result.cursor}")
    return failures


def _demo(args: argparse.Namespace) -> int:
    from collectors.demo.build import build_demo

    path = build_demo(Path(args.out))
    print(path)
    return 0


def _demo_github(args: argparse.Namespace) -> int:
    from collectors.demo.github_data import serve

    serve(Path(args.config), args.port)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m collectors", description="Collect engagement data into the DB.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate an engagement file and print a summary")
    add_engagement_args(check, db=False)
    check.set_defaults(run=_check)
    collect = sub.add_parser("collect", help="collect every configured source (incremental)")
    add_engagement_args(collect)
    collect.add_argument("--source", action="append", help="only this source name (repeatable)")
    collect.add_argument("--quiet", action="store_true", help="no progress bar")
    collect.add_argument("--max-wait", type=float, default=900.0, metavar="SECONDS",
                         help="longest GitHub rate-limit wait before stopping with the cursor saved (default 900)")
    collect.set_defaults(run=_collect)
    demo = sub.add_parser("demo", help="write the demo engagement (git repo + engagement.toml) into --out")
    demo.add_argument("--out", required=True, type=Path)
    demo.set_defaults(run=_demo)
    demo_gh = sub.add_parser("demo-github", help="serve the demo's GitHub data locally (until stopped) and point "
                                                 "the demo engagement file at it")
    demo_gh.add_argument("--config", required=True, type=Path, help="the demo's engagement.toml")
    demo_gh.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    demo_gh.set_defaults(run=_demo_github)
    return run_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
