"""runbook_completion and drill_outcome (SPEC §5) against hand-computed tables, through the DB and queries."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from db.engine import make_engine
from db.queries import load_source_frames
from metrics.engagement import SourceData, compute
from metrics.engagement_file import parse_engagement
from tests.support.ticket_books import drill_book, runbook_book
from tests.support.ticket_rows import TicketBook

CFG = parse_engagement({
    "engagement": {"name": "X", "start": dt.date(2026, 9, 7), "timezone": "Europe/Berlin"},
    "people": [
        {"name": "Ines", "jira": ["acc-ines"], "affiliations": [{"side": "internal"}]},
        {"name": "Marco", "jira": ["acc-marco"], "affiliations": [{"side": "vendor"}]},
        {"name": "Tom", "jira": ["acc-tom"], "affiliations": [{"side": "vendor", "until": dt.date(2026, 10, 7)},
                                                               {"side": "internal", "from": dt.date(2026, 10, 7)}]},
    ],
    "drills": {"sla_minutes": {"sev1": 60, "sev2": 240, "sev3": 1440}, "postmortem_days": 5},
})
NOW = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)


def _metrics(db_url, book: TicketBook):
    engine = make_engine(db_url)
    book.store(engine)
    return compute(CFG, SourceData(**load_source_frames(engine)), today=NOW)


def _rows(weekly: pd.DataFrame, kpi: str, cols: list[str]) -> list[tuple]:
    rows = weekly[(weekly["kpi"] == kpi) & weekly["capability"].isna()].sort_values("week")
    out = []
    for r in rows[cols].itertuples(index=False):
        out.append(tuple(None if isinstance(v, float) and math.isnan(v) else
                         (round(v, 4) if isinstance(v, float) else int(v)) for v in r))
    return out


def test_runbook_executions_hand_computed(db_url):
    m = _metrics(db_url, runbook_book())
    ex = m.runbook_executions.set_index("key")
    assert list(ex.index) == ["OPS-1", "OPS-2", "OPS-3", "OPS-4", "OPS-5", "OPS-7"]
    table = [(k, r.runbook, r.executor_person, r.executor_side, int(r.items_checked), int(r.items_total),
              int(r.vendor_interventions), bool(r.unprompted_internal)) for k, r in ex.iterrows()]
    assert table == [
        ("OPS-1", "training", "Ines", "internal", 3, 3, 1, False),
        ("OPS-2", "training", "Ines", "internal", 3, 4, 1, False),
        ("OPS-3", "deploy", "Ines", "internal", 2, 2, 0, True),
        ("OPS-4", "deploy", "Marco", "vendor", 0, 0, 1, False),
        ("OPS-5", "training", None, None, 0, 0, 1, False),
        ("OPS-7", "data", "Ines", "internal", 1, 2, 1, False),
    ]
    assert [(i["kind"], i["person"], i["detail"]) for i in ex.loc["OPS-2", "interventions"]] == [
        ("checklist", "Marco", "step 1")]
    assert [(i["kind"], i["ticket"]) for i in ex.loc["OPS-7", "interventions"]] == [("status", "OPS-8")]
    assert ex.loc["OPS-3", "completed_at"] == pd.Timestamp("2026-09-23 12:00", tz="UTC")  # first done, not reopen


def test_runbook_completion_weekly_hand_computed(db_url):
    m = _metrics(db_url, runbook_book())
    cols = ["week", "started", "completed", "internal", "vendor", "unattributed", "bots", "unprompted_internal",
            "items_checked", "items_total", "value"]
    assert _rows(m.weekly, "runbook_completion", cols) == [
        (1, 1, 1, 1, 0, 0, 0, 0, 3, 3, 0.0),
        (2, 2, 1, 1, 0, 0, 0, 0, 3, 4, 0.0),
        (3, 1, 2, 1, 1, 0, 0, 1, 2, 2, 0.5),
        (4, 2, 1, 1, 0, 0, 0, 0, 1, 2, 0.0),
    ]
    week3 = m.weekly[(m.weekly["kpi"] == "runbook_completion") & (m.weekly["week"] == 3)].iloc[0]
    assert week3["week_start"] == dt.date(2026, 9, 21) and week3["capability"] is None


def test_drills_hand_computed_including_a_reopened_drill(db_url):
    m = _metrics(db_url, drill_book())
    d = m.drills.set_index("key")
    assert list(d.index) == ["INC-1", "INC-3", "INC-8", "INC-7", "INC-4", "INC-6"]
    table = [(k, r.severity, None if pd.isna(r.minutes_to_restore) else round(r.minutes_to_restore),
              bool(r.within_sla), r.responder_person, r.responder_side, r.postmortem, bool(r.passed),
              bool(r.internal_pass), bool(r.reopened)) for k, r in d.iterrows()]
    assert table == [
        ("INC-1", "sev1", 50, True, "Marco", "vendor", "INC-2", True, False, False),
        ("INC-3", "sev2", 300, False, "Ines", "internal", "https://wiki.example/Postmortems/d2", False, False, False),
        ("INC-8", "sev1", 40, True, "Ines", "internal", None, False, False, False),
        ("INC-7", None, 30, False, "Ines", "internal", "https://wiki.example/postmortem/d5", False, False, False),
        ("INC-4", "sev3", 660, True, "Tom", "internal", "INC-5", True, True, True),
        ("INC-6", "sev1", None, False, "Ines", "internal", None, False, False, False),
    ]
    assert d.loc["INC-4", "reopened_at"] == pd.Timestamp("2026-10-15 08:00", tz="UTC")


def test_drill_outcome_weekly_hand_computed(db_url):
    m = _metrics(db_url, drill_book())
    cols = ["week", "drills", "internal", "vendor", "unattributed", "bots", "passes", "internal_passes", "value"]
    # INC-6 was never restored: no row for it (week 6 has INC-4 and INC-7 only).
    assert _rows(m.weekly, "drill_outcome", cols) == [
        (1, 1, 0, 1, 0, 0, 1, 0, 0.0),
        (3, 1, 1, 0, 0, 0, 0, 0, 0.0),
        (5, 1, 1, 0, 0, 0, 0, 0, 0.0),
        (6, 2, 2, 0, 0, 0, 1, 1, 0.5),
    ]


def test_no_tickets_means_no_ticket_rows(db_url):
    m = _metrics(db_url, TicketBook())
    assert not set(m.weekly["kpi"]) & {"runbook_completion", "drill_outcome"}
    assert m.runbook_executions.empty and m.drills.empty


@pytest.mark.parametrize("label", ["SEV1", "sev1"])
def test_severity_labels_match_case_insensitively(db_url, label):
    b = TicketBook()
    b.ticket("INC-1", "2026-09-09 10:00", ["Drill", label], assignee="Ines", status="5")
    b.event("INC-1", "2026-09-09 10:30", "status", "Ines", frm="1", to="5")
    m = _metrics(db_url, b)
    assert m.drills.iloc[0]["severity"] == "sev1" and bool(m.drills.iloc[0]["within_sla"])


def test_ticket_kpis_per_capability_follow_ticket_labels(db_url):
    b = runbook_book()
    b.tickets[0]["labels"] += "\ntraining"  # OPS-1 (week 1) is also a training ticket
    drills = drill_book()
    drills.tickets[0]["labels"] += "\noperations"  # INC-1 (week 1)
    b.tickets += drills.tickets
    b.events += [{**e, "event_id": "d" + e["event_id"]} for e in drills.events]
    m = _metrics(db_url, b)
    rows = m.weekly[m.weekly["capability"].notna() & m.weekly["kpi"].isin(["runbook_completion", "drill_outcome"])]
    got = sorted((r.kpi, r.capability, int(r.week), int(r.internal), int(r.vendor)) for r in rows.itertuples())
    assert got == [("drill_outcome", "operations", 1, 0, 1), ("runbook_completion", "training", 1, 1, 0)]
