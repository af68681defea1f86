"""Milestones: each one's state, criteria and evidence rows, and two-key sign-off (?milestone=M&week=N)."""

import pandas as pd
import streamlit as st

from metrics.acceptance import acceptance_table
from metrics.milestones import criteria_table, criterion_evidence, evidence_week
from metrics.review import MILESTONE_LABELS, milestone_board, milestone_state_text, signature_table
from pages._shared.access import require
from pages._shared.data import context, evidence_banner
from pages._shared.kpi_view import evidence_table
from pages._shared.links import unknown_link_value, warn_unknown_link
from pages._shared.review_ui import sign_form
from pages._shared.weeks import week_select

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
bad_link = unknown_link_value("milestone", ids)  # read before the widget resets the URL
chosen = col_ms.selectbox("Milestone", ids, key="milestone", bind="query-params", format_func=str,
                          help="The URL (?milestone=M&week=N) opens this milestone directly.")
week = week_select(col_week, weeks, label="As of week")
warn_unknown_link(bad_link, ids, "milestone", chosen)

if ctx.repos:
    st.info("Repository filter on: states and evidence below use the selected repositories only; signatures were "
            "made over all repositories, so 'evidence changed' may only reflect the filter.")
board = milestone_board(ctx.engine, m, week)
shown = board.assign(state=[milestone_state_text(s, late) for s, late in zip(board["state"], board["late"],
                                                                            strict=True)])
st.dataframe(shown, hide_index=True, column_config=MILESTONE_LABELS, key="milestone_board")
ms = next(x for x in cfg.milestones if x.id == chosen)
row = board.set_index("milestone").loc[chosen]
acc = acceptance_table(ctx.engine, m).set_index("milestone").loc[chosen]

st.subheader(f"{ms.id}: {ms.title}")
met = "" if pd.isna(row["met_week"]) else f", first met in week {int(row['met_week'])}"
st.markdown(f"**{milestone_state_text(row['state'], row['late'])}** in week {week} (due week {ms.due_week}{met})"
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
        evidence_table(evidence, key=f"criterion_{j + 1}_rows")

st.subheader("Signatures")
if acc["signatures"]:
    digests = signature_table(ctx.engine, m)
    digests = digests[digests["milestone"] == chosen]
    st.dataframe(pd.DataFrame({"signature": acc["signatures"], "evidence sha256": digests["digest"].tolist()}),
                 hide_index=True, column_config={"evidence sha256": st.column_config.TextColumn(
                     help="sha256 of the canonical JSON of the evidence the signature covers")})
else:
    st.caption("No standing signature.")
if row["state"] == "met":
    sign_form(ctx, m, ms.id)
else:
    st.caption("Only a met milestone can be signed.")
