"""Weekly review: the steering committee's one page for week N (deep link ?week=N), and its steering pack."""

import streamlit as st

from metrics.review import weekly_review
from pages._shared.access import require
from pages._shared.data import context, evidence_banner
from pages._shared.links import unknown_link_value, warn_unknown_link
from pages._shared.review_ui import freeze_form, kpi_cards, pack_button

ctx = context()
require("viewer", "The weekly review")  # checked here too: a page reached by URL must not rely on the navigation
cfg, m = ctx.cfg, ctx.metrics()
latest = m.latest_week()
weeks = sorted((w for w in m.weeks if latest is None or w <= latest), reverse=True)

st.title(f"Weekly review · {cfg.engagement.name}")
evidence_banner(ctx, m)  # `metrics verify` found an altered signature or evidence row
if not weeks:
    st.info("No weeks to review yet: collect data first.")
    st.code(ctx.collect_command(), language="bash")
    st.stop()
bad_link = unknown_link_value("week", weeks)
week = st.selectbox("Week", weeks, key="week", bind="query-params", format_func=str,
                    help="Engagement week; the URL (?week=N) opens this review directly.")
warn_unknown_link(bad_link, weeks, "week", week)
review = weekly_review(ctx.engine, m, week)
st.subheader(f"Week {week} · {review.week_dates}")

if review.frozen:
    (st.warning if len(review.restated) else st.success)(review.frozen_label, icon=":material/lock:")
else:
    st.info(review.frozen_label, icon=":material/lock_open:")

kpi_cards(review.cards)

if ctx.repos and review.frozen:
    st.caption("Frozen figures cover all repositories: restatements are not computed while the repository "
               "filter is on.")
elif len(review.restated):
    st.markdown("**Restated figures** (frozen value, value recomputed now, why):")
    st.dataframe(review.restated, hide_index=True)

st.subheader("Ladder: planned vs measured")
st.dataframe(review.ladder, hide_index=True)

st.subheader("Milestones")
ms = review.milestones
counts = st.columns(4)
counts[0].metric("Due now", int(ms["due"].sum()) if len(ms) else 0, help="Due this week or next week")
counts[1].metric("At risk", int((ms["state"] == "at risk").sum()) if len(ms) else 0)
counts[2].metric("Met", int((ms["state"] == "met").sum()) if len(ms) else 0)
counts[3].metric("Signed (accepted)", int(ms["accepted"].sum()) if len(ms) else 0)
st.dataframe(ms, hide_index=True, column_config={"title": st.column_config.TextColumn(width="large")})
st.page_link("pages/milestones.py", label="Milestones: criteria, evidence, signatures",
             query_params={"week": str(week)})

drills = m.weekly[(m.weekly["week"] == week) & m.weekly["kpi"].isin(["drill_outcome", "runbook_completion"])]
st.subheader("Drills and incidents")
if drills.empty:
    st.caption(f"No drill or incident recorded for week {week}.")
else:
    st.dataframe(drills, hide_index=True)

st.subheader("Data freshness")
fresh = review.freshness
if fresh.empty:
    st.caption("No source has been collected yet.")
else:
    st.dataframe(fresh, hide_index=True, column_config={
        "last_success": st.column_config.DatetimeColumn("last successful collection (UTC)")})

st.subheader("Freeze and export")
col_freeze, col_pack = st.columns(2)
with col_freeze:
    if not review.frozen:
        freeze_form(ctx, m, week)
with col_pack:
    pack_button(ctx, m, week)
