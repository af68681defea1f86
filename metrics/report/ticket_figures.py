"""Pure Plotly builders and table shapers for the Runbooks and Drills pages (no Streamlit here).

Ticket titles are source text: they are HTML-escaped before they reach hover text.
"""

from __future__ import annotations

import datetime as dt
import html

import pandas as pd
import plotly.graph_objects as go

from engagement.weeks import week_label
from metrics.report.figures import SIDE_COLOURS, week_tick

OUTCOME_COLOURS = {"pass": "#2ca02c", "fail": "#d62728", "open": "#9e9e9e"}
_SIDE_KEYS = {"internal": "internal", "vendor": "vendor", "unattributed": "unattributed", "bot": "bots"}


def runbook_weeks_figure(executions: pd.DataFrame, start: dt.date) -> go.Figure:
    """Completed executions per week stacked by executor side, unprompted internal ones outlined, and the
    week's value (unprompted internal / internal + vendor) as a line on a % axis."""
    done = executions[executions["completed_at"].notna()]
    weeks = sorted({int(w) for w in done["completed_week"].dropna()} | {int(w) for w in
                                                                       executions["started_week"].dropna()})
    fig = go.Figure()
    for side, colour_key in _SIDE_KEYS.items():
        counts = [int(((done["completed_week"] == w) & (done["executor_side"] == side)).sum()) for w in weeks]
        if any(counts):
            fig.add_bar(x=weeks, y=counts, name=f"completed, {side} executor", marker_color=SIDE_COLOURS[colour_key],
                        hovertext=[week_label(w, start) for w in weeks], hoverinfo="text+y+name")
    started = [int((executions["started_week"] == w).sum()) for w in weeks]
    fig.add_scatter(x=weeks, y=started, mode="markers", name="started", marker={"symbol": "diamond", "size": 10,
                                                                                "color": "#444"})
    values = []
    for w in weeks:
        week_done = done[done["completed_week"] == w]
        attributed = int(week_done["executor_side"].isin(["internal", "vendor"]).sum())
        values.append(week_done["unprompted_internal"].sum() / attributed if attributed else None)
    fig.add_scatter(x=weeks, y=values, yaxis="y2", mode="lines+markers", name="unprompted internal share",
                    line={"color": "#08519c", "dash": "dot"}, connectgaps=False)
    fig.update_layout(barmode="stack", height=380, margin={"t": 30, "b": 40},
                      yaxis={"title": "executions", "rangemode": "tozero"},
                      yaxis2={"title": "unprompted internal", "overlaying": "y", "side": "right",
                              "range": [0, 1.05], "tickformat": ".0%"},
                      legend={"orientation": "h", "y": -0.25})
    fig.update_xaxes(title_text="Engagement week", tickmode="array", tickvals=weeks,
                     ticktext=[week_tick(w) for w in weeks])
    return fig


def execution_table(executions: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """One row per execution as the page shows it (local times, checklist as "3/4", interventions as text)."""
    def local(series: pd.Series) -> pd.Series:
        return pd.to_datetime(series, utc=True).dt.tz_convert(timezone).dt.tz_localize(None)

    return pd.DataFrame({
        "ticket": executions["url"].fillna(executions["key"]),
        "runbook": executions["runbook"],
        "title": executions["title"],
        "started": local(executions["created_at"]),
        "completed": local(executions["completed_at"]),
        "executor": executions["executor_person"].fillna(executions["executor"]),
        "side": executions["executor_side"],
        "checklist": [f"{c}/{t}" if t else "–" for c, t in zip(executions["items_checked"],
                                                               executions["items_total"], strict=True)],
        "vendor interventions": executions["vendor_interventions"],
        "unprompted internal": executions["unprompted_internal"].astype(bool),
    })


def interventions_table(interventions: list[dict], timezone: str) -> pd.DataFrame:
    frame = pd.DataFrame(interventions, columns=["at", "kind", "ticket", "person", "detail"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True).dt.tz_convert(timezone).dt.tz_localize(None)
    return frame


def drill_outcome_label(row: pd.Series) -> str:
    if pd.isna(row["restored_at"]):
        return "open"
    return "pass" if row["passed"] else "fail"


def drills_timeline(drill_rows: pd.DataFrame, timezone: str, now: dt.datetime | None = None) -> go.Figure:
    """One bar per drill from creation to restore (open drills run to now), coloured pass / fail / open, with
    the SLA deadline as a black tick and the responder's side in the hover text."""
    now = pd.Timestamp(now or dt.datetime.now(dt.UTC))
    fig = go.Figure()
    rows = drill_rows.sort_values("created_at")
    labels = [f"{k} ({s or 'no severity'})" for k, s in zip(rows["key"], rows["severity"], strict=True)]
    for outcome, colour in OUTCOME_COLOURS.items():
        mask = [drill_outcome_label(r) == outcome for _, r in rows.iterrows()]
        part = rows[mask]
        if part.empty:
            continue
        start = pd.to_datetime(part["created_at"], utc=True).dt.tz_convert(timezone)
        end = pd.to_datetime(part["restored_at"], utc=True).fillna(now).dt.tz_convert(timezone)
        hours = (end - start).dt.total_seconds() / 3600
        hover = [
            f"{html.escape(str(k))}: {html.escape(str(t))}<br>restore {h:.1f} h (SLA {_sla(m)})<br>"
            f"responder: {html.escape(str(p or r or '–'))} ({sd or '–'})<br>"
            f"postmortem: {html.escape(str(pm)) if pm else 'missing'}" + ("<br>reopened" if ro else "")
            for k, t, h, m, p, r, sd, pm, ro in zip(part["key"], part["title"], hours, part["sla_minutes"],
                                                    part["responder_person"], part["responder"],
                                                    part["responder_side"], part["postmortem"], part["reopened"],
                                                    strict=True)]
        fig.add_bar(y=[lb for lb, keep in zip(labels, mask, strict=True) if keep], x=hours, base=0,
                    orientation="h", name=outcome, marker_color=colour, hovertext=hover, hoverinfo="text")
    sla_hours = rows["sla_minutes"] / 60
    fig.add_scatter(y=labels, x=sla_hours, mode="markers", name="SLA", marker={"symbol": "line-ns-open",
                                                                              "size": 22, "color": "black",
                                                                              "line": {"width": 3}})
    fig.update_layout(height=120 + 40 * len(rows), margin={"t": 30, "b": 40}, barmode="overlay",
                      xaxis={"title": "hours from creation to restore", "rangemode": "tozero"},
                      yaxis={"autorange": "reversed"}, legend={"orientation": "h", "y": -0.3})
    return fig


def _sla(minutes) -> str:
    return "none" if pd.isna(minutes) else f"{minutes / 60:g} h"


def drill_table(drill_rows: pd.DataFrame, timezone: str) -> pd.DataFrame:
    def local(series: pd.Series) -> pd.Series:
        return pd.to_datetime(series, utc=True).dt.tz_convert(timezone).dt.tz_localize(None)

    return pd.DataFrame({
        "ticket": drill_rows["url"].fillna(drill_rows["key"]),
        "title": drill_rows["title"],
        "severity": drill_rows["severity"],
        "created": local(drill_rows["created_at"]),
        "restored": local(drill_rows["restored_at"]),
        "minutes to restore": drill_rows["minutes_to_restore"].round(0),
        "SLA minutes": drill_rows["sla_minutes"],
        "within SLA": drill_rows["within_sla"].astype(bool),
        "responder": drill_rows["responder_person"].fillna(drill_rows["responder"]),
        "side": drill_rows["responder_side"],
        "postmortem": drill_rows["postmortem"],
        "outcome": [drill_outcome_label(r) for _, r in drill_rows.iterrows()],
        "internal pass": drill_rows["internal_pass"].astype(bool),
        "reopened": drill_rows["reopened"].astype(bool),
    })
