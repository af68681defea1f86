"""Sources: what the engagement file says to collect, every collection run, where each source resumes, who may
do what (roles), and the audit log (SPEC §9: every signature, freeze, role change, purge and export).

Stored errors and URLs are shown through engagement.redact (no password, token or Authorization value)."""

import pandas as pd
import streamlit as st

from db import queries, review_store
from engagement.redact import redact, redact_url
from pages._shared.access import ROLES, access, allowed, check_now
from pages._shared.data import context

ctx = context()
cfg, tz = ctx.cfg, ctx.cfg.engagement.timezone

st.title("Sources")
st.caption(f"Engagement file: {ctx.config_path} · Database: {ctx.db_label}")

st.subheader("Configured sources")
configured = pd.DataFrame(
    [{"kind": "git", "name": s.display_name, "location": str(cfg.resolve_path(s.path)), "branch / query": s.branch,
      "credentials from": ""} for s in cfg.sources.git]
    + [{"kind": "github", "name": s.repo, "location": redact_url(s.base_url), "branch / query": "",
        "credentials from": f"${s.token_env}"} for s in cfg.sources.github]
    + [{"kind": "jira", "name": s.base_url, "location": redact_url(s.base_url), "branch / query": s.jql,
        "credentials from": ", ".join(f"${v}" for v in (s.email_env, s.token_env) if v)} for s in cfg.sources.jira]
    + [{"kind": "gitlab", "name": str(s.project), "location": redact_url(s.base_url), "branch / query": "",
        "credentials from": f"${s.token_env}"} for s in cfg.sources.gitlab]
    + [{"kind": "mlflow", "name": s.display_name, "location": redact_url(s.tracking_uri),
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
    shown = runs.assign(error=runs["error"].map(lambda e: None if e is None else redact(e)),
                        started_at=runs["started_at"].dt.tz_convert(tz),
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


st.subheader("Access")
roles = review_store.load_roles(ctx.engine)
login_required = review_store.login_required(ctx.engine)
st.caption("Who may do what when login is configured: viewer (reads), editor (freezes, roles), signer (signs "
           "milestones). " + ("Login is required for this database: only signatures by logged-in users count."
                              if login_required else "Login has not been required for this database yet."))
if roles.empty:
    st.info("No roles granted yet.")
else:
    st.dataframe(roles, hide_index=True, key="roles", column_config={
        "granted_at": st.column_config.DatetimeColumn("granted (UTC)", format="YYYY-MM-DD HH:mm")})


def _grant() -> None:
    """Button callback: grant roles, after re-reading the granter's role from the DB."""
    granter = check_now(ctx.engine, "editor")
    if granter is None:
        st.session_state["_grant_message"] = ("error", "Granting roles needs the editor role.")
        return
    email = str(st.session_state.get("grant_email") or "").strip().lower()
    chosen = [r for r in ROLES if r in (st.session_state.get("grant_roles") or [])]
    if "@" not in email:
        st.session_state["_grant_message"] = ("error", f"Expected an email address, got {email!r}.")
        return
    review_store.set_role(ctx.engine, email, ",".join(chosen), granted_by=granter.label if granter.login else
                          "local user (unverified)", granted_by_email=granter.email, verified=granter.verified,
                          witness=ctx.witness())
    done = f"Granted {', '.join(chosen)} to {email}." if chosen else f"Withdrew every role of {email}."
    st.session_state["_grant_message"] = ("success", done)


kind, message = st.session_state.pop("_grant_message", (None, None))
if kind:
    getattr(st, kind)(message)
if allowed("editor") and access().login:
    with st.form("grant", border=True):
        st.text_input("Login email", key="grant_email")
        st.multiselect("Roles (none: withdraw every role)", list(ROLES), key="grant_roles")
        st.form_submit_button("Grant", on_click=_grant, key="grant_submit")
elif access().login:
    st.caption("Granting roles needs the editor role.")

st.subheader("Audit log")
st.caption("Every signature, revocation, frozen week, role change, purge and export, newest first: an append-only, "
           "hash-chained log (`python -m metrics verify` re-checks it). A purge records that it happened, not whom "
           "it was about.")
audit = review_store.audit_log(ctx.engine)
if audit.empty:
    st.info("Nothing recorded yet.")
else:
    st.dataframe(audit.assign(at=audit["at"].dt.tz_convert(tz)), hide_index=True, key="audit", column_config={
        "at": st.column_config.DatetimeColumn(f"at ({tz})", format="YYYY-MM-DD HH:mm:ss"),
        "what": st.column_config.TextColumn(width="large")})
