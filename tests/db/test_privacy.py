"""Data rights (SPEC §9) on the demo: purge, pseudonymize, retention, export-person, the audit log.

The demo (git + its GitHub, Jira and MLflow recordings) is collected; Tom Becker
(vendor until 2026-10-07, then internal; commits, PRs, reviews, CI runs, Jira tickets and comments) signs M1
with Marco Bianchi and freezes week 5. After `collectors purge --person "Tom Becker"`: none of his names,
emails, logins, Jira account id or GitHub account id is left in any table, the pack or the logs; every weekly
value and count is the one before; `metrics verify` says ok; a rerun of collect (with a new commit of his and
every cursor reset) does not bring him back.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import zlib
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import inspect, text

from collectors.__main__ import main as collectors_main
from collectors.demo import tickets as demo_tickets
from db import ledger
from db.engine import make_engine
from db.review_store import audit_log, load_signatures
from metrics.__main__ import main as metrics_main
from tests.support.demo_template import collected_demo_in, copy_demo

TOM = ["Tom Becker", "tom.becker@acme-consulting.com", "tom.becker@client.com", "tbecker",
       demo_tickets.JIRA_IDS["Tom Becker"]]
TOM_GITHUB_ID = zlib.crc32(b"tbecker") % 10**7  # the demo's GitHub users (collectors/demo/github_fixtures.py)
DEMO_ID = "fraud-model-handoff-demo"


def run(main, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def weekly(toml: Path, url: str) -> list[dict]:
    code, out, err = run(metrics_main, "weekly", "--config", str(toml), "--db", url, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def leaks(engine, needles: list[str], account_id: int | None = None) -> list[str]:
    """Every (table, needle) where a needle appears in any column of any row (case-insensitive), and any
    column equal to the numeric account id."""
    found = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')).fetchall():  # noqa: S608 - table names
                line = " | ".join("" if v is None else str(v) for v in row).lower()
                found += [f"{table}: {n}" for n in needles if n.lower() in line]
                if account_id is not None and account_id in row:
                    found.append(f"{table}: account id {account_id}")
    return sorted(set(found))


def text_leaks(texts: list[str], needles: list[str]) -> list[str]:
    return [n for n in needles for t in texts if n.lower() in t.lower()]


@pytest.fixture
def demo(db_url, tmp_path):
    """The demo collected from git and its GitHub, Jira and MLflow recordings (a copy of this test's own)."""
    return collected_demo_in(tmp_path / "demo", db_url), db_url


def commit_as(repo: Path, author: str, email: str, path: str, message: str, date: str) -> None:
    (repo / path).write_text(f"# {message}\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date,
           "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": email, "GIT_COMMITTER_DATE": date,
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo)}
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "-c", "commit.gpgsign=false", "commit", "-q", "-m", message],
                   check=True, env=env)


def test_purge_on_the_demo_leaves_no_trace_and_every_figure(demo, tmp_path):
    toml, url = demo
    engine = make_engine(url)
    base = ["--config", str(toml), "--db", url]
    assert leaks(engine, TOM, TOM_GITHUB_ID)  # he is everywhere before: commits, PRs, runs, tickets, ...
    before = weekly(toml, url)
    outputs = []
    for name in ("Tom Becker", "Marco Bianchi"):
        code, out, err = run(metrics_main, "sign", *base, "--milestone", "M1", "--name", name, "--comment", "ok")
        assert code == 0, err
    code, out, err = run(metrics_main, "freeze", *base, "--week", "5", "--by", "Tom Becker")
    assert code == 0, err
    signed = load_signatures(engine, DEMO_ID)
    assert signed["signer"].tolist() == ["Tom Becker", "Marco Bianchi"]

    code, out, err = run(collectors_main, "purge", *base, "--person", "Tom Becker")
    assert code == 0, err
    outputs += [out, err]
    assert out.startswith("purged: now person-")
    pseudonym = out.split()[2].rstrip(";")

    assert leaks(engine, TOM, TOM_GITHUB_ID) == []
    assert weekly(toml, url) == before  # every weekly value and count, with his roster entry still in the file
    code, out, err = run(metrics_main, "verify", *base)
    assert (code, out.splitlines()[0][:3]) == (0, "ok:"), out + err
    signatures = load_signatures(engine, DEMO_ID)
    assert signatures["signer"].tolist() == [pseudonym, "Marco Bianchi"]  # the signature stands, pseudonymous
    assert signatures["comment"].tolist()[0] == "[removed: personal data purged]"
    code, out, err = run(metrics_main, "milestones", *base, "--week", "8", "--format", "json")
    m1 = next(r for r in json.loads(out) if r["milestone"] == "M1")
    assert m1["accepted"] and not m1["evidence_changed"]
    audit = audit_log(engine)
    assert audit.loc[0, "kind"] == "purge" and "a person's data was purged" in audit.loc[0, "what"]

    # the user deletes his roster entry: the figures stay (his sides live on under the pseudonym)
    text_ = toml.read_text()
    start = text_.index('[[people]]\nname = "Tom Becker"')
    toml.write_text(text_[:start] + text_[text_.index("[[people]]", start + 5):])
    assert weekly(toml, url) == before

    # a rerun of collect with every cursor reset and a new commit of his does not bring him back
    commit_as(toml.parent / "fraud-model", "Tom Becker", "tom.becker@client.com", "data/tom_late.py",
              "Tom Becker fixes the loader", "2026-10-28T10:00:00+01:00")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM cursors"))
    code, out, err = run(collectors_main, "collect", *base, "--quiet")
    assert code == 0, err
    outputs += [out, err]
    assert leaks(engine, TOM, TOM_GITHUB_ID) == []
    after = weekly(toml, url)
    changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    # his new internal data commit (and its surviving line, his operation, the ladder items takeover reads)
    assert {(a["week"], a["kpi"], a["capability"]) for _b, a in changed} == {
        (8, kpi, cap) for kpi in ("internal_commit_share", "internal_line_share", "exit_readiness", "takeover_weeks",
                                "raci_drift")
        for cap in (None, "data")} | {(8, "ladder_stage", "data")}
    assert all(a["internal"] == b["internal"] + 1 and a["vendor"] == b["vendor"] for b, a in changed)

    # the pack and the logs
    pack = tmp_path / "pack"
    code, out, err = run(metrics_main, "pack", *base, "--week", "5", "--out", str(pack), "--no-pdf")
    assert code == 0, err
    files = [p.read_text(encoding="utf-8") for p in pack.iterdir()]
    assert len(files) == 6 and text_leaks(files, TOM) == []  # HTML and 5 CSVs (readiness among them)
    witness = (toml.parent / ".baton-ledger-witness.json").read_text()
    assert text_leaks([*outputs, witness], TOM) == []
    # the computed-metrics cache beside the engagement file (metrics/cache.py): emptied by the purge, refilled
    # since from the purged rows only
    cached = [pd.read_parquet(f).astype(str).to_csv() for f in (toml.parent / ".baton-cache").rglob("*.parquet")]
    assert cached and text_leaks(cached, TOM) == []
    code, out, err = run(metrics_main, "verify", *base)
    assert code == 0, out + err


def test_purge_of_an_identity_not_on_the_roster(tmp_path):
    toml = copy_demo(tmp_path / "demo", db=tmp_path / "baton.db")  # collected
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    before = weekly(toml, url)
    alex = ["Alex Chen", "alex.chen.dev@gmail.com"]
    assert leaks(make_engine(url), alex)
    code, out, err = run(collectors_main, "purge", "--config", str(toml), "--db", url, "--identity",
                         "alex.chen.dev@gmail.com")
    assert code == 0, err
    assert leaks(make_engine(url), alex) == []
    assert weekly(toml, url) == before  # still unattributed (gmail), still counted


def test_purge_and_export_refuse_bad_input_in_one_line(tmp_path):
    toml = copy_demo(tmp_path / "demo", collected=False)
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    code, out, err = run(collectors_main, "purge", "--config", str(toml), "--db", url, "--person", "Nobody Here")
    assert code == 2 and err.startswith("error: --person: 'Nobody Here' is not on the roster (people: Marco Bianchi,")
    assert len(err.strip().splitlines()) == 1
    code, out, err = run(collectors_main, "export-person", "--config", str(toml), "--db", url, "--person",
                         "Tom Becker", "--out", str(tmp_path))
    assert code == 2 and err.strip() == f"error: --out: expected a file name, {tmp_path} is a folder"
    assert ledger.entries(make_engine(url)) == []  # nothing recorded for a refused request


def test_export_person_lists_what_is_stored_and_is_audited(tmp_path):
    toml = copy_demo(tmp_path / "demo", db=tmp_path / "baton.db")  # collected
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    target = tmp_path / "priya.json"
    code, out, err = run(collectors_main, "export-person", "--config", str(toml), "--db", url, "--person",
                         "Priya Nair", "--out", str(target))
    assert code == 0, err
    doc = json.loads(target.read_text())
    engine = make_engine(url)
    with engine.connect() as conn:
        commits = conn.execute(text("SELECT count(*) FROM commits WHERE author_email = 'priya.nair@client.com' "
                                    "OR committer_email = 'priya.nair@client.com'")).scalar_one()
        tickets = conn.execute(text("SELECT count(*) FROM ticket_events WHERE actor_jira_id = :j"),
                               {"j": demo_tickets.JIRA_IDS["Priya Nair"]}).scalar_one()
    assert commits > 0 and len(doc["tables"]["commits"]) == commits
    assert tickets > 0 and len(doc["tables"]["ticket_events"]) >= tickets
    assert doc["roster_entry"]["name"] == "Priya Nair"
    raw = target.read_text()
    with engine.connect() as conn:
        salt = conn.execute(text("SELECT salt FROM privacy_salt")).scalar_one()
    assert salt not in raw and url not in raw and str(tmp_path) not in raw  # no salt, DB URL or machine path
    assert audit_log(engine).loc[0, "kind"] == "export" and "Priya" not in audit_log(engine).loc[0, "what"]


def test_pseudonymize_stores_only_pseudonyms_and_keeps_every_value(tmp_path):
    plain = copy_demo(tmp_path / "plain", db=tmp_path / "plain.db")  # collected
    url_plain = f"sqlite:///{tmp_path / 'plain.db'}"
    hidden = copy_demo(tmp_path / "hidden", collected=False)
    hidden.write_text(hidden.read_text().replace("[engagement]\n", "[engagement]\npseudonymize = true\n", 1))
    url = f"sqlite:///{tmp_path / 'hidden.db'}"
    code, out, err = run(collectors_main, "collect", "--config", str(hidden), "--db", url, "--quiet")
    assert code == 0, err
    roster_ids = ["ines.ortiz@client.com", "iortiz", "tom.becker@client.com", "tbecker", "priya.nair@client.com",
                  "marco.bianchi@acme-consulting.com", "alex.chen.dev@gmail.com", *demo_tickets.JIRA_IDS.values(),
                  "ivan.k", "mbianchi"]  # MLflow users (an OS login; Priya's runs carry her email)
    engine = make_engine(url)
    assert leaks(engine, roster_ids) == []
    with engine.connect() as conn:
        emails = set(conn.execute(text("SELECT DISTINCT author_email FROM commits")).scalars())
    assert "49699333+dependabot[bot]@users.noreply.github.com" in emails  # bots are not people: kept
    assert all(e.startswith("person-") for e in emails if "[bot]" not in e and e != "noreply@github.com")
    assert weekly(hidden, url) == weekly(plain, url_plain)


def test_purge_reaches_mlflow_users_logins_and_emails(tmp_path):
    """MLflow runs name their user by OS login (`ivan.k`) or, as Databricks writes them, by email (Priya's), in
    a column and in the `mlflow.user` tag: a purge rewrites both, and every figure stays."""
    toml = copy_demo(tmp_path / "demo", db=tmp_path / "baton.db")  # collected
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    before = weekly(toml, url)
    engine = make_engine(url)
    mlflow_ids = ["ivan.k", "priya.nair@client.com"]
    assert [x for x in leaks(engine, mlflow_ids) if x.startswith("mlflow_runs")]
    for person in ("Ivan Kowalski", "Priya Nair"):
        code, out, err = run(collectors_main, "purge", "--config", str(toml), "--db", url, "--person", person)
        assert code == 0, err
    assert leaks(engine, [*mlflow_ids, "Ivan Kowalski", "Priya Nair"]) == []
    assert weekly(toml, url) == before


def test_retention_drops_old_texts_and_keeps_every_value(tmp_path):
    toml = copy_demo(tmp_path / "demo", db=tmp_path / "baton.db")  # collected
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    before = weekly(toml, url)
    toml.write_text(toml.read_text() + "\n[retention]\ndays = 30\n")  # the demo's data is older than that
    code, out, err = run(collectors_main, "collect", "--config", str(toml), "--db", url, "--quiet")
    assert code == 0, err
    engine = make_engine(url)
    with engine.connect() as conn:
        subjects = set(conn.execute(text("SELECT DISTINCT subject FROM commits")).scalars())
        bodies = set(conn.execute(text("SELECT DISTINCT body FROM ticket_events WHERE kind = 'comment'")).scalars())
        descriptions = list(conn.execute(text("SELECT description FROM tickets WHERE description IS NOT NULL "
                                              "AND description != ''")).scalars())
    assert subjects == {"[removed]"} and bodies == {"[removed]"}
    assert all(d.startswith("[removed]") for d in descriptions)
    assert weekly(toml, url) == before  # drill postmortem links are kept: drill_outcome is unchanged


def test_the_scrubber_rewrites_rows_at_write_time(tmp_path):
    """What the collectors' identity writes can call (db.privacy.Scrubber): a tombstoned identity becomes the
    pseudonym before it is stored; with pseudonymize = true every identity does, bots excepted."""
    from db.privacy import Scrubber, purge
    from engagement.config import parse_config

    url = f"sqlite:///{tmp_path / 'baton.db'}"
    engine = make_engine(url)
    cfg = parse_config({"engagement": {"name": "x", "start": "2026-09-07"},
                        "people": [{"name": "Dana Ortiz", "emails": ["dana@client.com"], "github": ["dortiz"],
                                    "affiliations": [{"side": "internal"}]}]})
    assert not Scrubber.load(engine, cfg).active
    report = purge(engine, cfg, person="Dana Ortiz")
    scrub = Scrubber.load(engine, cfg)
    row = scrub.row("commits", {"author_name": "Dana Ortiz", "author_email": "DANA@client.com", "subject": "x",
                                "committer_name": "GitHub", "committer_email": "noreply@github.com"})
    assert row == {"author_name": report.pseudonym, "author_email": f"{report.pseudonym}@client.com", "subject": "x",
                   "committer_name": "GitHub", "committer_email": "noreply@github.com"}
    pr = scrub.row("github_pull_requests", {"author_login": "dortiz", "author_id": 4711, "title": "t"})
    assert pr == {"author_login": report.pseudonym, "author_id": None, "title": "t"}
    hidden = cfg.model_copy(update={"engagement": cfg.engagement.model_copy(update={"pseudonymize": True})})
    row = Scrubber.load(engine, hidden).row("commits", {"author_name": "Sam", "author_email": "sam@x.com",
                                                        "committer_name": "dependabot[bot]",
                                                        "committer_email": "49699333+dependabot[bot]@users.noreply."
                                                                           "github.com"})
    assert row["author_name"].startswith("person-") and row["author_email"].endswith("@x.com")
    assert row["committer_name"] == "dependabot[bot]"  # bots are not people
    assert row["committer_email"] == "49699333+dependabot[bot]@users.noreply.github.com"
