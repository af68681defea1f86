"""Ladder: measured vs planned ownership stage per capability and week (SPEC §6), and each cell's evidence: every
item counted in it (commits, merged PRs, approving reviews, CI runs, completed tickets), from metrics.service."""

import pandas as pd
import streamlit as st

from engagement.weeks import week_label
from metrics.kpis import REGISTRY
from metrics.ladder import STAGE_NAMES
from metrics.report.figures import ladder_figure
from metrics.service import evidence as evidence_rows
from metrics.system import takeover_table
from pages._shared.data import context
from pages._shared.kpi_view import evidence_table
from pages._shared.weeks import week_select

CHART_KEY, CAP_KEY, WEEK_KEY = "ladder_chart", "capability", "week"

ctx = context()
cfg, m = ctx.cfg, ctx.metrics()
start, caps, latest = cfg.engagement.start, cfg.capability_keys, m.latest_week()
week_options = sorted((w for w in m.weeks if latest is None or w <= latest), reverse=True)
t = cfg.ladder


def stage_name(value) -> str:
    return "–" if pd.isna(value) else f"{int(value)} {STAGE_NAMES[int(value)]}"


def select_clicked_cell() -> None:
    """A click on a cell moves both selectboxes (and so the URL) to that cell."""
    points = st.session_state[CHART_KEY].selection.points
    if points:
        cap, week = points[0].get("y"), points[0].get("x")
        if cap in caps:
            st.session_state[CAP_KEY] = cap
        if week is not None and int(week) in week_options:
            st.session_state[WEEK_KEY] = int(week)


st.title("Ladder")
st.caption(f"Stages: 0 {STAGE_NAMES[0]} (internal share < {t.pairs:.0%}) · 1 {STAGE_NAMES[1]} (≥ {t.pairs:.0%}) · "
           f"2 {STAGE_NAMES[2]} (≥ {t.leads:.0%}) · 3 {STAGE_NAMES[3]} (≥ {t.shadows:.0%}, at most "
           f"{t.shadows_max_vendor_items} vendor item) · 4 {STAGE_NAMES[4]} (no vendor item, milestones accepted). "
           "Each cell: measured / planned stage; ▼ and a red frame mark cells behind plan; empty cells had no "
           "attributed activity.")
if not caps:
    st.info("The engagement file defines no capabilities: add [[capabilities]] to get a ladder.")
    st.stop()
if m.is_empty:
    st.info("No activity collected yet: the grid shows the planned stages only. Collect with:")
    st.code(ctx.collect_command(), language="bash")

chart = st.container()  # filled below, once the selected cell is known
col_cap, col_week = st.columns(2)
# Defaults are the first options (first capability, latest week with data), so a click may set them.
cap = col_cap.selectbox("Capability", caps, key=CAP_KEY, bind="query-params")
week = week_select(col_week, week_options, key=WEEK_KEY,
                   help="Engagement week, up to the latest with data; week 0 is the baseline before the start.")

with chart:
    st.plotly_chart(ladder_figure(m.ladder, start, selected=(cap, week)), key=CHART_KEY,
                    on_select=select_clicked_cell, selection_mode="points")
    st.caption("Click a cell (or pick it below) to see the items behind it; the dotted frame marks it.")

cell = m.ladder[(m.ladder["capability"] == cap) & (m.ladder["week"] == week)].iloc[0]
st.subheader(f"Evidence: {cap}, week {week} ({week_label(week, start)})")
st.caption(f"Measured: {stage_name(cell['stage'])} · Planned: {stage_name(cell['planned'])}"
           + (" · behind plan" if cell["behind"] else "")
           + f" · Internal share: {'–' if pd.isna(cell['share']) else format(cell['share'], '.0%')}"
           f" · internal {cell['internal']}, vendor {cell['vendor']}, unattributed {cell['unattributed']}, "
           f"bots {cell['bots']}")
evidence = evidence_rows(m, "ladder_stage", week, cap)
if evidence.empty:
    st.info(f"No activity touches {cap} in week {week}.")
else:
    evidence_table(evidence, key="evidence")

st.subheader("Behind plan")
behind = m.ladder[m.ladder["behind"]].sort_values(["week", "capability"], ascending=[False, True])
if behind.empty:
    st.success("No cell is behind plan.")
else:
    st.dataframe(pd.DataFrame({
        "capability": behind["capability"], "week": behind["week"],
        "dates": [week_label(int(w), start) for w in behind["week"]],
        "measured": [stage_name(s) for s in behind["stage"]], "planned": [stage_name(s) for s in behind["planned"]],
        "internal share": behind["share"] * 100,
    }), hide_index=True, key="behind", column_config={
        "internal share": st.column_config.NumberColumn(format="%.0f%%")})

st.subheader("Takeover")  # SPEC §11 takeover_weeks, per capability
st.caption(REGISTRY["takeover_weeks"].definition)
st.dataframe(takeover_table(m.facts.takeover, week), hide_index=True, key="takeover")
