"""Quality gates: the KPIs whose spec names this page (two-key compliance, evaluation coverage), each with its chart
and the rows behind the chosen week (`?week=N` preselects it)."""

import streamlit as st

from pages._shared.data import context
from pages._shared.kpi_view import kpi_page

ctx = context()
m = ctx.metrics()
st.title("Quality gates")
kpi_page(ctx, m, "quality")
