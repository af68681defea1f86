"""Pages (AppTest, the demo): a role withdrawn while the page is open stops working at the next click; deep links
that name no week or milestone say so; a tampered ledger shows a red banner; roles are granted by editors and
every change is in the audit log on the Sources page."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from db import ledger
from db.review_store import audit_log, load_roles, load_signatures, role_of, set_role
from metrics.service import engagement_metrics
from tests.support.demo_edits import DEMO_ID
from tests.support.review_app import collected_demo, open_page, texts

INES = {"is_logged_in": True, "email": "ines.ortiz@client.com", "name": "Ines Ortiz"}


@pytest.fixture
def env(tmp_path, monkeypatch):
    return collected_demo(tmp_path, monkeypatch)


def test_a_role_withdrawn_while_the_page_is_open_stops_the_next_click(env):
    set_role(env["engine"], "ines.ortiz@client.com", "signer,editor")
    at = open_page("pages/milestones.py", {"milestone": "M1", "week": "8"}, user=INES, auth=True)
    set_role(env["engine"], "ines.ortiz@client.com", "viewer")  # signer withdrawn by an editor meanwhile
    at.text_area(key="sign_M1_comment").input("Data is ours")
    at.button(key="sign_M1_sign").click().run()
    assert "Signing needs the signer role." in [e.value for e in at.error]
    assert load_signatures(env["engine"], DEMO_ID).empty
    set_role(env["engine"], "ines.ortiz@client.com", "signer")
    at = open_page("pages/milestones.py", {"milestone": "M1", "week": "8"}, user=INES, auth=True)
    set_role(env["engine"], "ines.ortiz@client.com", "")  # every role withdrawn: the click acts for nobody
    at.text_area(key="sign_M1_comment").input("Data is ours")
    at.button(key="sign_M1_sign").click().run()
    assert "ines.ortiz@client.com has no role in this Baton yet" in texts(at)
    assert load_signatures(env["engine"], DEMO_ID).empty
    set_role(env["engine"], "ines.ortiz@client.com", "signer,editor")
    at = open_page("pages/review.py", {"week": "3"}, user=INES, auth=True)
    set_role(env["engine"], "ines.ortiz@client.com", "viewer")
    at.button(key="freeze_3").click().run()
    assert "Freezing a week needs the editor role." in [e.value for e in at.error]
    assert [e.kind for e in ledger.entries(env["engine"])].count("freeze") == 0


def test_links_to_a_week_or_milestone_that_does_not_exist_say_so(env):
    at = open_page("pages/review.py", {"week": "42"})
    warnings = [w.value for w in at.warning]  # main's week picker (pages/_shared/weeks.py) says it
    assert any(w.startswith("?week=42 is not a week of this engagement") for w in warnings), warnings
    at = open_page("pages/milestones.py", {"milestone": "M9", "week": "8"})
    assert "The link asks for milestone 'M9', which this page does not have (milestones: M1, M2, M3); showing " \
           "milestone M1 instead." in [w.value for w in at.warning]
    at = open_page("pages/milestones.py", {"milestone": "M2", "week": "8"})
    assert not [w.value for w in at.warning if w.value.startswith("The link asks")]


def test_a_tampered_ledger_shows_a_red_banner_on_every_page(env):
    from metrics.acceptance import Signer, sign
    from metrics.engagement_file import load_engagement

    engine = env["engine"]
    m = engagement_metrics(load_engagement(env["toml"]), engine)
    sign(engine, m, "M1", Signer("Ines Ortiz"), "ok")
    sign(engine, m, "M1", Signer("Marco Bianchi"), "ok")
    at = open_page("pages/overview.py")
    assert not [e for e in at.error if "verification" in e.value]
    with engine.begin() as conn:  # a DB admin drops the trigger and edits a signature
        conn.execute(text("DROP TRIGGER ledger_no_update"))
        conn.execute(text("UPDATE ledger SET content = replace(content, '\"vendor\"', '\"internal\"') WHERE seq = 2"))
    for page in ("pages/overview.py", "pages/milestones.py"):
        at = open_page(page)
        banner = [e.value for e in at.error if "The audit log failed verification" in e.value]
        assert banner and "ledger row 2 (sign, " in banner[0] and "content altered" in banner[0], page


def test_an_edited_evidence_row_shows_the_acceptance_banner(env):
    from metrics.acceptance import Signer, sign
    from metrics.engagement_file import load_engagement

    engine = env["engine"]
    m = engagement_metrics(load_engagement(env["toml"]), engine)
    sign(engine, m, "M1", Signer("Ines Ortiz"), "ok")
    doc = load_signatures(engine, DEMO_ID).loc[0, "evidence_json"]
    import json

    sha = json.loads(doc)["criteria"][0]["rows"][0]["id"]
    from sqlalchemy import select, update

    from db.models import Commit

    with engine.begin() as conn:  # the evidence commit's time is moved by an hour after signing
        at = conn.execute(select(Commit.authored_at).where(Commit.sha == sha)).scalar_one()
        conn.execute(update(Commit).where(Commit.sha == sha).values(authored_at=at + dt.timedelta(hours=1)))
    at = open_page("pages/milestones.py", {"milestone": "M1", "week": "8"})
    banner = [e.value for e in at.error if "Acceptance failed verification" in e.value]
    assert banner and f"evidence row commit {sha[:12]}" in banner[0] and "changed after signing" in banner[0]


def test_editors_grant_roles_on_the_sources_page_and_the_audit_log_shows_it(env):
    engine = env["engine"]
    set_role(engine, "ines.ortiz@client.com", "editor")
    at = open_page("pages/sources.py", user=INES, auth=True)
    at.text_input(key="grant_email").input("Priya.Nair@client.com")
    at.multiselect(key="grant_roles").select("signer")
    at.button(key="grant_submit").click().run()
    assert "Granted signer to priya.nair@client.com." in [s.value for s in at.success]
    assert role_of(engine, "priya.nair@client.com") == "signer"
    roles = load_roles(engine).set_index("email")
    assert roles.loc["priya.nair@client.com", "granted_by"] == "Ines Ortiz <ines.ortiz@client.com>"
    assert bool(roles.loc["priya.nair@client.com", "verified"])
    audit = audit_log(engine)
    assert audit["what"].tolist()[:3] == [
        "Ines Ortiz <ines.ortiz@client.com> set the roles of priya.nair@client.com: signer",
        "login became required: only signatures by logged-in users count from now on",
        "unknown (unverified) set the roles of ines.ortiz@client.com: editor"]
    shown = next(d.value for d in at.dataframe if "what" in d.value.columns)
    assert shown["kind"].tolist()[:2] == ["role", "login"]
    # a viewer sees the roles and the log, not the form
    at = open_page("pages/sources.py", user={"is_logged_in": True, "email": "priya.nair@client.com",
                                             "name": "Priya Nair"}, auth=True)
    assert "Granting roles needs the editor role." in texts(at)
    assert "grant_submit" not in [b.key for b in at.button]
