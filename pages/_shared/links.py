"""Deep links (?week=N, ?milestone=M): a value the page cannot show is said on the page, never silently
replaced by the default (issue 9, item 8)."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st


def unknown_link_value(key: str, options: Sequence) -> str | None:
    """The raw `?key=` value of the URL when it names none of `options`, else None."""
    raw = st.query_params.get(key)
    if raw is None or raw in {str(o) for o in options}:
        return None
    return str(raw)


def warn_unknown_link(raw: str | None, options: Sequence, what: str, shown) -> None:
    """A warning naming the link's value (read before the widget, which resets the URL to what it shows),
    what exists, and what is shown instead."""
    if raw is None:
        return
    choices = [str(o) for o in options]
    listed = (f"{choices[-1]}–{choices[0]}" if all(c.lstrip("-").isdigit() for c in choices) and len(choices) > 2
              else ", ".join(choices))
    st.warning(f"The link asks for {what} {raw!r}, which this page does not have ({what}s: {listed}); showing "
               f"{what} {shown} instead.", icon=":material/link_off:")
