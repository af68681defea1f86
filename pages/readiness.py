"""Readiness (SPEC §10): if the vendor vanished tomorrow, what would we still have? Per capability: exit readiness
and its bus factor, the share of surviving lines written by the internal team, the takeover status; the operations
no two internal people did lately, in red, with the last vendor who did them; planned vs actual RACI; the
competency matrix of a week (week slider) with each cell's evidence, and each person's progression. Every number
from metrics.service / metrics.readiness / metrics.competency; this page only renders."""

import streamlit as st

from engagement.weeks import week_label
from metrics.competency import cell_evidence
from metrics.readiness import raci_board, readiness_board, uncovered_operations
from metrics.report.readiness_figures import competency_figure, progression_figure
from metrics.service import evidence
from pages._shared.data import context
from pages._shared.kpi_view import evidence_table
from pages._shared.readiness_ui import exit_board, raci_table, uncovered_table
from pages._shared.weeks import week_select

ctx = context()
cfg, m = ctx.cfg, ctx.metrics()
r = cfg.readiness
latest = m.latest_week()
weeks = sorted((w for w in m.weeks if latest is None or w <= latest), reverse=True)

st.title("Readiness")
st.caption("If the vendor vanished tomorrow, what would we still have? Whose lines the system is made of, which "
           f"operations at least {r.min_people} internal people did on their own in the last {r.window_weeks} "
           "weeks, who has reached which competency, and whether responsibility moved as planned.")
if not weeks or m.is_empty:
    st.info("Nothing to show yet: collect data first.")
    st.code(ctx.collect_command(), language="bash")
    st.stop()
week = week_select(st, weeks, help="Engagement week; the URL (?week=N) opens this view directly.")
start = cfg.engagement.start

st.subheader(f"Vendor exit · week {week} ({week_label(week, start)})")
exit_board(readiness_board(m, week), r.min_people, r.window_weeks, key="readiness_board")

st.subheader(f"Not covered: operations fewer than {r.min_people} internal people did in the last "
             f"{r.window_weeks} weeks")
uncovered_table(uncovered_operations(m, week), key="uncovered")

with st.expander("Evidence: who did each operation"):
    cap = st.selectbox("Capability", ["all capabilities", *cfg.capability_keys], key="readiness_capability")
    rows = evidence(m, "exit_readiness", week, None if cap == "all capabilities" else cap)
    evidence_table(rows, key="readiness_evidence")

st.subheader("RACI: planned vs actual")
raci_table(raci_board(m, week), bool(cfg.raci), week, key="raci")

st.subheader("Competency matrix")
matrix, _items = m.facts.competency
if matrix.empty:
    st.info("No competency rubric applies: the default rubric covers data, training and operations; add "
            "[competency.<capability>] for others.")
    st.stop()
comp_weeks = sorted(set(int(w) for w in matrix["week"]))
shown_week = st.select_slider("Week of the matrix", options=comp_weeks,
                              value=week if week in comp_weeks else comp_weeks[-1], key="competency_week")
st.plotly_chart(competency_figure(matrix, shown_week), key="competency_chart")
st.caption(f"Levels from evidence in the {r.window_weeks} weeks ending with the week, never from attendance: "
           "none yet → beginner → intermediate → independent.")
people = list(dict.fromkeys(matrix["person"]))
caps = list(dict.fromkeys(matrix["capability"]))
col_person, col_cap = st.columns(2)
person = col_person.selectbox("Person", people, key="competency_person")
capability = col_cap.selectbox("Capability", caps, key="competency_capability")
cell = matrix[(matrix["person"] == person) & (matrix["capability"] == capability) & (matrix["week"] == shown_week)]
if len(cell):
    c = cell.iloc[0]
    st.text(f"{person} · {capability} · week {shown_week}: {c['level_name']} ({int(c['evidence_count'])} item(s) "
            f"behind the level)")
items = cell_evidence(m.facts, person, capability, shown_week)
if items.empty:
    st.caption("No evidence in the window.")
else:
    items = items.assign(at=items["at"].dt.tz_convert(None))  # shown in UTC (the column says so)
    st.dataframe(items[["counts", "evidence", "at", "kind", "id", "title", "url"]], hide_index=True,
                 key="competency_evidence", column_config={
                     "counts": st.column_config.CheckboxColumn("behind the level"),
                     "evidence": "Evidence kind", "at": st.column_config.DatetimeColumn("When (UTC)"),
                     "url": st.column_config.LinkColumn("link", display_text="open")})

st.subheader("Progression")
st.plotly_chart(progression_figure(matrix, person, start), key="progression_chart")
