"""Overview: the engagement's scorecard (issue 10 §4) — every KPI's latest value against its target (met, not met,
no target; with its unit), the change from the week before, the ladder cells behind plan, the milestones due or
at risk, and a link to each detail page. Everything comes from metrics.review.scorecard via the registry."""

import streamlit as st

from engagement.weeks import week_label
from metrics.engagement import UNATTRIBUTED_WARNING
from metrics.review import MILESTONE_LABELS, milestone_state_text, scorecard
from pages._shared.data import context
from pages._shared.nav import page_file

CARDS_PER_ROW = 4
STATUS = {"met": ":green[met]", "not met": ":red[not met]", "no target": "no target", "no data": "no data"}

ctx = context()
cfg, m = ctx.cfg, ctx.metrics()
start = cfg.engagement.start
st.title(cfg.engagement.name)
if ctx.repos:
    st.caption("Repositories: " + ", ".join(ctx.repos))

week = m.latest_week()
if m.is_empty:
    st.info("No data yet: no commits have been collected into this database. Collect them with:")
    st.code(ctx.collect_command(), language="bash")
    st.caption(f"Database: {ctx.db_label}. Then reload this page.")
    st.stop()
if week is None:
    st.warning("Commits were collected, but none is attributed to the internal team or the vendor yet: "
               "see the People page for the identities the roster does not cover.")
    st.page_link("pages/people.py", label="People: unattributed identities")
    st.stop()

card = scorecard(ctx.engine, m, week)
weeks_after = week - cfg.engagement.weeks
st.caption(f"Scorecard of week {week} of {cfg.engagement.weeks} ({card.week_dates})"
           + (f", {weeks_after} week(s) after the planned end" if weeks_after > 0 else "")
           + ". Each KPI: its latest value, the target, and the change from the week before.")

unattributed = m.unattributed_share(week)
if unattributed > UNATTRIBUTED_WARNING:
    row = m.kpi_row("internal_commit_share", week)
    total = int(row["internal"] + row["vendor"] + row["unattributed"] + row["bots"])
    st.warning(f"{int(row['unattributed'])} of {total} commits in week {week} ({unattributed:.0%}) are unattributed: "
               "no roster entry or email domain says whose side they are on. Review them on the People page.")
    st.page_link("pages/people.py", label="People: unattributed identities")

st.subheader("KPIs against target")
cards = card.cards
for first in range(0, len(cards), CARDS_PER_ROW):
    columns = st.columns(CARDS_PER_ROW)
    for col, c in zip(columns, cards.iloc[first:first + CARDS_PER_ROW].itertuples(), strict=False):
        with col.container(border=True, key=f"score_{c.kpi}"):
            as_of = "" if c.week == week else f" (week {c.week})"
            st.metric(f"{c.label}{as_of}", c.shown, delta=c.change_shown,
                      delta_color="normal" if c.direction == "higher" else "inverse",
                      delta_arrow="auto", help=f"{c.definition} Change: from the week before.")
            st.markdown("No target set" if c.target_status == "no target" else
                        f"Target {c.target_shown}: **{STATUS.get(c.target_status, c.target_status)}**")
            target_page = page_file(c.page)
            if target_page:
                st.page_link(target_page, label="Details", icon=":material/arrow_forward:",
                             query_params={"week": str(int(c.week))})
if cards.empty:
    st.info("No KPI has a value yet.")

left, right = st.columns(2)
with left:
    st.subheader("Behind plan")
    if card.behind.empty:
        st.success(f"No capability is behind plan in week {week}.")
    else:
        st.dataframe(card.behind[["capability", "planned", "measured", "internal", "vendor"]], hide_index=True,
                     key="behind", column_config={"capability": "Capability", "planned": "Planned stage",
                                                  "measured": "Measured stage", "internal": "Internal items",
                                                  "vendor": "Vendor items"})
    st.page_link("pages/ladder.py", label="Ladder", icon=":material/arrow_forward:",
                 query_params={"week": str(week)})
with right:
    st.subheader("Milestones due or at risk")
    due = card.milestones
    if due.empty:
        st.success(f"No milestone is due, at risk or missed in week {week}.")
    else:
        shown = due.assign(state=[milestone_state_text(s, late) for s, late in zip(due["state"], due["late"],
                                                                                  strict=True)])
        st.dataframe(shown[["milestone", "title", "due_week", "state", "accepted"]], hide_index=True,
                     key="due_milestones", column_config={k: MILESTONE_LABELS[k] for k in
                                                          ("milestone", "title", "due_week", "state", "accepted")})
    st.page_link("pages/milestones.py", label="Milestones", icon=":material/arrow_forward:",
                 query_params={"week": str(week)})
st.caption(f"Week {week}: {week_label(week, start)}. Targets come from [targets] in the engagement file, else "
           "Baton's defaults (`python -m metrics kpis`).")
