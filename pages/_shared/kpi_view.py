"""One KPI section of a KPI-group page, entirely from the KPI's spec (metrics.kpis): label, definition, the chart
its spec asks for with the target, a week picker (default: `?week=N` when the page was opened with one, else the
latest week with a value), and the evidence rows behind that week's value (metrics.service.evidence: the same
rows the weekly review's cards, the ladder and the milestones open), linked to their source."""

from __future__ import annotations

import streamlit as st

from engagement.weeks import week_label
from metrics.kpis import REGISTRY, target
from metrics.kpis.base import format_value
from metrics.report.figures import kpi_figure
from metrics.service import evidence

EVIDENCE_CONFIG = {
    "url": st.column_config.LinkColumn("link", display_text="open"),
    "counted": st.column_config.CheckboxColumn("counted", help="In the value (unticked rows are shown for context, "
                                                                  "e.g. scheduled runs)"),
    "count": st.column_config.NumberColumn("count", help="Units the row stands for (e.g. tests in a file)"),
}


def requested_week() -> int | None:
    """`?week=N` of the page's URL, when it is a whole number."""
    raw = st.query_params.get("week")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def evidence_table(rows, key: str) -> None:
    """Evidence rows with links; the counted column and a one-line reconciliation above them."""
    if rows.empty:
        st.caption("No rows behind this value.")
        return
    counted = rows[rows["counted"].astype(bool)]
    by_side = counted["side"].fillna("no side").value_counts()
    st.caption(f"{len(counted)} counted row(s) of {len(rows)}: "
               + ", ".join(f"{side} {n}" for side, n in by_side.items()))
    st.dataframe(rows, hide_index=True, column_config=EVIDENCE_CONFIG, key=key)


def kpi_section(ctx, m, kpi: str, note: str = "") -> None:
    """Render one KPI: chart of every week with the target, a week picker, and its evidence table."""
    spec = REGISTRY[kpi]
    start = ctx.cfg.engagement.start
    st.subheader(spec.label, anchor=kpi)
    st.caption(spec.definition + (f" {note}" if note else ""))
    rows = m.weekly[(m.weekly["kpi"] == kpi) & m.weekly["capability"].isna()]
    if rows.empty:
        st.info(f"No data for {spec.label.lower()} yet: its source has not been collected (see the Sources page).")
        return
    goal = target(ctx.cfg, kpi)
    st.plotly_chart(kpi_figure(spec, rows, goal, start), key=f"{kpi}_chart")
    with_values = [int(w) for w in rows.loc[rows["value"].notna(), "week"]]
    weeks = [int(w) for w in rows["week"]]
    wanted = requested_week()
    default = wanted if wanted in weeks else (with_values[-1] if with_values else weeks[-1])
    week = st.selectbox("Week", weeks, index=weeks.index(default), key=f"{kpi}_week",
                        format_func=lambda w: f"Week {w} ({week_label(w, start)})")
    row = rows[rows["week"] == week].iloc[0]
    st.markdown(f"**Week {week}: {format_value(spec, row['value'])}** · internal {int(row['internal'])}, "
                f"vendor {int(row['vendor'])}, unattributed {int(row['unattributed'])}, bots {int(row['bots'])}")
    evidence_table(evidence(m, kpi, week), key=f"{kpi}_rows")


def kpi_page(ctx, m, page: str, notes: dict[str, str] | None = None) -> None:
    """Every registered KPI whose spec names this page, in registry order. A `?week=N` that is not one of the
    engagement's weeks is said once, instead of silently showing another week."""
    wanted, raw = requested_week(), st.query_params.get("week")
    if raw is not None and wanted not in m.weeks:
        shown = f"{m.weeks[0]}–{m.weeks[-1]}" if m.weeks else "none yet"
        st.warning(f"?week={raw} is not a week of this engagement (weeks: {shown}); each KPI below shows its "
                   "latest week with a value instead.", icon=":material/event_busy:")
    for spec in REGISTRY.values():
        if spec.page == page:
            kpi_section(ctx, m, spec.key, (notes or {}).get(spec.key, ""))
