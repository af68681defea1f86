"""Milestones: each one's state, criteria and evidence rows, and two-key sign-off (?milestone=M&week=N)."""

import pandas as pd
import streamlit as st

from metrics.acceptance import acceptance_table
from metrics.milestones import criteria_table, criterion_evidence, evidence_week
from metrics.review import milestone_board
from pages._shared.access import require
from pages._shared.data import context, evidence_banner
from pages._shared.links import unknown_link_value, warn_unknown_link
from pages._shared.review_ui import sign_form

ctx = context()
require("viewer", "The milestones page")  # checked here too: a page reached by URL must not rely on the navigation
cfg, m = ctx.cfg, ctx.metrics()
st.title("Milestones")
evidence_banner(ctx, m)  # `metrics verify` found an altered signature or evidence row
if not cfg.milestones:
    st.info("The engagement file defines no [[milestones]].")
    st.stop()
latest = m.latest_week()
weeks = sorted((w for w in m.weeks if latest is None or w <= latest), reverse=True) or [0]

col_ms, col_week = st.columns(2)
ids = [ms.id for ms in cfg.milestones]
bad_links = (unknown_link_value("milestone", ids), unknown_link_value("week", weeks))
chosen = col_ms.selectbox("Milestone", ids, key="milestone", bind="query-params", format_func=str,
                          help="The URL (?milestone=M&week=N) opens this milestone directly.")
week = col_week.selectbox("As of week", weeks, key="week", bind="query-params", format_func=str)
warn_unknown_link(bad_links[0], ids, "milestone", chosen)
warn_unknown_link(bad_links[1], weeks, "week", week)

if ctx.repos:
    st.info("Repository filter on: states and evidence below use the selected repositories only; signatures were "
            "made over all repositories, so 'evidence changed' may only reflect the filter.")
st.dataframe(milestone_board(ctx.engine, m, week), hide_index=True)
ms = next(x for x in cfg.milestones if x.id == chosen)
row = milestone_board(ctx.engine, m, week).set_index("milestone").loc[chosen]
acc = acceptance_table(ctx.engine, m).set_index("milestone").loc[chosen]

st.subheader(f"{ms.id}: {ms.title}")
met = "" if pd.isna(row["met_week"]) else f", first met in week {int(row['met_week'])}"
st.markdown(f"**{row['state']}** in week {week} (due week {ms.due_week}{met})"
            + (f" · tied to capability {ms.capability}" if ms.capability else ""))
if acc["accepted"]:
    st.success("Accepted: signed by an internal approver and a second approver.", icon=":material/verified:")
if acc["evidence_changed"]:
    st.warning("Evidence changed since signing:", icon=":material/warning:")
    st.dataframe(pd.DataFrame({"what changed": acc["changes"]}), hide_index=True)

shown_week = evidence_week(m, ms, as_of=week)
st.markdown(f"**Criteria** (evidence of week {shown_week}):")
st.dataframe(criteria_table(m, ms, shown_week), hide_index=True)
for j, c in enumerate(ms.criteria):
    evidence = criterion_evidence(m, c, shown_week)
    with st.expander(f"Criterion {j + 1} evidence: {len(evidence)} row(s)", expanded=j == 0):
        st.dataframe(evidence, hide_index=True, column_config={"link": st.column_config.LinkColumn("link")})

st.subheader("Signatures")
if acc["signatures"]:
    st.dataframe(pd.DataFrame({"signature": acc["signatures"]}), hide_index=True)
else:
    st.caption("No standing signature.")
if row["state"] == "met":
    sign_form(ctx, m, ms.id)
else:
    st.caption("Only a met milestone can be signed.")
