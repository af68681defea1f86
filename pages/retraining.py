"""Retraining: the KPIs whose spec names this page (internal train share, time to retrain), each with its chart and
the rows behind the chosen week (`?week=N` preselects it)."""

import streamlit as st

from pages._shared.data import context
from pages._shared.kpi_view import kpi_page

ctx = context()
m = ctx.metrics()
st.title("Retraining")
kpi_page(ctx, m, "retraining")
