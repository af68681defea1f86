"""Binder: the handover binder (SPEC §11 `artifact_completeness`) as a checklist a consultant walks through in a
review — per artifact ✓ present, fresh, owned, or ✗ with what is missing — for a chosen week, then the trend and the
files behind the value (metrics.binder, metrics.service)."""

import streamlit as st

from engagement.weeks import week_label
from metrics.binder import capability_summary, checklist
from metrics.kpis import REGISTRY, target
from metrics.kpis.base import format_target, format_value
from metrics.report.figures import kpi_figure
from metrics.service import evidence
from pages._shared.data import context
from pages._shared.kpi_view import evidence_table
from pages._shared.weeks import week_select

KEY = "artifact_completeness"
spec = REGISTRY[KEY]
ctx = context()
cfg, m = ctx.cfg, ctx.metrics()
start = cfg.engagement.start

st.title("Binder")
st.caption(spec.definition + (" The engagement file lists its own `[[artifacts]]`." if cfg.artifacts else
                              " No `[[artifacts]]` in the engagement file: the default binder of SPEC §11 applies."))
rows = m.weekly[(m.weekly["kpi"] == KEY) & m.weekly["capability"].isna()]
if rows.empty:
    st.info("No week-end trees collected yet: the binder is read from the git sources. Collect with:")
    st.code(ctx.collect_command(), language="bash")
    st.stop()

weeks = sorted((int(w) for w in rows["week"]), reverse=True)
week = week_select(st, weeks, key="week", help="The tracked branch as it stood at the end of this week.")
row = rows[rows["week"] == week].iloc[0]
goal = target(cfg, KEY)
cols = st.columns(4)
cols[0].metric("Present and fresh", format_value(spec, row["value"]), help=f"target {format_target(spec, goal)}")
cols[1].metric("Present", f"{int(row['present'])} of {int(row['artifacts'])}")
cols[2].metric("Fresh", f"{int(row['fresh'])} of {int(row['artifacts'])}")
cols[3].metric("Owned by the client", f"{int(row['owned'])} of {int(row['artifacts'])}")

st.subheader(f"Checklist, week {week} ({week_label(week, start)})")
st.dataframe(checklist(m.facts.binder, week), hide_index=True, key="checklist",
             column_config={"key": st.column_config.TextColumn("key", help="the artifact's key in the engagement "
                                                                          "file (a criterion can name it)")})
st.caption("Present: a file matching the artifact exists at the week's end · fresh: one changed within its "
           "max_age_weeks · owned: its last change by a person was by the client's team (bots are skipped).")
st.dataframe(capability_summary(m.facts.binder, week), hide_index=True, key="by_capability")

st.subheader("Trend")
st.plotly_chart(kpi_figure(spec, rows, goal, start), key="binder_trend")

st.subheader(f"Files behind week {week}")
evidence_table(evidence(m, KEY, week), key="binder_rows")
