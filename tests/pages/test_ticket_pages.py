"""The Runbooks and Drills pages, headless with AppTest, on hand-made ticket rows (see test_ticket_kpis)."""

from __future__ import annotations

import pytest

from db.engine import make_engine
from tests.support.ticket_books import drill_book, runbook_book

TOML = """[engagement]
name = "Tickets only"
start = 2026-09-07
timezone = "Europe/Berlin"
[[people]]
name = "Ines"
jira = ["acc-ines"]
affiliations = [{ side = "internal" }]
[[people]]
name = "Marco"
jira = ["acc-marco"]
affiliations = [{ side = "vendor" }]
[[people]]
name = "Tom"
jira = ["acc-tom"]
affiliations = [{ side = "vendor", until = 2026-10-07 }, { side = "internal", from = 2026-10-07 }]
"""


@pytest.fixture
def tickets_db(tmp_path):
    toml = tmp_path / "engagement.toml"
    toml.write_text(TOML)
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    engine = make_engine(url)
    book = runbook_book()
    drills = drill_book()
    book.tickets += drills.tickets
    book.events += [{**e, "event_id": "d" + e["event_id"]} for e in drills.events]
    book.store(engine)
    return toml, url


def _table(at, column):
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def test_runbooks_page_lists_executions_checklists_and_interventions(app, tickets_db):  # noqa: F811
    toml, url = tickets_db
    at = app(toml, url, "pages/runbooks.py")
    metrics = {m.label: m.value for m in at.metric}
    # 5 completed, 4 by internal or vendor executors... all 5 attributed; 1 unprompted internal -> 20%.
    assert metrics == {"Executions": "6", "Completed": "5", "Unprompted internal": "20%"}
    table = _table(at, "unprompted internal")
    assert list(table["ticket"]) == [f"https://jira.example/browse/OPS-{n}" for n in (1, 2, 3, 4, 5, 7)]
    assert list(table["checklist"]) == ["3/3", "3/4", "2/2", "–", "–", "1/2"]
    at.selectbox(key="execution").set_value("OPS-2").run()
    assert not at.exception
    interventions = _table(at, "detail")
    assert list(zip(interventions["kind"], interventions["person"], strict=True)) == [("checklist", "Marco")]
    assert list(_table(at, "checked_by_name")["checked"]) == [True, True, True, False]
    at.selectbox(key="runbook").set_value("deploy").run()
    assert {m.label: m.value for m in at.metric}["Unprompted internal"] == "50%"


def test_drills_page_shows_outcomes(app, tickets_db):  # noqa: F811
    toml, url = tickets_db
    at = app(toml, url, "pages/drills.py")
    assert {m.label: m.value for m in at.metric} == {"Drills": "6", "Open": "1", "Passed": "2",
                                                     "Internal passes": "1"}
    table = _table(at, "outcome").set_index("title")
    assert table.loc["title INC-4", ["outcome", "reopened", "internal pass"]].tolist() == ["pass", True, True]
    assert table.loc["title INC-6", "outcome"] == "open"
    assert table.loc["title INC-3", "postmortem"] == "https://wiki.example/Postmortems/d2"


def test_ticket_pages_without_tickets_say_how_to_collect(app, tmp_path):  # noqa: F811
    toml = tmp_path / "engagement.toml"
    toml.write_text(TOML)
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    for page, text in (("pages/runbooks.py", "No runbook executions"), ("pages/drills.py", "No drills")):
        at = app(toml, url, page)
        assert any(text in i.value for i in at.info)


def test_runbooks_page_after_a_server_restart_reads_the_disk_cache(app, tickets_db):  # noqa: F811
    """A fresh server reuses the computed metrics stored on disk (metrics/cache.py): the interventions (a list per
    execution) must come back as lists; they came back as numpy arrays and the page failed from the second visit."""
    import streamlit as st

    toml, url = tickets_db
    first = app(toml, url, "pages/runbooks.py")
    assert (toml.parent / ".baton-cache" / "metrics").is_dir()  # the first visit stored its computation
    st.cache_data.clear()  # what a restarted server has: nothing in memory
    st.cache_resource.clear()
    at = app(toml, url, "pages/runbooks.py")
    assert {m.label: m.value for m in at.metric} == {m.label: m.value for m in first.metric}
    at.selectbox(key="execution").set_value("OPS-2").run()
    assert not at.exception, [e.value for e in at.exception]
    interventions = _table(at, "detail")
    assert list(zip(interventions["kind"], interventions["person"], strict=True)) == [("checklist", "Marco")]
