"""Weekly review and milestones pages (AppTest) on the demo: deep links, KPI cards, freeze, sign-off, roles.

Without [auth] in secrets the app is in local single-user mode (stated on every page, typed names unverified).
With [auth] (AppTest secrets) and `at.user`, roles come from the user_roles table; a viewer can neither sign nor
freeze, whatever the URL says.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from collectors.demo import build as demo
from db.review_store import load_signatures, set_role
from metrics.acceptance import Signer, sign
from metrics.engagement_file import load_engagement
from metrics.review import kpi_cards, ladder_week, stage_name
from metrics.service import engagement_metrics
from metrics.snapshots import snapshot
from pages._shared.access import LOCAL_MODE_TEXT
from tests.support.demo_edits import DEMO_ID, edit_roster
from tests.support.review_app import buttons, collected_demo, open_page, texts

PAGES = ["pages/overview.py", "pages/ladder.py", "pages/people.py", "pages/sources.py", "pages/review.py",
         "pages/milestones.py"]


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A fresh DB with the demo collected, and the engagement file (a copy, editable by the test)."""
    return collected_demo(tmp_path, monkeypatch)


@pytest.mark.parametrize("page", PAGES)
def test_local_single_user_mode_is_stated_on_every_page(env, page):
    at = open_page(page)
    assert LOCAL_MODE_TEXT in [i.value for i in at.sidebar.info]


def test_review_deep_link_shows_the_weeks_cards_ladder_and_milestones(env):
    at = open_page("pages/review.py", {"week": "5"})
    assert at.selectbox(key="week").value == 5
    m = engagement_metrics(load_engagement(env["toml"]), env["engine"])
    cards = kpi_cards(m, 5).set_index("kpi")
    card = next(x for x in at.metric if x.label == "Internal commit share")
    counts = demo.INTENDED_WEEKLY_COMMITS
    share5 = counts[5]["internal"] / (counts[5]["internal"] + counts[5]["vendor"])
    share4 = counts[4]["internal"] / (counts[4]["internal"] + counts[4]["vendor"])
    assert card.value == cards.loc["internal_commit_share", "shown"] == f"{share5:.0%}"
    assert card.delta == f"{(share5 - share4) * 100:+.1f} pp"
    assert "Target ≥ 50%: **:green[met]**" in texts(at)
    ladder = next(d.value for d in at.dataframe if "behind plan" in d.value.columns)
    assert ladder["measured"].tolist() == [stage_name(demo.INTENDED_STAGES[c][5]) for c in demo.CAPABILITIES]
    assert ladder["measured"].tolist()[0] == "4 Independent"  # stage names, not bare numbers
    assert ladder.equals(ladder_week(m, 5))
    board = next(d.value for d in at.dataframe if "accepted" in d.value.columns)
    assert dict(zip(board["milestone"], board["state"], strict=True)) == {
        ms: s[4] for ms, s in demo.INTENDED_MILESTONE_STATES.items()}
    metrics = {x.label: x.value for x in at.metric}
    assert (metrics["Due now"], metrics["At risk"], metrics["Met"]) == ("2", "1", "2")  # M2 and M3 due in week 5
    freshness = next(d.value for d in at.dataframe if "last_success" in d.value.columns)
    assert sorted(freshness["source"]) == ["client/fraud-model", "fraud-model", "fraud-model Jira", "mlflow"]
    assert set(freshness["last_status"]) == {"success"}
    assert "Week 5 is not frozen" in texts(at)


def test_freeze_from_the_page_then_restated_after_a_roster_edit(env):
    at = open_page("pages/review.py", {"week": "3"})
    at.text_input(key="freeze_by").input("Ines Ortiz")
    at.button(key="freeze_3").click().run()
    assert not at.exception
    frozen = snapshot(env["engine"], DEMO_ID, 3)
    assert frozen["frozen_by"] == "Ines Ortiz" and not frozen["verified"]
    assert "Week 3 frozen on" in texts(at) and "by Ines Ortiz (unverified); no figure restated since." in texts(at)
    assert "Freeze week 3" not in buttons(at)

    edit_roster(env["toml"])  # Priya Nair was with the vendor until Oct 1: her two week-3 commits change side
    at = open_page("pages/review.py", {"week": "3"})
    restated = next(d.value for d in at.dataframe if "why" in d.value.columns)
    overall = restated[(restated["kpi"] == "internal_commit_share") & restated["capability"].isna()].iloc[0]
    week3 = demo.INTENDED_WEEKLY_COMMITS[3]
    assert overall["old"] == pytest.approx(week3["internal"] / (week3["internal"] + week3["vendor"]))
    assert overall["new"] == pytest.approx((week3["internal"] - 2) / (week3["internal"] + week3["vendor"]))
    assert overall["why"] == "roster change (2 items re-attributed)"
    assert "figure(s) restated since" in texts(at)
    # The frozen week's card keeps the frozen value; the recomputed one stands beside it, marked restated.
    card = next(x for x in at.metric if x.label == "Internal commit share")
    assert card.value == f"{week3['internal'] / (week3['internal'] + week3['vendor']):.0%}"  # frozen
    recomputed = f"{(week3['internal'] - 2) / (week3['internal'] + week3['vendor']):.0%}"
    assert f"**restated**: recomputed now {recomputed}" in texts(at)


def test_two_typed_signatures_accept_m1_then_a_roster_edit_flags_it(env):
    at = open_page("pages/milestones.py", {"milestone": "M1", "week": "8"})
    criteria = next(d.value for d in at.dataframe if "asks" in d.value.columns)
    assert criteria["holds"].tolist() == [True, True]
    evidence = [d.value for d in at.dataframe if "url" in d.value.columns and "counted" in d.value.columns]
    assert len(evidence[0]) == demo.INTENDED_COUNTS["data"][3][0]  # the internal data commits of week 3
    for name, comment in (("Ines Ortiz", "Data is ours"), ("Marco Bianchi", "Agreed")):
        at.text_input(key="sign_M1_name").input(name)
        at.text_area(key="sign_M1_comment").input(comment)
        at.button(key="sign_M1_sign").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
    signatures = next(d.value for d in at.dataframe if "signature" in d.value.columns)["signature"].tolist()
    assert signatures[0].startswith("Ines Ortiz (internal, unverified, ") and signatures[0].endswith(": Data is ours")
    assert signatures[1].startswith("Marco Bianchi (vendor, unverified, ")
    assert "Accepted: signed by an internal approver and a second approver." in texts(at)

    edit_roster(env["toml"])
    at = open_page("pages/milestones.py", {"milestone": "M1", "week": "8"})
    assert "Evidence changed since signing:" in texts(at)
    changes = next(d.value for d in at.dataframe if "what changed" in d.value.columns)["what changed"].tolist()
    assert any("Handle missing merchant ids in loader" in c for c in changes)


def test_logged_in_signer_signs_verified(env):
    set_role(env["engine"], "Ines.Ortiz@client.com", "signer")
    user = {"is_logged_in": True, "email": "ines.ortiz@client.com", "name": "Ines Ortiz"}
    at = open_page("pages/milestones.py", {"milestone": "M2"}, user=user, auth=True)
    assert LOCAL_MODE_TEXT not in [i.value for i in at.sidebar.info]
    assert any("Signed in as Ines Ortiz <ines.ortiz@client.com> · roles: viewer, signer" in c.value
               for c in at.sidebar.caption)
    assert "Signing as Ines Ortiz <ines.ortiz@client.com> (verified by login)." in texts(at)
    at.text_area(key="sign_M2_comment").input("Training is ours")
    at.button(key="sign_M2_sign").click().run()
    rows = load_signatures(env["engine"], DEMO_ID)
    assert rows[["milestone", "signer", "email", "verified", "side"]].values.tolist() == [
        ["M2", "Ines Ortiz", "ines.ortiz@client.com", True, "internal"]]
    assert "Freeze week" not in " ".join(buttons(open_page("pages/review.py", user=user, auth=True)))


def test_viewer_cannot_sign_or_freeze_even_by_deep_link(env):
    set_role(env["engine"], "vera@client.com", "viewer")
    m = engagement_metrics(load_engagement(env["toml"]), env["engine"])
    user = {"is_logged_in": True, "email": "vera@client.com", "name": "Vera"}
    at = open_page("pages/milestones.py", {"milestone": "M1", "week": "8"}, user=user, auth=True)
    assert at.selectbox(key="milestone").value == "M1"
    assert not [b for b in buttons(at) if "Sign" in b or "Revoke" in b]
    assert not at.text_area and "Signing needs the signer role." in texts(at)
    at = open_page("pages/review.py", {"week": "5"}, user=user, auth=True)
    assert at.metric and not [b for b in buttons(at) if b.startswith("Freeze")]
    assert "Freezing a week needs the editor role." in texts(at)
    assert snapshot(env["engine"], DEMO_ID, 5) is None
    # the data is there; only the viewer's UI is not (and, login being required now, a logged-in signer's)
    sign(env["engine"], m, "M1", Signer("Ines Ortiz", "ines.ortiz@client.com", verified=True), "x")
    assert len(load_signatures(env["engine"], DEMO_ID)) == 1


def test_with_login_configured_nobody_reads_without_logging_in_or_a_role(env):
    at = open_page("pages/review.py", {"week": "5"}, user={"is_logged_in": False}, auth=True)
    assert "Log in" in buttons(at) and not at.metric and not at.dataframe
    at = open_page("pages/milestones.py", user={"is_logged_in": True, "email": "x@else.com", "name": "X"}, auth=True)
    assert "x@else.com has no role in this Baton yet" in texts(at) and not at.dataframe


def test_pack_button_builds_the_pack(env):
    at = open_page("pages/review.py", {"week": "5"})
    at.button(key="build_pack").click().run()
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    downloads = at.get("download_button")
    assert len(downloads) == 1 and downloads[0].label == "Download steering pack (zip)"
    week, data, note = at.session_state["_steering_pack"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = sorted(zf.namelist())
        page = zf.read("steering-pack-week-5.html").decode("utf-8")
    assert (week, note) == (5, None)
    assert names == ["about-week-5.csv", "evidence-week-5.csv", "kpi-rows-week-5.csv", "milestones-week-5.csv",
                     "readiness-week-5.csv", "steering-pack-week-5.html", "steering-pack-week-5.pdf"]
    card = next(x for x in at.metric if x.label == "Internal commit share")
    assert f'<div class="value">{card.value}</div>' in page  # the pack shows the page's figure


def test_roles_parse_and_any_role_reads():
    from pages._shared.access import parse_roles

    assert parse_roles("editor, Signer") == {"viewer", "editor", "signer"}
    assert parse_roles("viewer") == {"viewer"}
    assert parse_roles("admin") == frozenset() and parse_roles(None) == frozenset()
