"""Weekly review: the steering committee's one page for week N (deep link ?week=N), and its steering pack.

KPI cards come from the registry (label, unit, target, direction); on a frozen week each card shows the frozen
value and, beside it, the recomputed one marked restated. Ladder with stage names; milestones with human column
names and their state (met, late, at risk, pending, missed); every standing signature with the sha256 of the
evidence it covers (short, full on hover); the week's drills with severity, SLA, restore time, responder side and
postmortem; data freshness; freeze and pack."""

import html

import streamlit as st

from metrics.review import (
    DRILL_LABELS,
    LADDER_LABELS,
    MILESTONE_LABELS,
    milestone_state_text,
    weekly_review,
)
from pages._shared.access import require
from pages._shared.data import context, evidence_banner
from pages._shared.readiness_ui import exit_board, raci_table, uncovered_table
from pages._shared.review_ui import freeze_form, kpi_cards, pack_button
from pages._shared.weeks import week_select

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
week = week_select(st, weeks, help="Engagement week; the URL (?week=N) opens this review directly.")
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
    st.dataframe(review.restated, hide_index=True, column_config={
        "kpi": "KPI", "capability": "Capability", "runbook": None, "old": "Frozen value", "new": "Recomputed now",
        "why": "Why"})

st.subheader("Ladder: planned vs measured")
st.dataframe(review.ladder, hide_index=True, column_config=LADDER_LABELS, key="review_ladder")

st.subheader("Handover readiness: if the vendor left now")
exit_board(review.readiness, cfg.readiness.min_people, cfg.readiness.window_weeks, key="review_readiness")
st.markdown(f"**Not covered** (fewer than {cfg.readiness.min_people} internal people in the last "
            f"{cfg.readiness.window_weeks} weeks)")
uncovered_table(review.uncovered, key="review_uncovered")
if cfg.raci:
    st.markdown("**RACI: planned vs actual**")
    raci_table(review.raci, True, week, key="review_raci")
st.page_link("pages/readiness.py", label="Readiness: evidence, competency matrix, progression",
             query_params={"week": str(week)})

st.subheader("Milestones")
ms = review.milestones
counts = st.columns(4)
counts[0].metric("Due now", int(ms["due"].sum()) if len(ms) else 0, help="Due this week or next week")
counts[1].metric("At risk", int((ms["state"] == "at risk").sum()) if len(ms) else 0)
counts[2].metric("Met", int((ms["state"] == "met").sum()) if len(ms) else 0,
                 help="Met by its figures (late ones included: met after their due week)")
counts[3].metric("Signed (accepted)", int(ms["accepted"].sum()) if len(ms) else 0)
shown = ms.assign(state=[milestone_state_text(s, late) for s, late in zip(ms["state"], ms["late"], strict=True)])
st.dataframe(shown, hide_index=True, key="review_milestones", column_config={
    **MILESTONE_LABELS, "title": st.column_config.TextColumn(MILESTONE_LABELS["title"], width="large")})
st.page_link("pages/milestones.py", label="Milestones: criteria, evidence, signatures",
             query_params={"week": str(week)})

st.markdown("**Signatures** (each covers the sha256 of the milestone's evidence as it stood; hover for the full "
            "digest)")
sigs = review.signatures
if sigs.empty:
    st.caption("No standing signature.")
else:
    rows = "".join(
        f"<tr><td>{html.escape(str(s.milestone))}</td><td>{html.escape(str(s.signer))}</td>"
        f"<td>{html.escape(str(s.side))}{'' if s.verified else ' (unverified)'}</td>"
        f"<td>{s.signed_at:%Y-%m-%d %H:%M} UTC</td><td>{html.escape(str(s.met_week))}</td>"
        f'<td><code class="digest" title="{html.escape(s.digest)}">{html.escape(s.digest_short)}…</code></td></tr>'
        for s in sigs.itertuples())
    st.html('<table class="signatures"><thead><tr><th>Milestone</th><th>Signer</th><th>Side</th><th>Signed</th>'
            f"<th>Evidence of week</th><th>Evidence sha256</th></tr></thead><tbody>{rows}</tbody></table>")

st.subheader("Drills and incidents")
drills = review.drills
if drills.empty:
    st.caption(f"No drill restored in week {week} or open at its end.")
else:
    st.dataframe(drills, hide_index=True, key="review_drills", column_config={
        **DRILL_LABELS, "url": st.column_config.LinkColumn(DRILL_LABELS["url"], display_text="open")})
    st.page_link("pages/drills.py", label="Drills: every drill and its timeline")

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
