"""Pure Plotly figure builders for the pages (no Streamlit here, so they are testable on their own).

Every chart's x axis is the engagement week (SPEC §4) and its hover text names the week's calendar dates.
"""

from __future__ import annotations

import datetime as dt
import html
import math

import pandas as pd
import plotly.graph_objects as go

from engagement.weeks import week_label
from metrics.ladder import STAGE_NAMES

SIDE_COLOURS = {"internal": "#1f77b4", "vendor": "#ff7f0e", "unattributed": "#9e9e9e", "bots": "#d0d0d0"}
# One colour per measured stage 0..4 (vendor-led, light, to independent, dark).
STAGE_COLOURS = ["#fde0c5", "#facba6", "#9ecae1", "#4292c6", "#08519c"]
BEHIND_COLOUR = "#d62728"
_FONT = {"size": 13}


def week_tick(week: int) -> str:
    """Short axis label of an engagement week."""
    return "Baseline" if week == 0 else f"W{week}"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _pct(value) -> str:
    return "–" if _missing(value) else f"{value:.0%}"


def _stage(value) -> str:
    return "–" if _missing(value) else str(int(value))


def _week_axis(fig: go.Figure, weeks: list[int]) -> None:
    fig.update_xaxes(title_text="Engagement week", tickmode="array", tickvals=weeks,
                     ticktext=[week_tick(w) for w in weeks])


def share_figure(share_rows: pd.DataFrame, target: float | None, start: dt.date,
                 label: str = "Internal share") -> go.Figure:
    """Weekly share (bars, in %) with the target as a dashed line; `label` names the KPI (axis and hover).

    `share_rows`: one row per week with columns week, value (0..1 or NaN), internal, vendor, unattributed, bots.
    """
    rows = share_rows.sort_values("week")
    weeks = [int(w) for w in rows["week"]]
    hover = [
        f"<b>Week {w}</b> ({week_label(w, start)})<br>{html.escape(label)}: {_pct(v)}<br>"
        f"Internal: {i} · Vendor: {ve}<br>Unattributed: {u} · Bots: {b} (not in the share)"
        for w, v, i, ve, u, b in zip(weeks, rows["value"], rows["internal"], rows["vendor"],
                                     rows["unattributed"], rows["bots"], strict=True)
    ]
    fig = go.Figure(go.Bar(
        x=weeks, y=rows["value"], name=label, marker_color=SIDE_COLOURS["internal"],
        text=[_pct(v) if not _missing(v) else "" for v in rows["value"]], textposition="outside",
        hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
    ))
    if target is not None:
        fig.add_hline(y=target, line_dash="dash", line_color=BEHIND_COLOUR,
                      annotation_text=f"target {target:.0%}", annotation_position="top left")
    _week_axis(fig, weeks)
    fig.update_yaxes(title_text=label, tickformat=".0%", range=[0, 1.1], automargin=True)
    fig.update_layout(height=380, margin={"l": 70, "r": 10, "t": 30, "b": 10}, showlegend=False, font=_FONT)
    return fig


def _stage_colourscale() -> list[tuple[float, str]]:
    """A stepped colour scale: stage s occupies [s/5, (s+1)/5) of the range zmin=-0.5..zmax=4.5."""
    scale = []
    for s, colour in enumerate(STAGE_COLOURS):
        scale += [(s / 5, colour), ((s + 1) / 5, colour)]
    return scale


def _cell_text(stage, planned, behind: bool) -> str:
    text = f"{_stage(stage)} / plan {_stage(planned)}"
    return f"▼ {text}" if behind else text


def _cell_hover(row, start: dt.date) -> str:
    def named(value) -> str:
        return "none" if _missing(value) else f"{int(value)} {STAGE_NAMES[int(value)]}"

    week = int(row.week)
    measured = "no attributed activity" if _missing(row.stage) else named(row.stage)
    lines = [f"<b>{html.escape(str(row.capability))}</b> · week {week} ({week_label(week, start)})",
             f"Measured: {measured}", f"Planned: {named(row.planned)}",
             f"Internal share: {_pct(row.share)}",
             f"Internal: {row.internal} · Vendor: {row.vendor}",
             f"Unattributed: {row.unattributed} · Bots: {row.bots}"]
    if row.behind:
        lines.append("<b>Behind plan</b>")
    return "<br>".join(lines)


def ladder_figure(ladder_rows: pd.DataFrame, start: dt.date, selected: tuple[str, int] | None = None) -> go.Figure:
    """Heatmap capability × week; colour = measured stage, text = measured / planned, behind-plan framed red,
    the `selected` (capability, week) cell framed black.

    `ladder_rows`: metrics' ladder frame (capability, week, internal, vendor, unattributed, bots, share, stage,
    planned, behind). Capabilities keep their order of appearance (the engagement file's order).
    Plotly cannot select heatmap cells (streamlit/streamlit#8760), so an invisible marker sits on every cell:
    clicking it selects the point (x = week, y = capability) and its hover text is the cell's.
    """
    capabilities = list(dict.fromkeys(ladder_rows["capability"]))
    weeks = sorted({int(w) for w in ladder_rows["week"]})
    cells = {(r.capability, int(r.week)): r for r in ladder_rows.itertuples(index=False)}
    z, text, hover = [], [], []
    for cap in capabilities:
        z_row, text_row, hover_row = [], [], []
        for w in weeks:
            r = cells.get((cap, w))
            if r is None:
                z_row.append(None)
                text_row.append("")
                hover_row.append(f"{html.escape(str(cap))} · week {w}: no data")
                continue
            z_row.append(None if _missing(r.stage) else float(r.stage))
            text_row.append(_cell_text(r.stage, r.planned, bool(r.behind)))
            hover_row.append(_cell_hover(r, start))
        z.append(z_row)
        text.append(text_row)
        hover.append(hover_row)
    fig = go.Figure(go.Heatmap(
        z=z, x=weeks, y=capabilities, text=text, texttemplate="%{text}", hoverinfo="skip",
        zmin=-0.5, zmax=4.5, colorscale=_stage_colourscale(),
        xgap=3, ygap=3, hoverongaps=True, textfont={"size": 12},
        colorbar={"title": {"text": "Measured stage", "side": "top"}, "tickvals": list(STAGE_NAMES),
                  "ticktext": [f"{s} {n}" for s, n in STAGE_NAMES.items()], "orientation": "h",
                  "y": -0.24, "yanchor": "top", "x": 0.5, "xanchor": "center", "len": 1, "thickness": 14},
    ))
    fig.add_trace(go.Scatter(
        x=[w for _ in capabilities for w in weeks], y=[c for c in capabilities for _ in weeks], mode="markers",
        marker={"symbol": "square", "size": 40, "opacity": 0}, selected={"marker": {"opacity": 0}},
        unselected={"marker": {"opacity": 0}}, hovertext=[h for row in hover for h in row],
        hovertemplate="%{hovertext}<extra></extra>", showlegend=False, name="cells",
    ))
    shapes = []  # set at once: plotly validates every add_shape call, which costs more than the whole chart
    for yi, cap in enumerate(capabilities):
        for w in weeks:
            r = cells.get((cap, w))
            if r is not None and bool(r.behind):
                shapes.append({"type": "rect", "x0": w - 0.47, "x1": w + 0.47, "y0": yi - 0.45, "y1": yi + 0.45,
                               "line": {"color": BEHIND_COLOUR, "width": 3}, "layer": "above"})
            if selected == (cap, w):
                shapes.append({"type": "rect", "x0": w - 0.5, "x1": w + 0.5, "y0": yi - 0.5, "y1": yi + 0.5,
                               "line": {"color": "#111111", "width": 3, "dash": "dot"}, "layer": "above",
                               "name": "selected"})
    fig.update_layout(shapes=shapes)
    _week_axis(fig, weeks)
    fig.update_yaxes(title_text="Capability", autorange="reversed", type="category", automargin=True)
    # Long capability names must not be clipped (issue 10): a left margin wide enough for the longest one.
    left = 40 + 8 * max((len(str(c)) for c in capabilities), default=0)
    fig.update_layout(height=200 + 60 * len(capabilities), margin={"l": left, "r": 10, "t": 20, "b": 10},
                      plot_bgcolor="#f3f3f3", font=_FONT, hovermode="closest", dragmode=False)
    fig.update_xaxes(range=[min(weeks) - 0.5, max(weeks) + 0.5] if weeks else None, showgrid=False, zeroline=False)
    return fig


def sides_timeline(roster: pd.DataFrame, start: dt.date, weeks: int) -> go.Figure:
    """People × date ranges coloured by side; open-ended affiliations run to the chart's edges.

    `roster`: metrics.people.roster_table (person, side, org, from, until, identities).
    """
    first = start - dt.timedelta(days=7)  # leave room for the baseline week
    end = start + dt.timedelta(days=7 * weeks)
    frame = roster.copy()
    frame["side"] = frame["side"].fillna("no affiliation")
    frame["org"] = frame["org"].fillna("")
    frame["from_shown"] = [("open" if _missing(f) else str(f)) for f in frame["from"]]
    frame["until_shown"] = [("open" if _missing(u) else str(u)) for u in frame["until"]]
    frame["bar_start"] = [pd.Timestamp(first if _missing(f) else min(f, end)) for f in frame["from"]]
    frame["bar_end"] = [pd.Timestamp(end if _missing(u) else max(u, first)) for u in frame["until"]]
    colours = {**SIDE_COLOURS, "no affiliation": SIDE_COLOURS["unattributed"]}
    import plotly.express as px  # only here: importing plotly.express costs ~0.5 s (the pack never needs it)

    fig = px.timeline(
        frame, x_start="bar_start", x_end="bar_end", y="person", color="side", color_discrete_map=colours,
        hover_name="person", hover_data={"side": True, "org": True, "from_shown": True, "until_shown": True,
                                         "bar_start": False, "bar_end": False, "person": False},
        labels={"from_shown": "from (inclusive)", "until_shown": "until (exclusive)", "person": "Person"},
        category_orders={"person": list(dict.fromkeys(frame["person"]))},
    )
    fig.update_yaxes(title_text="")
    ticks = [start + dt.timedelta(days=7 * (w - 1)) for w in range(1, weeks + 1)]
    fig.update_xaxes(range=[pd.Timestamp(first), pd.Timestamp(end)], tickmode="array",
                     tickvals=[pd.Timestamp(t) for t in ticks],
                     ticktext=[f"W{w}<br>{t:%b %-d}" for w, t in enumerate(ticks, start=1)],
                     title_text="Engagement week (start date)")
    fig.add_shape(type="line", x0=pd.Timestamp(start), x1=pd.Timestamp(start), y0=0, y1=1, yref="paper",
                  line={"color": "#555", "dash": "dot"})
    fig.update_layout(height=120 + 36 * max(1, frame["person"].nunique()), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend_title_text="Side", font=_FONT)
    return fig


def value_figure(rows: pd.DataFrame, start: dt.date, y_title: str, target: float | None = None,
                 p90: bool = False, target_text: str | None = None) -> go.Figure:
    """Weekly values as bars (a count or hours), `p90` as markers when asked, the target as a dashed line.

    `rows`: one row per week with columns week, value (NaN when none), n, and p90 when `p90`."""
    rows = rows.sort_values("week")
    weeks = [int(w) for w in rows["week"]]
    hover = [f"<b>Week {w}</b> ({week_label(w, start)})<br>{y_title}: {'–' if _missing(v) else f'{v:.1f}'}"
             f"<br>n: {'–' if _missing(n) else int(n)}"
             for w, v, n in zip(weeks, rows["value"], rows["n"], strict=True)]
    fig = go.Figure(go.Bar(x=weeks, y=rows["value"], name="median" if p90 else y_title,
                           marker_color=SIDE_COLOURS["internal"], hovertext=hover,
                           hovertemplate="%{hovertext}<extra></extra>"))
    if p90:
        fig.add_trace(go.Scatter(x=weeks, y=rows["p90"], mode="markers", name="p90",
                                 marker={"symbol": "line-ew-open", "size": 18, "color": BEHIND_COLOUR}))
    if target is not None:
        fig.add_hline(y=target, line_dash="dash", line_color=BEHIND_COLOUR,
                      annotation_text=f"target {target_text or format(target, 'g')}", annotation_position="top left")
    _week_axis(fig, weeks)
    fig.update_yaxes(title_text=y_title, rangemode="tozero", automargin=True)
    fig.update_layout(height=340, margin={"l": 70, "r": 10, "t": 30, "b": 10}, showlegend=p90, font=_FONT)
    return fig


def kpi_figure(spec, rows: pd.DataFrame, target: float | None, start: dt.date) -> go.Figure:
    """The chart a KPI's spec asks for (`chart`): share bars in %, or values (count, hours) with p90 markers."""
    from metrics.kpis.base import axis_title, format_target

    if spec.chart == "share":
        return share_figure(rows, target, start, label=spec.label)
    return value_figure(rows, start, axis_title(spec), target, p90=spec.chart == "value_p90",
                        target_text=None if target is None else format_target(spec, target))
