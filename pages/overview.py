"""Overview: the latest week's internal commit share against its target, the counts behind it, the trend."""

import streamlit as st

from engagement.weeks import week_label
from metrics.engagement import UNATTRIBUTED_WARNING
from metrics.report.figures import share_figure
from pages._shared.data import context

KPI = "internal_commit_share"
DEFINITION = ("Non-merge commits reachable from the tracked branch, bucketed by author date in the engagement's "
              "time zone: internal / (internal + vendor). Bots and unattributed commits are not in the share; "
              "they are counted beside it.")

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

weeks_after = week - cfg.engagement.weeks
st.caption(f"Week {week} of {cfg.engagement.weeks} ({week_label(week, start)})"
           + (f", {weeks_after} week(s) after the planned end" if weeks_after > 0 else ""))

row = m.kpi_row(KPI, week)
share = float(row["value"])
earlier = [w for w in m.weeks if w < week]
prev = m.kpi_row(KPI, earlier[-1]) if earlier else None
delta = None if prev is None or prev["value"] != prev["value"] else f"{(share - prev['value']) * 100:+.1f} pp"
target = cfg.target(KPI)

c_share, c_target = st.columns(2)
c_share.metric(f"Internal commit share, week {week}", f"{share:.0%}", delta=delta,
               help=DEFINITION + " The change is from the previous week, in percentage points.", border=True)
if target is None:
    c_target.metric("Target", "none set", border=True)
else:
    met = share >= target
    c_target.metric("Target", f"≥ {target:.0%}", delta="met" if met else f"not met ({(share - target) * 100:+.1f} pp)",
                    delta_color="green" if met else "red", delta_arrow="up" if met else "down", border=True,
                    help="From [targets] in the engagement file, or Baton's default.")

counts = st.columns(4)
for col, side, label in zip(counts, ("internal", "vendor", "unattributed", "bots"),
                           ("Internal", "Vendor", "Unattributed", "Bot"), strict=True):
    col.metric(f"{label} commits", int(row[side]))

unattributed = m.unattributed_share(week)
if unattributed > UNATTRIBUTED_WARNING:
    total = int(row["internal"] + row["vendor"] + row["unattributed"] + row["bots"])
    st.warning(f"{int(row['unattributed'])} of {total} commits in week {week} ({unattributed:.0%}) are unattributed: "
               "no roster entry or email domain says whose side they are on. Review them on the People page.")
    st.page_link("pages/people.py", label="People: unattributed identities")

st.subheader("Internal commit share by week")
series = m.commit_share[m.commit_share["capability"].isna()]
st.plotly_chart(share_figure(series, target, start), key="share_chart")
st.caption("Bars: internal share of attributed commits; dashed line: target. Hover a bar for the week's dates "
           "and counts.")
