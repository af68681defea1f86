"""Drills: every incident drill with its time to restore against the SLA, responder side, postmortem and
outcome (KPI drill_outcome, SPEC §5)."""

import streamlit as st

from metrics.report.ticket_figures import drill_table, drills_timeline
from pages._shared.data import context

ctx = context()
cfg, m = ctx.cfg, ctx.metrics()
drills = m.drills

st.title("Drills")
slas = ", ".join(f"{k} {v} min" for k, v in cfg.drills.sla_minutes.items())
st.caption(f"A drill is a ticket labelled `{cfg.drills.label}`; SLAs: {slas}. It **passes** when restored (first "
           f"done transition) within its SLA and a postmortem exists (a linked ticket labelled "
           f"`{cfg.drills.postmortem_label}` within {cfg.drills.postmortem_days} days, or a postmortem URL in the "
           "description); an **internal pass** also has an internal primary responder.")
if drills.empty:
    st.info("No drills collected yet. Label tickets in Jira or GitHub Issues and collect with:")
    st.code(ctx.collect_command(), language="bash")
else:
    restored = drills[drills["restored_at"].notna()]
    cols = st.columns(4)
    cols[0].metric("Drills", len(drills))
    cols[1].metric("Open", int(drills["restored_at"].isna().sum()))
    cols[2].metric("Passed", int(restored["passed"].sum()))
    cols[3].metric("Internal passes", int(restored["internal_pass"].sum()))
    st.plotly_chart(drills_timeline(drills, cfg.engagement.timezone), key="drills_timeline")
    st.dataframe(drill_table(drills, cfg.engagement.timezone), hide_index=True, key="drills", column_config={
        "ticket": st.column_config.LinkColumn("ticket", display_text=r".*/(?:browse/|issues/)([^/]+)$"),
    })
