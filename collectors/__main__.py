"""Command line: `python -m collectors {check,collect,demo,purge,export-person} ...` (no UI needed), SPEC §8.

`collect` is one loop over the configured sources (collectors/configured.py), each run by the driver
(collectors/driver.py): a source that fails is logged failed and the others still run. Exit code: 0 when
every source succeeded, 1 when some failed, 3 when some were skipped because another collection held them
(`--no-wait`), 2 for a bad engagement file or database URL.

`purge` and `export-person` (SPEC §9) are thin: the work is SQL in db/privacy.py, the audit row in db/ledger.py.
After the sources, `collect` applies db.privacy.enforce: purged identities stay pseudonyms, `pseudonymize = true`
and `[retention]` hold, whatever a collector wrote.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # a no-change rerun is answered before the imports below (issue 11)
    from collectors.fastpath import fast_collect

    if (_code := fast_collect(sys.argv[1:])) is not None:
        sys.exit(_code)

import argparse  # noqa: E402
import os  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402

from collectors.fastpath import remember_valid_config  # noqa: E402
from collectors.runs import CollectError  # noqa: E402
from engagement.cachedir import forget_computed  # noqa: E402
from engagement.cli import add_engagement_args, run_command  # noqa: E402
from engagement.config import load_config, register_secrets, summarize  # noqa: E402


def _check(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    print(summarize(cfg))
    print("OK: the engagement file is valid.")
    return 0


def _collect(args: argparse.Namespace) -> int:
    from collectors.configured import configured_sources, replay_dir
    from collectors.driver import SourceBusy, run_source
    from db.engine import make_engine, redact_url, resolve_db_url

    cfg = load_config(args.config)
    register_secrets(cfg)  # every later message, log line and stored error leaves these values out
    remember_valid_config(cfg.file)  # later no-change reruns may take collectors/fastpath.py
    url = resolve_db_url(args.db, cfg.file)
    engine = make_engine(url)
    print(f"Collecting into {redact_url(url)}", file=sys.stderr)
    if args.record:
        print(f"Recording every HTTP exchange into {args.record}", file=sys.stderr)
    for gh in cfg.sources.github:
        if replay_dir(cfg, gh.base_url, gh.replay) is None and not os.environ.get(gh.token_env) and (
                not args.source or gh.repo in args.source):
            print(f"warning: {gh.token_env} is not set: calling {gh.base_url} without a token", file=sys.stderr)
    sources = configured_sources(cfg, only=args.source, record_dir=args.record, max_wait=args.max_wait)
    if not sources:
        print("No sources configured: nothing to collect." if not args.source else
              f"No configured source is named {', '.join(args.source)}.", file=sys.stderr)
    failed = busy = 0
    for source in sources:
        try:
            result = run_source(engine, source, wait=not args.no_wait, progress=False if args.quiet else None)
        except SourceBusy as exc:
            print(f"error: {exc}", file=sys.stderr)
            busy += 1
            continue
        except CollectError as exc:
            print(f"error: {exc}", file=sys.stderr)
            if os.environ.get("BATON_DEBUG") and exc.__cause__ is not None:
                traceback.print_exception(exc.__cause__)
            failed += 1
            continue
        except Exception as exc:  # a bug outside the run (the run itself logs and converts its own): one line
            print(f"error: {source.label}: unexpected {type(exc).__name__}: {exc} (rerun with BATON_DEBUG=1 for "
                  "the traceback)", file=sys.stderr)
            if os.environ.get("BATON_DEBUG"):
                traceback.print_exception(exc)
            failed += 1
            continue
        print(source.summary(result), flush=True)
    _enforce_privacy(cfg, engine)
    return 1 if failed else 3 if busy else 0


def _enforce_privacy(cfg, engine) -> None:
    """SPEC §9 after every collect: tombstones, pseudonymize, retention (db/privacy.py)."""
    from db.privacy import enforce

    done = enforce(engine, cfg)
    if done.identities or done.texts or done.retention:
        forget_computed(cfg.file)
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
    forget_computed(cfg.file)
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


def _demo(args: argparse.Namespace) -> int:
    from collectors.demo.build import build_demo

    path = build_demo(Path(args.out), force=args.force)
    print(path)
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
                         help="longest rate-limit wait before stopping with the cursor saved (default 900)")
    collect.add_argument("--record", type=Path, metavar="DIR",
                         help="also store every HTTP exchange in DIR (tokens stripped), to replay with "
                              'base_url = "replay:DIR" or replay = "DIR"')
    collect.add_argument("--no-wait", action="store_true",
                         help="skip a source another collection is running (exit code 3) instead of waiting")
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
    demo = sub.add_parser("demo", help="write the demo engagement (git repo, recordings, engagement.toml) into --out")
    demo.add_argument("--out", required=True, type=Path)
    demo.add_argument("--force", action="store_true", help="overwrite an engagement.toml edited since it was written")
    demo.set_defaults(run=_demo)
    return run_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
