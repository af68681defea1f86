"""Two-key acceptance and frozen weeks: digests, append-only signatures, evidence changes, restatements.

The tiny engagement of tests/engagement_factory.py plus Pat (pat@gmail.com, only known through the roster) who
adds one data commit in week 3. Hand counts for week 3: all commits internal 4 (Ann 3, Pat 1), vendor 1 (Vic) ->
share 0.8; data: internal 3, vendor 0 -> share 1.0, stage 4; training: internal 1, vendor 1 -> 0.5, stage 2.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from db import privacy
from db.engine import make_engine
from db.privacy import person_id, salt
from db.review_store import load_signatures, load_snapshot
from metrics.acceptance import (
    AcceptanceError,
    Signer,
    acceptance_table,
    accepted_milestones,
    canonical_json,
    digest,
    revoke,
    sign,
    signed_document,
)
from metrics.milestones import evidence_document, milestone
from metrics.snapshots import FreezeError, freeze, restatements, snapshot
from tests.support.acceptance_case import M1, M2, NOW, WITH_PAT, roster
from tests.support.engagement_factory import VIC, metrics, sha_of, source_data


def demo_metrics(pat_side="internal", commits=WITH_PAT, accepted=()):
    return metrics([M1, M2], accepted=accepted, data=source_data(commits), people=roster(pat_side))


ANN = Signer("Ann Client", "ann@client.com", verified=True)
VICTOR = Signer("Vic Vendor")  # typed in: unverified, side from the roster


# ---- digest -----------------------------------------------------------------------------------------

def test_canonical_json_is_one_text_per_document():
    assert canonical_json({"b": 2.0, "a": [1.5, float("nan")], "c": "ü"}) == '{"a":[1.5,null],"b":2,"c":"ü"}'
    assert digest({"x": 1, "y": 2}) == digest({"y": 2.0, "x": 1})


def test_digest_changes_exactly_when_the_evidence_changes():
    def m1_digest(m):
        return digest(evidence_document(m, milestone(m, "M1")).document)

    base = m1_digest(demo_metrics())
    assert m1_digest(demo_metrics()) == base  # recomputed: same
    data = source_data(WITH_PAT)
    shuffled = type(data)(data.commits.iloc[::-1].reset_index(drop=True), data.commit_files.iloc[::-1])
    assert m1_digest(metrics([M1, M2], data=shuffled, people=roster())) == base  # rows read in another order
    # a commit in another week, or of another capability, is not evidence of M1 (week 3, data, internal)
    assert m1_digest(demo_metrics(commits=[*WITH_PAT, (4, VIC, "train/late.py")])) == base
    assert m1_digest(demo_metrics(commits=[*WITH_PAT, (3, VIC, "train/x.py")])) == base
    # a further internal data commit in week 3 is evidence; so is a roster edit that re-attributes one
    assert m1_digest(demo_metrics(commits=[*WITH_PAT, (3, ("Ann Client", "ann@client.com"), "data/q.py")])) != base
    assert m1_digest(demo_metrics(pat_side="vendor")) != base


# ---- signatures ---------------------------------------------------------------------------------------

def test_two_keys_accept_and_revocation_appends(db_url):
    engine = make_engine(db_url)
    m = demo_metrics()
    first = sign(engine, m, "M1", ANN, "Data pipeline runs without Acme", now=NOW)
    assert accepted_milestones(engine, m.cfg) == set()  # one key only
    with pytest.raises(AcceptanceError, match="has signed milestone M1 already"):
        sign(engine, m, "M1", ANN, "again", now=NOW)
    sign(engine, m, "M1", VICTOR, "Agreed", now=NOW)
    assert accepted_milestones(engine, m.cfg) == {"M1"}

    rows = load_signatures(engine, m.cfg.engagement.id)
    assert rows[["signer", "side", "verified", "met_week"]].values.tolist() == [
        ["Ann Client", "internal", True, 3], ["Vic Vendor", "vendor", False, 3]]
    doc, titles = signed_document(evidence_document(m, milestone(m, "M1")).document, salt(engine))
    assert rows["evidence_sha256"].tolist() == [digest(doc)] * 2
    assert json.loads(rows.loc[0, "evidence_json"]) == doc
    # what is signed names persons by id and carries no free text; the titles are display hints only
    persons = {r["person"] for c in doc["criteria"] for r in c["rows"]}
    assert persons == {person_id(salt(engine), "Ann Client"), person_id(salt(engine), "Pat Person")}
    assert all("title" not in r for c in doc["criteria"] for r in c["rows"])
    # (titles are keyed as metrics.acceptance.row_key keys evidence rows: "kind:id")
    assert titles["commit:" + sha_of("data/p.py", WITH_PAT)] == "change data/p.py"
    assert rows.loc[0, "signed_at"] == NOW

    revoke(engine, m, "M1", VICTOR, "Signed too early", now=NOW + dt.timedelta(hours=1))
    assert accepted_milestones(engine, m.cfg) == set()
    after = load_signatures(engine, m.cfg.engagement.id)
    assert len(after) == 3  # nothing deleted or changed: the revocation is a new row
    kept = ["id", "milestone", "action", "signer", "email", "verified", "side", "comment", "evidence_sha256"]
    assert after.loc[:1, kept].values.tolist() == rows[kept].values.tolist()
    assert after.loc[:1, "signed_at"].tolist() == rows["signed_at"].tolist()
    assert after.loc[2, ["action", "revokes_id"]].tolist() == ["revoke", int(rows.loc[1, "id"])]
    assert first == int(rows.loc[0, "id"])


def test_second_key_can_be_another_internal_person_but_not_a_second_vendor(db_url):
    engine = make_engine(db_url)
    m = demo_metrics()
    sign(engine, m, "M1", VICTOR, "ok", now=NOW)
    sign(engine, m, "M1", Signer("Someone", side="vendor"), "ok", now=NOW)
    assert accepted_milestones(engine, m.cfg) == set()  # no internal approver
    sign(engine, m, "M1", Signer("Ida Internal"), "ok", now=NOW)
    assert accepted_milestones(engine, m.cfg) == {"M1"}


def test_what_cannot_be_signed(db_url):
    engine = make_engine(db_url)
    m = demo_metrics()
    with pytest.raises(AcceptanceError, match="milestone M2 is not met"):
        sign(engine, m, "M2", ANN, "ok", now=NOW)
    with pytest.raises(AcceptanceError, match="not on the roster .* state the side"):
        sign(engine, m, "M1", Signer("Stranger"), "ok", now=NOW)
    with pytest.raises(AcceptanceError, match="internal on 2026-10-02 according to the roster, not vendor"):
        sign(engine, m, "M1", Signer("Ann Client", side="vendor"), "ok", now=NOW)
    with pytest.raises(AcceptanceError, match="needs a comment"):
        sign(engine, m, "M1", ANN, "  ", now=NOW)
    with pytest.raises(KeyError, match="unknown milestone 'M7'"):
        sign(engine, m, "M7", ANN, "ok", now=NOW)
    assert load_signatures(engine, m.cfg.engagement.id).empty


def test_roster_edit_after_signing_flags_evidence_changed_and_says_what(db_url):
    engine = make_engine(db_url)
    m = demo_metrics()
    sign(engine, m, "M1", ANN, "ok", now=NOW)
    sign(engine, m, "M1", VICTOR, "ok", now=NOW)
    unchanged = acceptance_table(engine, m).set_index("milestone")
    assert unchanged.loc["M1", "accepted"] and not unchanged.loc["M1", "evidence_changed"]

    edited = demo_metrics(pat_side="vendor")  # the roster now says Pat worked for the vendor
    table = acceptance_table(engine, edited).set_index("milestone")
    assert table.loc["M1", "accepted"] and table.loc["M1", "evidence_changed"]
    pat = sha_of("data/p.py", WITH_PAT)[:10]
    assert table.loc["M1", "changes"] == [
        "since Ann Client's signature: criterion 1 (internal_commits (capability=data) >= 2): value 3 → 2",
        f"since Ann Client's signature: criterion 1 (internal_commits (capability=data) >= 2): commit {pat} "
        "(change data/p.py) no longer counts",
        "since Vic Vendor's signature: criterion 1 (internal_commits (capability=data) >= 2): value 3 → 2",
        f"since Vic Vendor's signature: criterion 1 (internal_commits (capability=data) >= 2): commit {pat} "
        "(change data/p.py) no longer counts",
    ]


# ---- frozen weeks ------------------------------------------------------------------------------------

def test_freeze_stores_every_kpi_row_once_and_never_overwrites(db_url):
    engine = make_engine(db_url)
    m = demo_metrics()
    row = freeze(engine, m, 3, "Ann Client", now=NOW)
    frozen = snapshot(engine, m.cfg.engagement.id, 3)
    figures = {(f["kpi"], f["capability"]): f for f in frozen["figures"]}
    # internal_commit_share and internal_pr_share (git fallback: no GitHub source) x (all, data, training)
    # + ladder_stage x (data, training) + takeover_weeks (SPEC §11, from the ladder) and exit_readiness (SPEC §10,
    # commits are an operation) x (all, data, training)
    assert set(figures) == {("exit_readiness", None), ("exit_readiness", "data"), ("exit_readiness", "training"),
                            ("internal_commit_share", None), ("internal_commit_share", "data"),
                            ("internal_commit_share", "training"), ("internal_pr_share", None),
                            ("internal_pr_share", "data"), ("internal_pr_share", "training"),
                            ("ladder_stage", "data"), ("ladder_stage", "training"), ("takeover_weeks", None),
                            ("takeover_weeks", "data"), ("takeover_weeks", "training")}
    assert figures[("internal_commit_share", None)]["value"] == 0.8
    assert (figures[("internal_commit_share", None)]["internal"], figures[("internal_commit_share", None)]["vendor"]) \
        == (4, 1)
    assert figures[("ladder_stage", "data")]["value"] == 4 and figures[("ladder_stage", "training")]["value"] == 2
    assert len(figures[("internal_commit_share", None)]["items"]) == 5
    assert restatements(frozen, m).empty  # same data: nothing restated

    with pytest.raises(FreezeError, match="week 3 was frozen on 2026-10-02 09:00 UTC by Ann Client"):
        freeze(engine, demo_metrics(pat_side="vendor"), 3, "Vic Vendor", now=NOW)
    assert load_snapshot(engine, m.cfg.engagement.id, 3)["figures_json"] == row["figures_json"]
    with pytest.raises(FreezeError, match="week 9 is not an engagement week"):
        freeze(engine, m, 9, "Ann Client")


def test_restated_after_new_data_and_after_a_roster_edit(db_url):
    engine = make_engine(db_url)
    freeze(engine, demo_metrics(), 3, "Ann Client", now=NOW)
    frozen = snapshot(engine, "tiny", 3)

    more = restatements(frozen, demo_metrics(commits=[*WITH_PAT, (3, VIC, "train/x.py")]))
    got = {(r.kpi, r.capability): (r.old, round(r.new, 4), r.why) for r in more.itertuples()}
    new_data = "new data collected (1 new item)"
    assert got == {("internal_commit_share", None): (0.8, round(4 / 6, 4), new_data),
                   ("internal_commit_share", "training"): (0.5, round(1 / 3, 4), new_data),
                   ("ladder_stage", "training"): (2, 1, new_data)}

    edited = restatements(frozen, demo_metrics(pat_side="vendor"), privacy.salt(engine))  # as the review does
    got = {(r.kpi, r.capability): (r.old, None if r.new is None else round(r.new, 4), r.why)
           for r in edited.itertuples()}
    roster = "roster change (1 item re-attributed)"
    # data drops from stage 4 to 2 in week 3, so it is no longer taken over (takeover_weeks: week 3 - week 1 = 2)
    assert got == {("internal_commit_share", None): (0.8, 0.6, roster),
                   ("internal_commit_share", "data"): (1, round(2 / 3, 4), roster),
                   ("ladder_stage", "data"): (4, 2, roster), ("takeover_weeks", "data"): (2, None, roster),
                   # Pat was one of the two internal people committing to data (min_people 2): data's commit
                   # operation is no longer covered (exit_readiness, SPEC §10)
                   ("exit_readiness", "data"): (1, 0.0, roster), ("exit_readiness", None): (0.5, 0.0, roster)}
    assert snapshot(engine, "tiny", 3)["figures"] == frozen["figures"]  # the frozen figures stay as they were
