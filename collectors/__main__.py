"""Command line: `python -m collectors {check,collect,demo,purge,export-person} ...` (no UI needed).

`purge` and `export-person` (SPEC §9) are thin: the work is SQL in db/privacy.py, the audit row in db/ledger.py.
After the sources, `collect` applies db.privacy.enforce: purged identities stay pseudonyms, `pseudonymize = true`
and `[retention]` hold, whatever a collector wrote."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from collectors.runs import CollectError
from engagement.cli import add_engagement_args, run_command
from engagement.config import load_config, register_secrets, summarize


def _check(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    print(summarize(cfg))
    print("OK: the engagement file is valid.")
    return 0


def _collect(args: argparse.Namespace) -> int:
    from collectors.git.source import collect_git
    from db.engine import make_engine, redact_url, resolve_db_url

    cfg = load_config(args.config)
    register_secrets(cfg)  # every later message, log line and stored error leaves these values out
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
    failures += _collect_github(cfg, engine, args)
    failures += _collect_jira(cfg, engine, args)
    failures += _collect_github_issues(cfg, engine, args)
    if not cfg.sources.git and not cfg.sources.jira and not cfg.sources.github:
        print("No sources configured: nothing to collect.", file=sys.stderr)
    _enforce_privacy(cfg, engine)
    return 1 if failures else 0


def _enforce_privacy(cfg, engine) -> None:
    """SPEC §9 after every collect: tombstones, pseudonymize, retention (db/privacy.py)."""
    from db.privacy import enforce

    done = enforce(engine, cfg)
    if done.identities or done.texts or done.retention:
        print(f"privacy: {done.identities} identity values pseudonymised, {done.texts + done.retention} texts "
              "removed (purges, [retention])", file=sys.stderr)


def _privacy_target(args: argparse.Namespace):
    if bool(args.person) == bool(args.identity):
        raise CollectError("expected exactly one of --person \"Name\" or --identity EMAIL|LOGIN")
    return args.person, args.identity


def _purge(args: argparse.Namespace) -> int:
    """SPEC §9: replace a person's identities by their pseudonym everywhere and remove what they wrote."""
    from db import ledger
    from db.engine import make_engine, resolve_db_url
    from db.privacy import purge

    cfg = load_config(args.config)
    person, identity = _privacy_target(args)
    engine = make_engine(resolve_db_url(args.db, cfg.file))
    try:
        report = purge(engine, cfg, person=person, identity=identity)
    except ValueError as exc:
        raise CollectError(str(exc)) from None
    ledger.append(engine, "purge", {"identities": report.identities, "rows": report.rows, "texts": report.texts,
                                    "mentions": report.mentions, "ledger_rows": report.ledger_rows},
                  witness=ledger.witness_for(cfg.file, engine))
    print(f"purged: now {report.pseudonym}; {report.identities} identities tombstoned, {report.rows} values "
          f"pseudonymised, {report.texts} texts they wrote removed, {report.mentions} mentions replaced, "
          f"{report.ledger_rows} audit-log rows cleared of their details. Delete their [[people]] entry from "
          f"{Path(args.config).name} when you are ready: their events keep their side and week.")
    return 0


def _export_person(args: argparse.Namespace) -> int:
    """SPEC §9 right of access: everything stored about a person, as JSON (stdout or --out)."""
    import json

    from db import ledger
    from db.engine import make_engine, resolve_db_url
    from db.privacy import export_person

    cfg = load_config(args.config)
    person, identity = _privacy_target(args)
    engine = make_engine(resolve_db_url(args.db, cfg.file))
    try:
        document = export_person(engine, cfg, person=person, identity=identity)
    except ValueError as exc:
        raise CollectError(str(exc)) from None
    text = json.dumps(document, indent=1, ensure_ascii=False, default=str)
    rows = sum(len(v) for v in document["tables"].values())
    if args.out:
        out = Path(args.out)
        if out.is_dir():
            raise CollectError(f"--out: expected a file name, {args.out} is a folder")
        try:
            out.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise CollectError(f"--out: cannot write {args.out} ({exc.strerror})") from None
    else:
        print(text)
    ledger.append(engine, "export", {"rows": rows, "tables": sorted(document["tables"])},
                  witness=ledger.witness_for(cfg.file, engine))
    if args.out:
        print(f"exported {rows} rows to {args.out}", file=sys.stderr)
    return 0


def _collect_eval_tests(cfg, engine, source) -> None:
    """Evaluation test counts per week from the git source (eval_coverage)."""
    from collectors.git.eval_tests import collect_eval_tests

    tests = collect_eval_tests(engine, cfg, cfg.resolve_path(source.path), source.branch, source.display_name)
    print(f"git {source.display_name}: {tests} evaluation tests at the tip")


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
    for name, run, text in (("purge", _purge, "SPEC §9: replace a person's names, emails, logins and account ids by "
                                              "a pseudonym in every table and delete what they wrote"),
                            ("export-person", _export_person, "SPEC §9: everything stored about a person, as JSON")):
        p = sub.add_parser(name, help=text)
        add_engagement_args(p)
        who = p.add_mutually_exclusive_group(required=True)
        who.add_argument("--person", help="the person's name on the roster")
        who.add_argument("--identity", help="an email, GitHub login or Jira account id (also one not on the roster)")
        if name == "export-person":
            p.add_argument("--out", help="write the JSON to this file (default: standard output)")
        p.set_defaults(run=run)
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
