"""The hand-computed ticket histories behind the runbook_completion and drill_outcome tables
(tests/metrics/test_ticket_kpis.py) and the Runbooks/Drills pages tests."""

from __future__ import annotations

from tests.support.ticket_rows import TicketBook


def runbook_book() -> TicketBook:
    b = TicketBook()
    # R1, week 1: internal executor, but the vendor commented while it ran -> prompted.
    b.ticket("OPS-1", "2026-09-08 09:00", ["runbook", "runbook:training"], assignee="Ines", status="5")
    b.checklist("OPS-1", True, True, True)
    b.event("OPS-1", "2026-09-09 10:00", "comment", "Marco", body="remember to pin the data cut")
    b.event("OPS-1", "2026-09-10 12:00", "status", "Ines", frm="1", to="5")
    # R2, week 2: ticked partly by the vendor (one of three ticks) -> prompted; 3 of 4 items checked.
    b.ticket("OPS-2", "2026-09-15 09:00", ["runbook", "runbook:training"], assignee="Ines", status="5")
    b.checklist("OPS-2", True, True, True, False)
    b.event("OPS-2", "2026-09-16 09:00", "checklist", "Marco", to="step 1")
    b.event("OPS-2", "2026-09-16 10:00", "checklist", "Ines", to="step 2")
    b.event("OPS-2", "2026-09-16 11:00", "checklist", "Ines", to="step 3")
    b.event("OPS-2", "2026-09-17 12:00", "status", "Ines", frm="1", to="5")
    # R3, started week 2, completed week 3: first assigned to Marco, handed to Ines; bot comment and a
    # system change do not count; Marco's reopen after completion does not count -> unprompted internal.
    b.ticket("OPS-3", "2026-09-16 09:00", ["runbook", "runbook:deploy"], assignee="Marco", status="5")
    b.checklist("OPS-3", True, True)
    b.event("OPS-3", "2026-09-16 09:01", "assignee", "Marco", frm=None, to="Marco")
    b.event("OPS-3", "2026-09-22 08:00", "assignee", "Marco", frm="Marco", to="Ines")
    b.event("OPS-3", "2026-09-22 09:00", "comment", "Automation", body="SLA timer started", bot=True)
    b.event("OPS-3", "2026-09-22 09:30", "status", None, frm="1", to="3")
    b.event("OPS-3", "2026-09-23 12:00", "status", "Ines", frm="3", to="5")
    b.event("OPS-3", "2026-09-24 12:00", "status", "Marco", frm="5", to="3")
    b.event("OPS-3", "2026-09-24 12:30", "assignee", "Marco", frm="Ines", to="Marco")
    b.event("OPS-3", "2026-09-25 12:00", "status", "Marco", frm="3", to="5")
    # R4, week 3: vendor executes it himself.
    b.ticket("OPS-4", "2026-09-23 09:00", ["runbook", "runbook:deploy"], assignee="Marco", status="5")
    b.event("OPS-4", "2026-09-24 09:00", "status", "Marco", frm="1", to="5")
    # R5, week 4: never completed; the vendor's comment is listed.
    b.ticket("OPS-5", "2026-09-29 09:00", ["runbook", "runbook:training"], assignee="Ines", status="3")
    b.event("OPS-5", "2026-09-30 09:00", "comment", "Marco", body="ping")
    # Not an execution: no runbook:<name> label.
    b.ticket("OPS-6", "2026-09-29 09:00", ["runbook"], assignee="Ines", status="5")
    # R7, week 4: checklist = sub-tasks; the vendor closed one sub-task -> prompted; 1 of 2 done.
    b.ticket("OPS-7", "2026-09-30 09:00", ["runbook", "runbook:data"], assignee="Ines", status="5")
    b.ticket("OPS-8", "2026-09-30 09:05", [], assignee="Marco", status="5", parent="OPS-7")
    b.ticket("OPS-9", "2026-09-30 09:06", [], assignee="Ines", status="1", parent="OPS-7")
    b.event("OPS-8", "2026-10-01 09:00", "status", "Marco", frm="1", to="5")
    b.event("OPS-7", "2026-10-02 09:00", "status", "Ines", frm="1", to="5")
    return b


def drill_book() -> TicketBook:
    b = TicketBook()
    # D1, week 1: sev1 in 50 min, vendor responder, postmortem ticket two days later -> pass (vendor).
    b.ticket("INC-1", "2026-09-09 10:00", ["drill", "sev1"], assignee="Marco", status="5", links=["INC-2"])
    b.event("INC-1", "2026-09-09 10:05", "status", "Marco", frm="1", to="3")
    b.event("INC-1", "2026-09-09 10:50", "status", "Marco", frm="3", to="5")
    b.ticket("INC-2", "2026-09-11 10:00", ["postmortem"])
    # D2, week 3: sev2 in 300 min > 240 -> fail although a postmortem URL exists; internal responder
    # (assigned by the vendor just before Ines starts it).
    b.ticket("INC-3", "2026-09-23 08:00", ["drill", "sev2"], assignee="Ines", status="5",
             description="Notes: https://wiki.example/Postmortems/d2 (draft)")
    b.event("INC-3", "2026-09-23 08:01", "assignee", "Marco", frm=None, to="Ines")
    b.event("INC-3", "2026-09-23 08:02", "status", "Ines", frm="1", to="3")
    b.event("INC-3", "2026-09-23 13:00", "status", "Ines", frm="3", to="5")
    # D3, week 6: sev3 restored in 660 min, reopened by the vendor and restored again 2 days later: the
    # first restore counts (within SLA). Tom is internal since 2026-10-07. The postmortem links back from
    # its own side only, created within 5 days of the first restore -> internal pass.
    b.ticket("INC-4", "2026-10-14 09:00", ["drill", "sev3"], assignee="Tom", status="5")
    b.event("INC-4", "2026-10-14 09:10", "status", "Tom", frm="1", to="3")
    b.event("INC-4", "2026-10-14 20:00", "status", "Tom", frm="3", to="5")
    b.event("INC-4", "2026-10-15 08:00", "status", "Marco", frm="5", to="3")
    b.event("INC-4", "2026-10-16 08:00", "status", "Tom", frm="3", to="5")
    b.ticket("INC-5", "2026-10-18 09:00", ["postmortem"], links=["INC-4"])
    # D4: never restored -> no weekly row.
    b.ticket("INC-6", "2026-10-15 09:00", ["drill", "sev1"], assignee="Ines", status="3")
    b.event("INC-6", "2026-10-15 09:05", "status", "Ines", frm="1", to="3")
    # D5, week 6: no severity label -> never within SLA; never in progress -> responder = assignee at restore.
    b.ticket("INC-7", "2026-10-13 09:00", ["drill"], assignee="Ines", status="5",
             description="https://wiki.example/postmortem/d5")
    b.event("INC-7", "2026-10-13 09:30", "status", "Ines", frm="1", to="5")
    # A postmortem created too late (restore + 5 days + 1 hour) does not count.
    b.ticket("INC-8", "2026-10-05 09:00", ["drill", "sev1"], assignee="Ines", status="5", links=["INC-9"])
    b.event("INC-8", "2026-10-05 09:40", "status", "Ines", frm="1", to="5")
    b.ticket("INC-9", "2026-10-10 10:40", ["postmortem"])
    return b
