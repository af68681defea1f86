"""Migration 0008 on a database that already has signatures, frozen weeks and roles (0004's tables): they are
copied into the hash-chained ledger in time order, keyed on the engagement id, and verify as an intact chain;
the triggers refuse UPDATE and DELETE on both dialects."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db import ledger
from db.engine import make_engine, upgrade
from db.privacy import person_id, salt
from db.review_store import load_signatures, load_snapshot, role_of


def test_0008_copies_old_rows_into_an_intact_chain(db_url):
    engine = make_engine(db_url, migrate=False)
    upgrade(engine, "0007")
    doc = {"milestone": "M1", "title": "t", "due_week": 3, "met_week": 3, "criteria": [
        {"criterion": 1, "asks": "x", "week": 3, "value": 2, "holds": True,
         "rows": [{"item": "abc", "kind": "commit", "person": "Ann Client", "side": "internal",
                   "title": "Fix the loader", "at": "2026-09-22T10:00:00Z", "repo": "model", "link": None}]}]}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO user_roles (email, role, granted_at, granted_by) VALUES "
                          "('ann@client.com', 'editor,signer', :at, 'root (command line)')"),
                     {"at": dt.datetime(2026, 9, 30, 8)})
        for i, (action, signer, side, revokes, at) in enumerate([
                ("sign", "Ann Client", "internal", None, dt.datetime(2026, 10, 1, 9)),
                ("sign", "Vic Vendor", "vendor", None, dt.datetime(2026, 10, 1, 10)),
                ("revoke", "Vic Vendor", "vendor", 2, dt.datetime(2026, 10, 1, 11))], start=1):
            conn.execute(text(
                "INSERT INTO milestone_signatures (id, engagement, milestone, action, revokes_id, signer, email, "
                "verified, side, comment, signed_at, met_week, evidence_sha256, evidence_json) VALUES "
                "(:id, 'Fraud model handoff', 'M1', :action, :revokes, :signer, NULL, :verified, :side, 'ok', :at, 3, "
                "'old', :doc)"), {"id": i, "action": action, "revokes": revokes, "signer": signer, "side": side,
                                  "at": at, "doc": json.dumps(doc), "verified": False})
        conn.execute(text(
            "INSERT INTO week_snapshots (engagement, week, frozen_at, frozen_by, verified, data_version, roster_sha256,"
            " evidence_sha256, figures_json) VALUES ('Fraud model handoff', 3, :at, 'Ann Client', :v, 'run 1', 'r', "
            "'e', :figures)"), {"at": dt.datetime(2026, 10, 2, 9), "v": True, "figures": json.dumps(
                [{"kpi": "internal_commit_share", "capability": None, "runbook": None, "value": 0.8,
                  "items": {"abc": {"side": "internal", "person": "Ann Client"}}}])})
    upgrade(engine)
    assert ledger.verify_chain(engine) == []
    entries = ledger.entries(engine)
    assert [(e.seq, e.kind, e.engagement) for e in entries] == [
        (1, "role", None), (2, "sign", "fraud-model-handoff"), (3, "sign", "fraud-model-handoff"),
        (4, "revoke", "fraud-model-handoff"), (5, "freeze", "fraud-model-handoff")]
    assert entries[3].content["revokes"] == 3  # the old id 2 is row 3 now
    key = salt(engine)
    assert entries[1].content["evidence"]["criteria"][0]["rows"][0]["person"] == person_id(key, "Ann Client")
    assert entries[1].hints["titles"] == {"abc": "Fix the loader"}
    signatures = load_signatures(engine, "fraud-model-handoff")
    assert signatures["signer"].tolist() == ["Ann Client", "Vic Vendor", "Vic Vendor"]
    assert load_snapshot(engine, "fraud-model-handoff", 3)["frozen_by"] == "Ann Client"
    assert role_of(engine, "Ann@Client.com") == "editor,signer"
    with engine.connect() as conn:
        tables = set(conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table'" if conn.dialect.name == "sqlite" else
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")).scalars())
    assert not {"milestone_signatures", "week_snapshots", "user_roles"} & tables
    for statement in ("UPDATE ledger SET kind = 'x' WHERE seq = 1", "DELETE FROM ledger WHERE seq = 5"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
