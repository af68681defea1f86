"""Retraining: internal train share and time to retrain by week, with the runs and cycles behind each week."""

import streamlit as st

from pages._shared.data import context
from pages._shared.kpi_view import kpi_section

ctx = context()
m = ctx.metrics()
st.title("Retraining")
kpi_section(ctx, m, "internal_train_share", "Internal train share",
            "Runs of train workflows whose triggering actor (who started that attempt) is internal / internal or "
            "vendor; re-runs count, scheduled runs are counted apart.")
kpi_section(ctx, m, "time_to_retrain", "Time to retrain (hours)",
            "From a data cut to the completion of the first successful train run started after it; a newer cut "
            "before that train replaces the older one. Bars: weekly median; markers: p90.", y_title="hours")
