"""Plotly figures of the Readiness page (SPEC §10): the competency matrix of a week (person x capability, level as
colour and text) and one person's progression over the weeks. Pure: frames in, figures out; no Streamlit."""

from __future__ import annotations

import datetime as dt
import html

import pandas as pd
import plotly.graph_objects as go

from engagement.weeks import week_label
from metrics.competency import LEVEL_NAMES
from metrics.report.figures import week_tick

LEVEL_COLOURS = ["#f2f2f2", "#c6dbef", "#6baed6", "#08519c"]  # none yet .. independent


def competency_figure(matrix: pd.DataFrame, week: int) -> go.Figure:
    """The week's matrix: one row per person, one column per capability, the level's name in each cell."""
    rows = matrix[matrix["week"] == week]
    people = list(dict.fromkeys(rows["person"]))
    caps = list(dict.fromkeys(rows["capability"]))
    grid = rows.pivot(index="person", columns="capability", values="level").reindex(index=people, columns=caps)
    count = rows.pivot(index="person", columns="capability", values="evidence_count").reindex(index=people,
                                                                                              columns=caps)
    side = rows.drop_duplicates("person").set_index("person")["side"].reindex(people)
    text = [[LEVEL_NAMES[int(v)] for v in grid.loc[p]] for p in people]
    hover = [[f"<b>{html.escape(p)}</b> ({html.escape(str(side[p]))}) · {html.escape(c)}<br>"
              f"{LEVEL_NAMES[int(grid.loc[p, c])]} · {int(count.loc[p, c])} evidence item(s) in the window"
              for c in caps] for p in people]
    scale = [[i / 3, colour] for i, colour in enumerate(LEVEL_COLOURS)]
    fig = go.Figure(go.Heatmap(z=grid.to_numpy(dtype=float), x=caps, y=[f"{p} ({side[p]})" for p in people],
                               text=text, texttemplate="%{text}", hovertext=hover, hoverinfo="text",
                               colorscale=scale, zmin=0, zmax=3, showscale=False, xgap=3, ygap=3))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title=f"Competency, week {week}", height=90 + 48 * max(len(people), 1),
                      margin={"l": 10, "r": 10, "t": 50, "b": 30}, font={"size": 13})
    return fig


def progression_figure(matrix: pd.DataFrame, person: str, start: dt.date) -> go.Figure:
    """A person's level per capability over the weeks (0 none yet .. 3 independent)."""
    rows = matrix[matrix["person"] == person].sort_values("week")
    fig = go.Figure()
    for cap, part in rows.groupby("capability", sort=False):
        weeks = [int(w) for w in part["week"]]
        fig.add_trace(go.Scatter(
            x=weeks, y=part["level"], mode="lines+markers", name=cap, line={"shape": "hv"},
            hovertext=[f"<b>Week {w}</b> ({week_label(w, start)})<br>{html.escape(cap)}: {LEVEL_NAMES[int(v)]} "
                       f"({int(n)} item(s))" for w, v, n in zip(weeks, part["level"], part["evidence_count"],
                                                               strict=True)],
            hoverinfo="text"))
    weeks = sorted({int(w) for w in rows["week"]})
    fig.update_xaxes(title_text="Engagement week", tickmode="array", tickvals=weeks,
                     ticktext=[week_tick(w) for w in weeks])
    fig.update_yaxes(title_text="Level", tickmode="array", tickvals=[0, 1, 2, 3],
                     ticktext=[LEVEL_NAMES[i] for i in range(4)], range=[-0.2, 3.2])
    fig.update_layout(title=f"Progression: {person}", height=360, margin={"l": 10, "r": 10, "t": 50, "b": 40},
                      font={"size": 13}, legend={"orientation": "h"})
    return fig
