"""One KPI section of a KPI-group page: definition, weekly chart with the target, and the rows behind a
chosen week, each linking to its PR or run on GitHub. Only rendering: the rows come from metrics."""

from __future__ import annotations

import streamlit as st

from engagement.weeks import week_label
from metrics.report.figures import share_figure, value_figure

SHARE_KPIS = {"internal_pr_share", "internal_commit_share", "internal_review_share", "internal_train_share",
              "two_key_compliance"}


def kpi_section(ctx, m, kpi: str, title: str, definition: str, y_title: str = "") -> None:
    """Render one KPI: chart of every week with the target line, a week picker, and its evidence table."""
    start = ctx.cfg.engagement.start
    st.subheader(title)
    st.caption(definition)
    rows = m.weekly[(m.weekly["kpi"] == kpi) & m.weekly["capability"].isna()]
    if rows.empty:
        st.info(f"No data for {title.lower()} yet: it needs a GitHub source (or, for eval coverage, a git source "
                "with an `evaluation` capability).")
        return
    target = ctx.cfg.target(kpi)
    if kpi in SHARE_KPIS:
        st.plotly_chart(share_figure(rows, target, start), key=f"{kpi}_chart")
    else:
        st.plotly_chart(value_figure(rows, start, y_title, target, p90=kpi == "time_to_retrain"), key=f"{kpi}_chart")
    with_values = [int(w) for w in rows.loc[rows["value"].notna(), "week"]]
    weeks = [int(w) for w in rows["week"]]
    default = with_values[-1] if with_values else weeks[-1]
    week = st.selectbox("Week", weeks, index=weeks.index(default), key=f"{kpi}_week",
                        format_func=lambda w: f"Week {w} ({week_label(w, start)})")
    if kpi == "internal_commit_share":
        evidence = m.commits[m.commits["week"] == week][["at", "repo", "sha", "name", "person", "side", "subject"]]
    elif m.github is not None:
        evidence = m.github.evidence(kpi, week)
    else:
        evidence = None
    if evidence is None or evidence.empty:
        st.caption(f"No rows behind week {week}.")
        return
    config = {"link": st.column_config.LinkColumn("GitHub", display_text="open")} if "link" in evidence else {}
    st.dataframe(evidence, hide_index=True, column_config=config, key=f"{kpi}_rows")
