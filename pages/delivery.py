"""Delivery: the KPIs whose spec names this page (internal PR, commit and review shares), each with its chart and
the rows behind the chosen week (`?week=N` preselects it)."""

import streamlit as st

from pages._shared.data import context
from pages._shared.kpi_view import kpi_page

ctx = context()
m = ctx.metrics()
st.title("Delivery")
source = m.github.pr_source if m.github is not None else "git"
kpi_page(ctx, m, "delivery", notes={"internal_pr_share": "No GitHub source: merge commits (or first-parent commits) "
                                                         "of the git history stand in for PRs." if source == "git"
                                    else ""})
