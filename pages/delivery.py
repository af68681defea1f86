"""Delivery: internal PR, commit and review shares by week, with the PRs and reviews behind each week."""

import streamlit as st

from pages._shared.data import context
from pages._shared.kpi_view import kpi_section

ctx = context()
m = ctx.metrics()
st.title("Delivery")
source = m.github.pr_source if m.github is not None else "git"
kpi_section(ctx, m, "internal_pr_share", "Internal PR share",
            "PRs merged in the week (by merge time, into any base branch) authored by internal / by internal or "
            "vendor. Bots and deleted or unknown accounts are counted beside the share."
            + (" No GitHub source: merge commits (or first-parent commits) of the git history stand in for PRs."
               if source == "git" else ""))
kpi_section(ctx, m, "internal_commit_share", "Internal commit share",
            "Non-merge commits reachable from the tracked branch, by author date: internal / (internal + vendor).")
kpi_section(ctx, m, "internal_review_share", "Internal review share",
            "Approving reviews on merged PRs, in the week submitted, given by internal / by internal or vendor.")
