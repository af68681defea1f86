"""The week picker of the review, ladder and milestones pages: `?week=N` deep links, and a clear message when N is
not one of the engagement's weeks instead of a silent fallback (issue 10 §5)."""

from __future__ import annotations

import streamlit as st


def week_select(container, weeks: list[int], key: str = "week", label: str = "Week", help: str | None = None) -> int:
    """A selectbox bound to `?<key>=N`; an N outside `weeks` (or not a number) is reported, then the default shown."""
    raw = st.query_params.get(key)
    if raw is not None:
        try:
            wanted = int(raw)
        except ValueError:
            wanted = None
        if wanted not in weeks:
            shown = f"{min(weeks)}–{max(weeks)}" if weeks else "none yet"
            st.warning(f"?{key}={raw} is not a week of this engagement (weeks with data: {shown}); showing week "
                       f"{weeks[0]} instead.", icon=":material/event_busy:")
            st.query_params[key] = str(weeks[0])
            st.session_state.pop(key, None)
    return container.selectbox(label, weeks, key=key, bind="query-params", format_func=str, help=help)
