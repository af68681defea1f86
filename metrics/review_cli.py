"""`python -m metrics milestones|sign|revoke|freeze|role|pack|verify`: milestones, acceptance and the weekly
review, scripted.

The command line cannot check who runs it: every action it records says so ("unverified"). Once login is
required for the DB (the app ran with [auth]), it cannot sign or revoke (such signatures would not count), and
it grants roles only while the DB has no editor yet (the first one); after that an editor grants them in
the app. Every record goes into the hash-chained ledger; `verify` re-checks it (exit 1 on any alteration).
Errors (unknown milestone, unmet milestone, week frozen already) are one line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from engagement.cli import add_engagement_args

UNVERIFIED = "unverified: the command line cannot check who runs it"


def _open(args: argparse.Namespace):
    from metrics.service import load

    return load(args.config, args.db)


def _witness(cfg, engine):
    from db.ledger import witness_for

    return witness_for(cfg.file, engine)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _milestones(args: argparse.Namespace) -> int:
    import pandas as pd

    from metrics.report.cells import text_table
    from metrics.review import milestone_board, signature_table

    _cfg, engine, m = _open(args)
    week = args.week if args.week is not None else (m.latest_week() or (m.weeks[-1] if m.weeks else 0))
    board = milestone_board(engine, m, week)
    sigs = signature_table(engine, m)
    records = []
    for row in board.itertuples():
        mine = sigs[sigs["milestone"] == row.milestone]
        records.append({"milestone": row.milestone, "week": week, "state": row.state, "late": bool(row.late),
                        "due_week": row.due_week, "met_week": None if pd.isna(row.met_week) else int(row.met_week),
                        "accepted": bool(row.accepted), "signatures": int(row.signatures),
                        "evidence_sha256": mine["digest"].tolist(),
                        "evidence_changed": bool(row.evidence_changed), "title": row.title})
    if args.format == "json":
        json.dump(records, sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif not records:
        print("No milestones configured.")
    else:
        table = pd.DataFrame(records)
        table["evidence_sha256"] = [", ".join(d[:12] for d in ds) or None for ds in table["evidence_sha256"]]
        print(text_table(table))
    return 0


def _signer(args: argparse.Namespace):
    from metrics.acceptance import Signer

    return Signer(args.name, args.email, verified=False, side=args.side)


def _sign(args: argparse.Namespace) -> int:
    from metrics.acceptance import AcceptanceError, accepted_milestones, sign

    cfg, engine, m = _open(args)
    try:
        row_id = sign(engine, m, args.milestone, _signer(args), args.comment, witness=_witness(cfg, engine))
    except (AcceptanceError, KeyError) as exc:
        return _fail(str(exc).strip("'\""))
    from db.review_store import load_signatures

    row = load_signatures(engine, cfg.engagement.id).set_index("id").loc[row_id]
    accepted = args.milestone in accepted_milestones(engine, cfg)
    print(f"signed {args.milestone} as {row['signer']} ({row['side']}, unverified); evidence of week "
          f"{row['met_week']} sha256 {row['evidence_sha256']}; ledger row {row_id}; "
          + ("accepted (two keys)" if accepted else "not accepted yet (needs an internal and a second approver)")
          + f" [{UNVERIFIED}]")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from metrics.acceptance import AcceptanceError, accepted_milestones, revoke

    cfg, engine, m = _open(args)
    try:
        revoke(engine, m, args.milestone, _signer(args), args.comment, witness=_witness(cfg, engine))
    except (AcceptanceError, KeyError) as exc:
        return _fail(str(exc).strip("'\""))
    accepted = args.milestone in accepted_milestones(engine, cfg)
    print(f"revoked {args.name}'s signature of {args.milestone} (appended; nothing deleted); "
          + ("still accepted" if accepted else "not accepted") + f" [{UNVERIFIED}]")
    return 0


def _freeze(args: argparse.Namespace) -> int:
    from metrics.snapshots import FreezeError, freeze

    cfg, engine, m = _open(args)
    by = args.by or f"{getpass.getuser()} (command line)"
    try:
        row = freeze(engine, m, args.week, by, witness=_witness(cfg, engine))
    except FreezeError as exc:
        return _fail(str(exc))
    figures = json.loads(row["figures_json"])
    print(f"froze week {args.week}: {len(figures)} KPI rows, evidence sha256 {row['evidence_sha256']}, "
          f"data {row['data_version']}; frozen by {by} [{UNVERIFIED}]")
    return 0


def _pack(args: argparse.Namespace) -> int:
    from pathlib import Path

    from metrics.report.pdf import PdfPrinter  # light: the browser starts before pandas and the metrics load

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        return _fail(f"--out: expected a folder to write the pack into, {args.out} is a file")
    blocked = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
    if blocked is not None:
        return _fail(f"--out: expected a folder to write the pack into, {blocked} (in {args.out}) is a file")
    # The browser launches (and parses plotly.js) while the metrics are computed: the pack's wall time is the
    # longer of the two, not their sum.
    printer = None if args.no_pdf else PdfPrinter()
    if printer is not None:
        printer.start()
    from metrics.report.pack import write_pack

    try:
        _cfg, engine, m = _open(args)
    except BaseException:
        if printer is not None:
            printer.cancel()
        raise
    if args.week not in m.weeks:
        if printer is not None:
            printer.cancel()
        return _fail(f"week {args.week} is not an engagement week (weeks: {m.weeks[0]}..{m.weeks[-1]})")
    try:
        paths = write_pack(engine, m, args.week, out, pdf=printer is not None, printer=printer)
    except OSError as exc:
        return _fail(f"--out: cannot write the pack into {args.out} ({exc.strerror or exc})")
    except RuntimeError as exc:  # the PDF printer (system Chromium) is missing or failed
        return _fail(f"the PDF could not be printed ({str(exc).splitlines()[0]}); rerun with --no-pdf")
    for path in paths:
        print(path)
    return 0


def _role(args: argparse.Namespace) -> int:
    from db.review_store import editors_exist, load_roles, login_required, set_role
    from metrics.service import open_engagement

    cfg, engine = open_engagement(args.config, args.db)
    if args.email:
        roles = [r.strip().lower() for r in (args.role or "").split(",") if r.strip()]
        unknown = [r for r in roles if r not in (*ROLES, "none")]
        if not roles or unknown or ("none" in roles and len(roles) > 1):
            return _fail(f"--role: expected one or more of {', '.join(ROLES)} (comma-separated), or none, got "
                         f"{args.role!r}")
        if "@" not in args.email:
            return _fail(f"--email: expected an email address, got {args.email!r}")
        if login_required(engine) and editors_exist(engine):
            return _fail("login is required for this database and it has an editor: roles are granted in the app "
                         "by an editor (Sources page, Access), where the granter is verified; the command line "
                         "cannot check who runs it")
        granted = "" if roles == ["none"] else ",".join(roles)
        by = f"{getpass.getuser()} (command line)"
        set_role(engine, args.email, granted, granted_by=by, witness=_witness(cfg, engine))
        print(f"{'granted ' + granted if granted else 'withdrew every role'} to {args.email.strip().lower()}, "
              f"granted by {by} [{UNVERIFIED}]")
    roles = load_roles(engine)
    print(roles.to_string(index=False) if len(roles) else "No roles granted yet.")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from metrics.integrity import dumps, verify

    cfg, engine, m = _open(args)
    report = verify(engine, m, _witness(cfg, engine))
    if args.format == "json":
        print(dumps(report))
    else:
        print(report.summary())
        for line in report.problems[1:] if not report.ok else []:
            print(f"also: {line}")
        for line in report.notices:
            print(f"note: {line}")
    return 0 if report.ok else 1


ROLES = ("viewer", "editor", "signer")


def add_review_commands(sub) -> None:
    """Add the milestone/acceptance/review sub-commands to `python -m metrics`."""
    p = sub.add_parser("milestones", help="each milestone's state in a week, acceptance, evidence changes")
    add_engagement_args(p)
    p.add_argument("--week", type=int, help="engagement week (default: the latest week with activity)")
    p.add_argument("--format", choices=["json", "table"], default="table")
    p.set_defaults(run=_milestones)

    for name, run, text in (("sign", _sign, "sign a met milestone (one of the two keys)"),
                            ("revoke", _revoke, "revoke your signature (appends a revocation)")):
        p = sub.add_parser(name, help=text)
        add_engagement_args(p)
        p.add_argument("--milestone", required=True, help="milestone id, e.g. M3")
        p.add_argument("--name", required=True, help="the signer's name (stored as unverified)")
        p.add_argument("--email", help="the signer's email (matches the roster)")
        p.add_argument("--side", choices=["internal", "vendor"], help="needed when the signer is not on the roster")
        p.add_argument("--comment", required=True)
        p.set_defaults(run=run)

    p = sub.add_parser("freeze", help="freeze week N: store its KPI figures and evidence digest for good")
    add_engagement_args(p)
    p.add_argument("--week", type=int, required=True)
    p.add_argument("--by", help="who freezes (default: the OS user)")
    p.set_defaults(run=_freeze)

    p = sub.add_parser("role", help="grant roles to a login email (with [auth]); without --email: list them")
    add_engagement_args(p)
    p.add_argument("--email", help="the login email")
    p.add_argument("--role", help="viewer, editor, signer (comma-separated for several); none withdraws them")
    p.set_defaults(run=_role)

    p = sub.add_parser("verify", help="re-check the ledger's hash chain, every signature's evidence and every "
                                      "frozen week; prints ok or the first altered row (exit 1)")
    add_engagement_args(p)
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(run=_verify)

    p = sub.add_parser("pack", help="steering pack of week N: HTML, PDF and CSVs in DIR")
    add_engagement_args(p)
    p.add_argument("--week", type=int, required=True)
    p.add_argument("--out", required=True, help="folder to write into (created)")
    p.add_argument("--no-pdf", action="store_true", help="skip the PDF (no Chromium needed)")
    p.set_defaults(run=_pack)
