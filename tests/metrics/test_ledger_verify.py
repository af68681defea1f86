"""The hash-chained ledger and `metrics verify` (issue 9, item 2): on SQLite and PostgreSQL, triggers refuse
UPDATE and DELETE; and when a hostile DB admin drops them, verify still finds an edited signature, a deleted
revocation, an edited frozen figure and an evidence row changed after signing.

Data: the tiny engagement of tests/support/engagement_factory.py stored as real rows (sources, commits,
commit_files) and computed back from the DB, plus Pat (internal) with a week-3 data commit, as in
tests/support/acceptance_case.py. M1 (>= 2 internal data commits) is met in week 3 by Ann's two and Pat's one.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError

from db import ledger
from db.engine import make_engine
from db.models import Commit, CommitFile, Source
from db.review_store import load_signatures, login_required, record_login_mode
from metrics.acceptance import AcceptanceError, Signer, accepted_milestones, revoke, sign
from metrics.integrity import verify
from metrics.service import engagement_metrics
from metrics.snapshots import freeze
from tests.support.acceptance_case import M1, M2, NOW, WITH_PAT, roster
from tests.support.cli import metrics_cli
from tests.support.engagement_factory import TODAY, config, sha_of, source_data

ANN = Signer("Ann Client", "ann@client.com", verified=True)
IDA = Signer("Ida Internal", "ida@client.com", verified=True)
VIC = Signer("Vic Vendor")


def store(engine, commits=WITH_PAT) -> None:
    """The factory's commits as rows of a git source."""
    data = source_data(commits)
    rows = data.commits
    with engine.begin() as conn:
        conn.execute(insert(Source).values(id=1, kind="git", key="/repos/model", name="model",
                                           created_at=dt.datetime(2026, 9, 1)))
        conn.execute(insert(Commit), [{
            "source_id": 1, "sha": r.sha, "parents": "", "is_merge": False, "author_name": r.name,
            "author_email": r.email, "authored_at": r.at.tz_convert("UTC").tz_localize(None).to_pydatetime(),
            "author_tz_minutes": 0, "committer_name": r.name, "committer_email": r.email,
            "committed_at": r.at.tz_convert("UTC").tz_localize(None).to_pydatetime(), "committer_tz_minutes": 0,
            "subject": r.subject, "co_authors": "", "files_changed": 1, "lines_added": 1, "lines_deleted": 0}
            for r in rows.itertuples()])
        conn.execute(insert(CommitFile), [{"source_id": 1, "sha": f.sha, "path": f.path, "old_path": None,
                                           "added": 1, "deleted": 0, "binary": False}
                                          for f in data.commit_files.itertuples()])


def cfg():
    return config([M1, M2], people=roster())


def reviewed(engine):
    return engagement_metrics(cfg(), engine, today=TODAY)


@pytest.fixture
def signed(db_url, tmp_path):
    """Ann and Vic sign M1 (accepted), Vic revokes, Ida signs (accepted again), week 3 is frozen, a role is
    granted. Returns (engine, witness)."""
    engine = make_engine(db_url)
    store(engine)
    witness = ledger.Witness(tmp_path / "witness.json", engine)
    m = reviewed(engine)
    sign(engine, m, "M1", ANN, "Data is ours", now=NOW, witness=witness)
    sign(engine, m, "M1", VIC, "Agreed", now=NOW, witness=witness)
    revoke(engine, m, "M1", VIC, "Too early", now=NOW + dt.timedelta(hours=1), witness=witness)
    sign(engine, m, "M1", IDA, "Second internal key", now=NOW + dt.timedelta(hours=2), witness=witness)
    freeze(engine, m, 3, "Ann Client", verified=True, now=NOW + dt.timedelta(hours=3), witness=witness)
    from db.review_store import set_role

    set_role(engine, "ida@client.com", "signer", granted_by="Ann Client", verified=True, witness=witness)
    return engine, witness


def hostile(engine, *statements: str, params: dict | None = None) -> None:
    """A DB admin: drop the append-only triggers, then edit."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            for name in ("ledger_no_update", "ledger_no_delete", "ledger_details_no_delete"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS ledger_no_update_delete ON ledger"))
            conn.execute(text("DROP TRIGGER IF EXISTS ledger_details_no_delete ON ledger_details"))
        for statement in statements:
            conn.execute(text(statement), params or {})


def row_of(engine, kind: str, nth: int = 0) -> ledger.Entry:
    return [e for e in ledger.entries(engine) if e.kind == kind][nth]


def test_intact_ledger_verifies_ok_and_reads_back(signed):
    engine, witness = signed
    report = verify(engine, reviewed(engine), witness)
    assert report.ok, report.problems
    assert (report.rows, report.signatures, report.frozen_weeks) == (6, 3, 1)
    assert [e.kind for e in ledger.entries(engine)] == ["sign", "sign", "revoke", "sign", "freeze", "role"]
    rows = load_signatures(engine, "tiny")
    assert rows[["signer", "action", "side", "verified", "comment"]].values.tolist() == [
        ["Ann Client", "sign", "internal", True, "Data is ours"], ["Vic Vendor", "sign", "vendor", False, "Agreed"],
        ["Vic Vendor", "revoke", "vendor", False, "Too early"],
        ["Ida Internal", "sign", "internal", True, "Second internal key"]]
    assert accepted_milestones(engine, cfg()) == {"M1"}
    # the chained content names nobody: persons are ids, the comment is only a salted digest
    for e in ledger.entries(engine):
        body = json.dumps(e.content)
        assert "Ann" not in body and "Vic" not in body and "ida@" not in body and "Data is ours" not in body


def test_triggers_refuse_update_and_delete(signed):
    engine, _ = signed
    for statement in ("UPDATE ledger SET kind = 'sign' WHERE seq = 3", "DELETE FROM ledger WHERE seq = 3",
                      "DELETE FROM ledger_details WHERE seq = 3"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert [e.kind for e in ledger.entries(engine)][2] == "revoke"


def test_verify_finds_an_edited_signature(signed):
    engine, witness = signed
    vic = row_of(engine, "sign", 1)
    forged = {**vic.content, "signer": row_of(engine, "sign", 0).content["signer"], "verified": True}
    hostile(engine, "UPDATE ledger SET content = :c WHERE seq = :s",
            params={"c": ledger.canonical(forged), "s": vic.seq})
    report = verify(engine, reviewed(engine), witness)
    assert not report.ok
    assert report.problems[0] == f"ledger row {vic.seq} (sign, 2026-10-02 09:00 UTC): content altered (its sha256 " \
                                 "no longer matches)"


def test_verify_finds_a_signature_whose_hashes_were_recomputed_too(signed):
    """The admin edits the signer's name in the details and recomputes the row's own hashes: the next row's
    link to it breaks."""
    engine, witness = signed
    vic = row_of(engine, "sign", 1)
    forged = {**vic.content, "verified": True}
    text_ = ledger.canonical(forged)
    content_sha = ledger.sha256_text(text_)
    with engine.connect() as conn:
        prev = conn.execute(text("SELECT prev_sha256 FROM ledger WHERE seq = :s"), {"s": vic.seq}).scalar_one()
    row_sha = ledger.row_hash(vic.seq, vic.engagement, vic.kind, vic.at, content_sha, prev)
    hostile(engine, "UPDATE ledger SET content = :c, content_sha256 = :h, row_sha256 = :r WHERE seq = :s",
            params={"c": text_, "h": content_sha, "r": row_sha, "s": vic.seq})
    report = verify(engine, reviewed(engine), witness)
    assert report.problems[0].startswith(f"ledger row {vic.seq + 1} (revoke, 2026-10-02 10:00 UTC): does not follow "
                                         f"row {vic.seq}")


def test_verify_finds_edited_signer_details(signed):
    engine, witness = signed
    hostile(engine, "UPDATE ledger_details SET details = :d WHERE seq = 2",
            params={"d": ledger.canonical({"signer": "Ida Internal", "email": None, "comment": "Agreed"})})
    report = verify(engine, reviewed(engine), witness)
    assert report.problems == ["ledger row 2 (sign, 2026-10-02 09:00 UTC): its details (names, comment) were edited"]


def test_verify_finds_a_deleted_revocation_in_the_middle(signed):
    engine, witness = signed
    revocation = row_of(engine, "revoke")
    hostile(engine, "DELETE FROM ledger_details WHERE seq = :s", "DELETE FROM ledger WHERE seq = :s",
            params={"s": revocation.seq})
    m = reviewed(engine)
    report = verify(engine, m, witness)
    assert report.problems[0] == f"ledger row {revocation.seq} deleted: the chain jumps from row " \
                                 f"{revocation.seq - 1} to row {revocation.seq + 1}"


def test_verify_finds_a_deleted_revocation_at_the_end_through_the_witness(db_url, tmp_path):
    """The newest row leaves a valid shorter chain: only the head this machine saw tells."""
    engine = make_engine(db_url)
    store(engine)
    witness = ledger.Witness(tmp_path / "witness.json", engine)
    m = reviewed(engine)
    sign(engine, m, "M1", ANN, "ok", now=NOW, witness=witness)
    sign(engine, m, "M1", VIC, "ok", now=NOW, witness=witness)
    revoke(engine, m, "M1", VIC, "no", now=NOW, witness=witness)
    assert accepted_milestones(engine, cfg()) == set()
    hostile(engine, "DELETE FROM ledger_details WHERE seq = 3", "DELETE FROM ledger WHERE seq = 3")
    assert accepted_milestones(engine, cfg()) == {"M1"}  # what the deletion was for
    report = verify(engine, reviewed(engine), witness)
    assert report.problems == ["ledger row 3 is gone: this machine saw the ledger with 3 rows (witness), the database "
                               "now ends at row 2"]
    assert verify(engine, reviewed(engine), None).ok  # without a witness a truncated tail cannot be told


def test_verify_finds_an_edited_frozen_figure(signed):
    engine, witness = signed
    frozen = row_of(engine, "freeze")
    content = json.loads(json.dumps(frozen.content))
    overall = next(f for f in content["figures"] if f["kpi"] == "internal_commit_share" and f["capability"] is None)
    assert overall["value"] == 0.8
    overall["value"] = 0.9
    hostile(engine, "UPDATE ledger SET content = :c WHERE seq = :s",
            params={"c": ledger.canonical(content), "s": frozen.seq})
    report = verify(engine, reviewed(engine), witness)
    assert report.problems[0] == f"ledger row {frozen.seq} (freeze, 2026-10-02 12:00 UTC): content altered (its " \
                                 "sha256 no longer matches)"


def test_verify_finds_an_evidence_row_changed_after_signing(signed):
    engine, witness = signed
    pat = sha_of("data/p.py", WITH_PAT)
    hostile(engine, "UPDATE commits SET authored_at = :at WHERE sha = :sha",
            params={"at": dt.datetime(2026, 9, 22, 11, 0), "sha": pat})  # same week, another time
    report = verify(engine, reviewed(engine), witness)
    assert report.problems[0] == (
        f"ledger row 1 (signature of M1 by Ann Client): evidence row commit {pat[:12]} (change data/p.py) changed "
        "after signing: at 2026-09-22T10:11:00Z → 2026-09-22T11:00:00Z")  # Tuesday 10:00 + 11 min (12th commit)


def test_verify_finds_an_evidence_row_moved_to_another_side_with_the_roster_unchanged(signed):
    engine, witness = signed
    pat = sha_of("data/p.py", WITH_PAT)
    hostile(engine, "UPDATE commits SET author_email = 'pat@acme.com', author_name = 'Pat' WHERE sha = :sha",
            params={"sha": pat})
    report = verify(engine, reviewed(engine), witness)
    assert report.problems[0] == (
        f"ledger row 1 (signature of M1 by Ann Client): evidence row commit {pat[:12]} (change data/p.py) changed "
        "after signing: side internal → vendor with the roster unchanged")


def test_new_data_and_roster_edits_are_notices_not_alterations(signed):
    engine, witness = signed
    with engine.begin() as conn:  # a late commit collected for week 3: new evidence, not an alteration
        conn.execute(insert(Commit).values(
            source_id=1, sha="ff" * 20, parents="", is_merge=False, author_name="Ann Client",
            author_email="ann@client.com", authored_at=dt.datetime(2026, 9, 23, 9), author_tz_minutes=0,
            committer_name="Ann Client", committer_email="ann@client.com", committed_at=dt.datetime(2026, 9, 23, 9),
            committer_tz_minutes=0, subject="late", co_authors="", files_changed=1, lines_added=1, lines_deleted=0))
        conn.execute(insert(CommitFile).values(source_id=1, sha="ff" * 20, path="data/late.py", added=1, deleted=0,
                                               binary=False))
    report = verify(engine, reviewed(engine), witness)
    assert report.ok, report.problems
    assert any("1 evidence row(s) added to criterion 1 since signing (new data collected)" in n
               for n in report.notices)
    edited = config([M1, M2], people=roster("vendor"))  # Pat turns out to be a vendor: a roster change
    report = verify(engine, engagement_metrics(edited, engine, today=TODAY), witness)
    assert report.ok, report.problems
    pat = sha_of("data/p.py", WITH_PAT)[:12]
    assert any(f"commit {pat} (change data/p.py): side internal → vendor (the roster changed since signing)" in n
               for n in report.notices), report.notices


def test_cli_verify_prints_ok_or_the_first_altered_row(tmp_path):
    """`python -m metrics verify` on a TOML engagement over a SQLite DB: ok (exit 0), ALTERED (exit 1)."""
    toml = tmp_path / "engagement.toml"
    toml.write_text('[engagement]\nname = "Tiny"\nstart = 2026-09-07\nweeks = 4\n'
                    '[classify]\ninternal_email_domains = ["client.com"]\nvendor_email_domains = ["acme.com"]\n'
                    '[[capabilities]]\nkey = "data"\npaths = ["data/**"]\n'
                    '[[capabilities]]\nkey = "training"\npaths = ["train/**"]\n'
                    '[[milestones]]\nid = "M1"\ndue_week = 3\ntitle = "Internal data commits"\n'
                    'criteria = [{ metric = "internal_commits", op = ">=", value = 2, capability = "data" }]\n')
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    store(make_engine(url))

    def cli(*args):
        return metrics_cli(*args, "--config", str(toml), "--db", url)  # `python -m metrics`, in this process

    out = cli("sign", "--milestone", "M1", "--name", "Ann Client", "--side", "internal", "--comment", "ok")
    assert out.returncode == 0, out.stderr
    assert "[unverified: the command line cannot check who runs it]" in out.stdout
    out = cli("verify")
    assert (out.returncode, out.stdout.splitlines()[0]) == (0, "ok: 1 ledger rows (head 1 " + out.stdout[26:38]
                                                            + "), 1 signatures and 0 frozen weeks checked")
    assert (tmp_path / ".baton-ledger-witness.json").exists()
    hostile(make_engine(url), "UPDATE ledger SET kind = 'revoke' WHERE seq = 1")
    out = cli("verify")
    assert out.returncode == 1
    assert out.stdout.splitlines()[0].startswith("ALTERED: ledger row 1 (revoke, ")


def test_once_login_is_required_only_verified_signatures_count_and_the_cli_cannot_sign(db_url, tmp_path):
    engine = make_engine(db_url)
    store(engine)
    m = reviewed(engine)
    sign(engine, m, "M1", VIC, "typed in before login", now=NOW)
    sign(engine, m, "M1", Signer("Ida Internal"), "typed in before login", now=NOW)
    assert accepted_milestones(engine, cfg()) == {"M1"}
    assert record_login_mode(engine) and not record_login_mode(engine) and login_required(engine)
    assert accepted_milestones(engine, cfg()) == set()  # typed-in names never count once login is required
    with pytest.raises(AcceptanceError, match="login is required for this database: only a logged-in user can "
                                              "sign"):
        sign(engine, m, "M1", Signer("Someone", side="internal"), "forged", now=NOW)
    sign(engine, m, "M1", ANN, "verified", now=NOW)
    sign(engine, m, "M1", IDA, "verified", now=NOW)
    assert accepted_milestones(engine, cfg()) == {"M1"}
    rows = load_signatures(engine, "tiny")
    assert rows["counted"].tolist() == [False, False, True, True]


def test_cli_role_grants_are_logged_with_the_granter_and_refused_once_login_has_an_editor(tmp_path):
    from db.review_store import load_roles, role_of, set_role

    toml = tmp_path / "engagement.toml"
    toml.write_text('[engagement]\nname = "Tiny"\nstart = 2026-09-07\n')
    url = f"sqlite:///{tmp_path / 'baton.db'}"

    def role(email, roles):
        return metrics_cli("role", "--config", str(toml), "--db", url, "--email", email, "--role", roles)

    out = role("Ann@client.com", "editor,signer")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("granted editor,signer to ann@client.com, granted by ")
    assert "(command line) [unverified: the command line cannot check who runs it]" in out.stdout.splitlines()[0]
    engine = make_engine(url)
    roles = load_roles(engine)
    assert roles[["email", "role", "verified"]].values.tolist() == [["ann@client.com", "editor,signer", False]]
    assert roles.loc[0, "granted_by"].endswith("(command line)")
    record_login_mode(engine)  # the app ran with [auth]; an editor exists: the CLI may not grant any more
    out = role("mallory@else.com", "signer")
    assert out.returncode == 2 and out.stderr.startswith("error: login is required for this database and it has an "
                                                         "editor: roles are granted in the app by an editor")
    assert role_of(engine, "mallory@else.com") is None
    set_role(engine, "bob@client.com", "viewer", granted_by_email="ann@client.com", verified=True)
    assert role_of(engine, "Bob@Client.com") == "viewer"


def test_concurrent_appends_keep_one_unbroken_chain(db_url):
    """Four writers at once (threads, each with its own connections): every row lands, seqs 1..n, chain ok."""
    import threading

    engine = make_engine(db_url)
    errors = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                ledger.append(engine, "export", {"writer": n, "i": i})
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    entries = ledger.entries(engine)
    assert [e.seq for e in entries] == list(range(1, 41))
    assert sorted((e.content["writer"], e.content["i"]) for e in entries) == [(n, i) for n in range(4)
                                                                              for i in range(10)]
    assert ledger.verify_chain(engine) == []


def test_pack_out_naming_a_file_is_one_line(tmp_path):
    toml = tmp_path / "engagement.toml"
    toml.write_text('[engagement]\nname = "Tiny"\nstart = 2026-09-07\nweeks = 4\n')
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    store(make_engine(url))
    taken = tmp_path / "pack.zip"
    taken.write_text("not a folder")
    for out, expected in ((taken, f"error: --out: expected a folder to write the pack into, {taken} is a file"),
                          (taken / "sub", f"error: --out: expected a folder to write the pack into, {taken} (in "
                                          f"{taken / 'sub'}) is a file")):
        done = metrics_cli("pack", "--config", str(toml), "--db", url, "--week", "1", "--out", str(out), "--no-pdf")
        assert (done.returncode, done.stderr.strip(), done.stdout) == (2, expected, "")
    assert taken.read_text() == "not a folder"


def test_renaming_the_engagement_keeps_its_signatures_when_the_id_is_kept(db_url):
    engine = make_engine(db_url)
    store(engine)
    m = reviewed(engine)
    sign(engine, m, "M1", ANN, "ok", now=NOW)
    sign(engine, m, "M1", IDA, "ok", now=NOW)
    renamed = config([M1, M2], people=roster()).model_copy(deep=True)
    kept = renamed.model_copy(update={"engagement": renamed.engagement.model_copy(
        update={"name": "Tiny, renamed", "id": "tiny"})})
    assert accepted_milestones(engine, kept) == {"M1"}
    from metrics.engagement_file import parse_engagement

    lost = parse_engagement({"engagement": {"name": "Tiny renamed", "start": "2026-09-07", "weeks": 4},
                             "capabilities": [{"key": "data", "paths": ["data/**"]}], "milestones": [M1]})
    assert lost.engagement.id == "tiny-renamed" and accepted_milestones(engine, lost) == set()
    report = verify(engine, engagement_metrics(lost, engine, today=TODAY))
    assert report.ok and report.notices == [
        "the ledger also holds rows of engagement id(s) tiny; this engagement file has no [engagement].id and its "
        "name gives 'tiny-renamed': if it was renamed, add id = \"tiny\" under [engagement] to keep its signatures "
        "and frozen weeks"]
