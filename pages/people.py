"""People: the roster's sides over time, and the identities no rule attributes (SPEC §3)."""

import pandas as pd
import streamlit as st

from metrics.people import roster_table, unattributed_identities
from metrics.report.figures import sides_timeline
from pages._shared.data import context

ctx = context()
cfg, m = ctx.cfg, ctx.metrics()
tz = cfg.engagement.timezone

st.title("People")
st.subheader("Roster: sides over time")
roster = roster_table(cfg)
if roster.empty:
    st.info("The engagement file has no [[people]] roster yet: every commit is attributed by email domain "
            "([classify]) or counted as unattributed.")
else:
    st.caption("A person's side is the affiliation in force on the event's local date (from inclusive, until "
               "exclusive). Edit the engagement file to change it: all history is re-attributed at once.")
    st.plotly_chart(sides_timeline(roster, cfg.engagement.start, cfg.engagement.weeks), key="sides_timeline")
    shown = roster.assign(**{col: [("open" if pd.isna(d) else d.isoformat()) for d in roster[col]]
                             for col in ("from", "until")})
    st.dataframe(shown, hide_index=True, key="roster", column_config={
        "from": st.column_config.TextColumn("from (inclusive)"),
        "until": st.column_config.TextColumn("until (exclusive)"),
    })

st.subheader("Unattributed identities")
st.caption("Suggestions are never merged automatically: to attribute an identity, add it to a person in the "
           "roster (or an email domain to [classify]) in the engagement file.")
identities = unattributed_identities(m.commits, cfg)
if m.is_empty:
    st.info("No commits collected yet. Collect with:")
    st.code(ctx.collect_command(), language="bash")
elif identities.empty:
    st.success("Every commit is attributed to the internal team, the vendor or a bot.")
else:
    shown = identities.assign(first=identities["first"].dt.tz_convert(tz), last=identities["last"].dt.tz_convert(tz))
    st.dataframe(shown, hide_index=True, key="unattributed", column_config={
        "events": st.column_config.NumberColumn("commits"),
        "first": st.column_config.DatetimeColumn(f"first ({tz})", format="YYYY-MM-DD HH:mm"),
        "last": st.column_config.DatetimeColumn(f"last ({tz})", format="YYYY-MM-DD HH:mm"),
    })
