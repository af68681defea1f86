"""Quality gates: two-key compliance and evaluation coverage by week, with the rows behind each week."""

import streamlit as st

from pages._shared.data import context
from pages._shared.kpi_view import kpi_section

ctx = context()
m = ctx.metrics()
st.title("Quality gates")
kpi_section(ctx, m, "two_key_compliance", "Two-key compliance",
            "Merged PRs into the tracked branch approved by an internal person other than the author plus a second "
            "approver / all merged PRs into the tracked branch.")
kpi_section(ctx, m, "eval_coverage", "Evaluation coverage (tests)",
            "Automated evaluation tests: the testcases in the JUnit reports of the week's latest run of the "
            "configured JUnit workflows when there is one, else the test functions under the evaluation paths as "
            "the branch stood at the end of the week.", y_title="tests")
