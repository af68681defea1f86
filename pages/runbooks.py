"""Runbooks: executions per week, completion, unprompted-internal share, each execution's checklist and the
vendor interventions found (KPI runbook_completion, SPEC §5)."""

import streamlit as st

from db import queries
from metrics.report.ticket_figures import execution_table, interventions_table, runbook_weeks_figure
from pages._shared.data import context

ctx = context()
cfg, m = ctx.cfg, ctx.metrics()
tz = cfg.engagement.timezone
executions = m.runbook_executions

st.title("Runbooks")
st.caption(f"A runbook execution is a ticket labelled `{cfg.runbooks.label}` and `{cfg.runbooks.name_prefix}<name>`. "
           "It is **unprompted internal** when its executor (the assignee at completion) is internal and no "
           "vendor-side status change, comment or tick happened between start and completion.")
if executions.empty:
    st.info("No runbook executions collected yet. Label tickets in Jira or GitHub Issues and collect with:")
    st.code(ctx.collect_command(), language="bash")
else:
    names = sorted(executions["runbook"].unique())
    chosen = st.selectbox("Runbook", ["All runbooks", *names], key="runbook")
    shown = executions if chosen == "All runbooks" else executions[executions["runbook"] == chosen]
    done = shown[shown["completed_at"].notna()]
    attributed = int(done["executor_side"].isin(["internal", "vendor"]).sum())
    cols = st.columns(3)
    cols[0].metric("Executions", len(shown))
    cols[1].metric("Completed", len(done))
    cols[2].metric("Unprompted internal", f"{done['unprompted_internal'].sum() / attributed:.0%}" if attributed
                   else "–", help="unprompted internal / completions by internal or vendor executors")
    st.plotly_chart(runbook_weeks_figure(shown, cfg.engagement.start), key="runbook_weeks")
    table = execution_table(shown, tz)
    st.dataframe(table, hide_index=True, key="executions", column_config={
        "ticket": st.column_config.LinkColumn("ticket", display_text=r".*/(?:browse/|issues/)([^/]+)$"),
    })
    key = st.selectbox("Execution", list(shown["key"]), key="execution")
    row = shown[shown["key"] == key].iloc[0]
    left, right = st.columns(2)
    with left:
        st.markdown("**Checklist**")
        items = queries.load_checklist_items(ctx.engine)
        items = items[(items["source_id"] == row["source_id"]) & (items["ticket_key"] == key)]
        if items.empty:
            st.caption(f"No task-list items ({row['items_checked']}/{row['items_total']} sub-tasks done).")
        else:
            st.dataframe(items[["position", "level", "text", "checked", "checked_by_name"]], hide_index=True,
                         key="checklist")
    with right:
        st.markdown("**Vendor interventions**")
        if row["interventions"]:
            st.dataframe(interventions_table(row["interventions"], tz), hide_index=True, key="interventions")
        else:
            st.caption("None found between start and completion.")
