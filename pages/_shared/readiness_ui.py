"""The vendor-exit tables (SPEC §10) drawn the same way on the Readiness page and in the weekly review: per
capability exit readiness, bus factor (red at 1 or 0), internal line share and takeover; the operations not
covered, in red, with the last vendor who did them; planned vs actual RACI with drift in red. Data from
metrics.readiness; this module only renders."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics.readiness import BOARD_LABELS, RACI_LABELS, UNCOVERED_LABELS

RED = "color: #b91c1c; font-weight: 600"


def exit_board(board: pd.DataFrame, min_people: int, window_weeks: int, key: str) -> None:
    styled = board.style.map(lambda v: RED if pd.notna(v) and v <= 1 else "", subset=["bus_factor"])
    st.dataframe(styled, hide_index=True, key=key, column_config={
        **BOARD_LABELS,
        "exit_readiness": st.column_config.ProgressColumn(
            BOARD_LABELS["exit_readiness"], min_value=0.0, max_value=1.0, format="percent",
            help=f"Operations at least {min_people} internal people did unassisted in the last {window_weeks} weeks"),
        "bus_factor": st.column_config.NumberColumn(
            BOARD_LABELS["bus_factor"], help="The fewest internal people over the capability's operations"),
        "line_share": st.column_config.NumberColumn(
            BOARD_LABELS["line_share"], format="percent",
            help="Lines of the branch at the week's end last changed by internal authors (git blame)")})
    st.caption("Bus factor 1 or 0 in red: one person (or nobody) internal stands between the capability and the "
               "vendor. Takeover: the week the ladder reached stage 3 and stayed there.")


def uncovered_table(uncovered: pd.DataFrame, key: str) -> None:
    if uncovered.empty:
        st.success("Every operation of every capability is covered.")
    else:
        st.dataframe(uncovered.style.map(lambda _v: RED), hide_index=True, key=key, column_config=UNCOVERED_LABELS)


def raci_table(raci: pd.DataFrame, planned: bool, week: int, key: str) -> None:
    if not planned:
        st.info("No RACI plan: add [raci.<capability>] tables (responsible / accountable from a week on) to the "
                "engagement file.")
    elif raci.empty:
        st.caption(f"No RACI row in week {week}.")
    else:
        st.dataframe(raci.style.map(lambda v: RED if v == "DRIFT" else "", subset=["status"]), hide_index=True,
                     key=key, column_config=RACI_LABELS)
        st.caption("Responsible: the side with most authored items (commits, merged PRs, runs, runbook executions). "
                   "Accountable: most approvals, merges of others' branches, deploys and milestone signatures.")
