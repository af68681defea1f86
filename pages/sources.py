"""Sources: what the engagement file says to collect, every collection run, and where each source resumes."""

import pandas as pd
import streamlit as st

from db import queries
from pages._shared.data import context

ctx = context()
cfg, tz = ctx.cfg, ctx.cfg.engagement.timezone

st.title("Sources")
st.caption(f"Engagement file: {ctx.config_path} · Database: {ctx.db_label}")

st.subheader("Configured sources")
configured = pd.DataFrame(
    [{"kind": "git", "name": s.display_name, "location": str(cfg.resolve_path(s.path)), "branch / query": s.branch,
      "credentials from": ""} for s in cfg.sources.git]
    + [{"kind": "github", "name": s.repo, "location": s.base_url, "branch / query": "",
        "credentials from": f"${s.token_env}"} for s in cfg.sources.github]
    + [{"kind": "jira", "name": s.base_url, "location": s.base_url, "branch / query": s.jql,
        "credentials from": ", ".join(f"${v}" for v in (s.email_env, s.token_env) if v)} for s in cfg.sources.jira]
    + [{"kind": "gitlab", "name": str(s.project), "location": s.base_url, "branch / query": "",
        "credentials from": f"${s.token_env}"} for s in cfg.sources.gitlab]
    + [{"kind": "mlflow", "name": s.display_name, "location": s.tracking_uri,
        "branch / query": ", ".join(s.experiments),
        "credentials from": ", ".join(f"${v}" for v in (s.token_env, s.username_env, s.password_env) if v)}
       for s in cfg.sources.mlflow],
    columns=["kind", "name", "location", "branch / query", "credentials from"])
if configured.empty:
    st.info("The engagement file configures no sources: add [[sources.git]] with the path of a clone.")
else:
    st.dataframe(configured, hide_index=True, key="configured")

st.subheader("Collection runs")
runs = queries.load_runs(ctx.engine)
if runs.empty:
    st.info("No collection has run against this database yet. Collect with:")
    st.code(ctx.collect_command(), language="bash")
else:
    latest = runs.sort_values("id").groupby(["kind", "source"]).tail(1)
    failed = latest[~latest["status"].isin(["success", "running"])]
    if len(failed):
        st.warning(f"The latest run of {', '.join(failed['source'])} did not succeed ({', '.join(failed['status'])}): "
                   "see the error below; rerun the collection to resume.")
    shown = runs.assign(started_at=runs["started_at"].dt.tz_convert(tz),
                        finished_at=runs["finished_at"].dt.tz_convert(tz),
                        duration=(runs["finished_at"] - runs["started_at"]).dt.total_seconds())
    st.dataframe(shown[["id", "kind", "source", "status", "error", "started_at", "finished_at", "duration",
                        "items_seen", "items_written", "items_removed"]], hide_index=True, key="runs", column_config={
        "items_seen": st.column_config.NumberColumn("items seen"),
        "items_written": st.column_config.NumberColumn("items written"),
        "items_removed": st.column_config.NumberColumn("items removed"),
        "started_at": st.column_config.DatetimeColumn(f"started ({tz})", format="YYYY-MM-DD HH:mm:ss"),
        "finished_at": st.column_config.DatetimeColumn(f"finished ({tz})", format="YYYY-MM-DD HH:mm:ss"),
        "duration": st.column_config.NumberColumn("duration (s)", format="%.1f"),
    })

st.subheader("Cursors")
st.caption("Where each source's next collection resumes (git: the tip already ingested).")
cursors = queries.load_cursors(ctx.engine)
if cursors.empty:
    st.info("No cursors yet: the first collection of each source walks its whole history.")
else:
    st.dataframe(cursors.assign(updated_at=cursors["updated_at"].dt.tz_convert(tz)), hide_index=True, key="cursors",
                 column_config={"updated_at": st.column_config.DatetimeColumn(f"updated ({tz})",
                                                                               format="YYYY-MM-DD HH:mm:ss")})
