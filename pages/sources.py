"""Sources: what the engagement file says to collect, the collection in progress with its progress bar (SPEC §8),
every collection run, where each source resumes, who may do what (roles), and the audit log (SPEC §9: every
signature, freeze, role change, purge and export).

The collection in progress is a fragment that reads the run rows the collector updates with each committed page
(collectors/driver.py): every REFRESH_COLLECTING while a collection runs, every REFRESH_IDLE otherwise (to notice
one starting), and the whole page reruns when one starts or finishes, so the runs table and cursors follow. Reads
never wait for the collector: SQLite is in WAL mode and PostgreSQL readers take no row locks.

Stored errors and URLs are shown through engagement.redact (no password, token or Authorization value)."""

import datetime as dt

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

REFRESH_COLLECTING = dt.timedelta(seconds=2)
REFRESH_IDLE = dt.timedelta(seconds=15)
_WATCHED = "_sources_collecting"  # run id -> source label, of the runs this session has seen in progress
_FINISHED = "_sources_finished"  # (kind, message) of the runs it then saw finish


def _duration(seconds: float) -> str:
    """4 s, 2 min 05 s, 1 h 02 min: how long, as a person says it."""
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _local(at: pd.Timestamp) -> str:
    return f"{at.tz_convert(tz):%H:%M:%S}"


def _show_run_in_progress(run, now: pd.Timestamp) -> None:
    with st.container(border=True):
        st.markdown(f"**{run.kind} {run.source}** · started {_local(run.started_at)} · running for "
                    f"{_duration((now - run.started_at).total_seconds())}")
        done = 0 if pd.isna(run.progress_done) else int(run.progress_done)
        units = f"{run.progress_unit}s" if isinstance(run.progress_unit, str) else "items"
        if not pd.isna(run.progress_total) and run.progress_total > 0:
            total = int(run.progress_total)
            st.progress(min(done / total, 1.0), text=f"{done:,} of {total:,} {units} ({min(done / total, 1.0):.0%})")
        elif isinstance(run.progress_unit, str):
            st.markdown(f"{done:,} {units} so far (total not known in advance)")
        last = ("" if pd.isna(run.progress_at) else
                f"; last page committed {_duration((now - run.progress_at).total_seconds())} ago")
        st.caption(f"{run.items_seen:,} items read, {run.items_written:,} written, {run.items_removed:,} removed so "
                   f"far{last}.")


def _finished_message(run_id: int, label: str) -> tuple[str, str]:
    done = queries.load_run(ctx.engine, run_id)
    if done.empty:
        return "warning", f"The collection of {label} is no longer logged (its source was removed)."
    run = done.iloc[0]
    at = "" if pd.isna(run["finished_at"]) else f" at {_local(run['finished_at'])}"
    counts = f"{run['items_seen']:,} items read, {run['items_written']:,} written, {run['items_removed']:,} removed"
    if run["status"] == "success":
        return "success", f"The collection of {label} finished{at}: {counts}."
    if run["status"] == "running":  # its lock went without its end being logged (the database refused the write)
        return "warning", f"The collection of {label} stopped without logging its end: {counts} so far."
    return "warning", (f"The collection of {label} ended{at} ({run['status']}): {counts}; see its error in the "
                       "runs below.")


in_progress = queries.load_runs_in_progress(ctx.engine)
collecting_now = bool(in_progress["live"].any())


@st.fragment(run_every=REFRESH_COLLECTING if collecting_now else REFRESH_IDLE)
def collection_in_progress() -> None:
    """The runs in progress with their progress; a statement when one this session watched has finished."""
    runs = queries.load_runs_in_progress(ctx.engine)
    live = runs[runs["live"]]
    watched: dict[int, str] = st.session_state.setdefault(_WATCHED, {})
    finished: list[tuple[str, str]] = st.session_state.setdefault(_FINISHED, [])
    ended = [run_id for run_id in watched if run_id not in set(live["id"])]
    for run_id in ended:
        finished.append(_finished_message(run_id, watched.pop(run_id)))
    del finished[:-5]  # the last few are news; the runs table has them all
    watched.update({int(r.id): f"{r.kind} {r.source}" for r in live.itertuples()})
    if ended or bool(len(live)) != collecting_now:
        st.rerun()  # the whole page: the runs table and cursors follow, and the refresh interval changes
    for kind, message in finished:
        getattr(st, kind)(message)
    if len(live):
        st.subheader("Collection in progress")
        now = pd.Timestamp.now(tz="UTC")
        for run in live.itertuples():
            _show_run_in_progress(run, now)
    for run in runs[~runs["live"]].itertuples():
        st.caption(f"Run {run.id} of {run.kind} {run.source} is logged as running, but no process is collecting "
                   "it any more (it ended without logging its end: killed?); the next collection of the source "
                   "marks it abandoned.")


collection_in_progress()

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
