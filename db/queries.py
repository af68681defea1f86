"""Query functions: each returns a DataFrame (or a scalar) and takes an engine; SQL uses bound parameters."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from db.models import (
    ArtifactFile,
    ChecklistItem,
    CollectionRun,
    Commit,
    CommitFile,
    Cursor,
    EvalTestCount,
    GitBlameLines,
    GitHubPullRequest,
    GitHubPullRequestFile,
    GitHubReview,
    GitHubWorkflowRun,
    GitLabApproval,
    GitLabJob,
    GitLabMergeRequest,
    GitLabMergeRequestFile,
    GitLabPipeline,
    GitTree,
    GitTreeFile,
    GitWeekEnd,
    Identity,
    JUnitRun,
    MlflowExperiment,
    MlflowModelVersion,
    MlflowRegistryEvent,
    MlflowRun,
    Source,
    SourceLock,
    Tag,
    Ticket,
    TicketEvent,
    WeekEndCommit,
)
from db.reads import read_frame
from db.runs import lock_held


def _frame(engine: Engine, stmt, utc_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Columnar read (db/reads.py, ADBC -> Arrow -> pandas): no Python object per row; same frame as fetchall."""
    return read_frame(engine, stmt, utc_columns)


def _in_sources(stmt, column, source_names: Sequence[str] | None):
    if source_names:
        stmt = stmt.where(column.in_(select(Source.id).where(Source.name.in_(list(source_names)))))
    return stmt


def data_version(engine: Engine) -> tuple[int, str]:
    """(newest run id, its status and end time): changes when a run starts AND when it ends, so a cache
    keyed by it reloads data that was read while a collection was still writing."""
    stmt = (select(CollectionRun.id, CollectionRun.status, CollectionRun.finished_at)
            .order_by(CollectionRun.id.desc()).limit(1))
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    return (0, "") if row is None else (int(row.id), f"{row.status}@{row.finished_at}")


def load_sources(engine: Engine) -> pd.DataFrame:
    return _frame(engine, select(Source.id, Source.kind, Source.name, Source.key).order_by(Source.id))


def load_commits(engine: Engine, source_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Commits with their repository name; `at` is the author date (UTC), the date commits are bucketed by."""
    stmt = (
        select(Commit.source_id, Source.name.label("repo"), Commit.sha, Commit.parents, Commit.is_merge,
               Commit.author_name.label("name"), Commit.author_email.label("email"),
               Commit.authored_at.label("at"), Commit.author_tz_minutes, Commit.committer_name,
               Commit.committer_email, Commit.committed_at, Commit.subject, Commit.co_authors,
               Commit.files_changed, Commit.lines_added, Commit.lines_deleted)
        .join(Source, Source.id == Commit.source_id)
        .order_by(Commit.authored_at, Commit.sha)
    )
    return _frame(engine, _in_sources(stmt, Commit.source_id, source_names), ["at", "committed_at"])


def load_commit_files(engine: Engine, source_names: Sequence[str] | None = None) -> pd.DataFrame:
    stmt = select(CommitFile.source_id, CommitFile.sha, CommitFile.path, CommitFile.old_path, CommitFile.added,
                  CommitFile.deleted, CommitFile.binary)
    return _frame(engine, _in_sources(stmt, CommitFile.source_id, source_names))


def load_tags(engine: Engine, source_names: Sequence[str] | None = None) -> pd.DataFrame:
    stmt = select(Tag.source_id, Tag.name, Tag.sha, Tag.tagged_at.label("at"), Tag.tagger_name, Tag.tagger_email)
    return _frame(engine, _in_sources(stmt, Tag.source_id, source_names), ["at"])


def load_identities(engine: Engine) -> pd.DataFrame:
    return _frame(engine, select(Identity.kind, Identity.value, Identity.display_name).order_by(Identity.value))


def load_runs(engine: Engine, limit: int = 200) -> pd.DataFrame:
    """Newest collection runs first, with their source."""
    stmt = (
        select(CollectionRun.id, Source.kind, Source.name.label("source"), CollectionRun.status,
               CollectionRun.started_at, CollectionRun.finished_at, CollectionRun.items_seen,
               CollectionRun.items_written, CollectionRun.items_removed, CollectionRun.cursor_before,
               CollectionRun.cursor_after, CollectionRun.error)
        .join(Source, Source.id == CollectionRun.source_id)
        .order_by(CollectionRun.id.desc())
        .limit(limit)
    )
    return _frame(engine, stmt, ["started_at", "finished_at"])


def load_runs_in_progress(engine: Engine) -> pd.DataFrame:
    """Runs logged 'running', oldest first, with their progress so far (SPEC §8: a collection in progress shows a
    progress bar in the UI) and `live`: whether their source's collection lock is held by a live process
    (db/runs.py lock_held). A run that is not live was left 'running' by a process that died; the source's
    next collection marks it abandoned."""
    r, lock = CollectionRun, SourceLock
    stmt = (select(r.id, Source.kind, Source.name.label("source"), r.source_id, r.started_at, r.progress_at,
                   r.items_seen, r.items_written, r.items_removed, r.progress_done, r.progress_total,
                   r.progress_unit, lock.pid, lock.host, lock.process_start)
            .join(Source, Source.id == r.source_id)
            .outerjoin(lock, lock.source_id == r.source_id)
            .where(r.status == "running")
            .order_by(r.id))
    runs = _frame(engine, stmt, ["started_at", "progress_at"])
    with engine.connect() as conn:
        # One liveness check per running run (a process or pg_locks look-up, not SQL over rows): a handful at most.
        live = [lock_held(conn, int(row.source_id), None if pd.isna(row.pid) else
                          (int(row.pid), row.host, row.process_start)) for row in runs.itertuples()]
    return runs.drop(columns=["pid", "host", "process_start"]).assign(live=pd.Series(live, index=runs.index,
                                                                                     dtype=bool))


def load_run(engine: Engine, run_id: int) -> pd.DataFrame:
    """One collection run with its source (one row, none when there is no such run)."""
    stmt = (select(CollectionRun.id, Source.kind, Source.name.label("source"), CollectionRun.status,
                   CollectionRun.started_at, CollectionRun.finished_at, CollectionRun.items_seen,
                   CollectionRun.items_written, CollectionRun.items_removed, CollectionRun.error)
            .join(Source, Source.id == CollectionRun.source_id)
            .where(CollectionRun.id == run_id))
    return _frame(engine, stmt, ["started_at", "finished_at"])


def load_cursors(engine: Engine) -> pd.DataFrame:
    stmt = (select(Source.kind, Source.name.label("source"), Cursor.stream, Cursor.value, Cursor.updated_at)
            .join(Source, Source.id == Cursor.source_id).order_by(Source.name, Cursor.stream))
    return _frame(engine, stmt, ["updated_at"])


def load_source_frames(engine: Engine, source_names: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """The frames metrics.engagement.SourceData holds, optionally for some repositories only."""
    return {
        "commits": load_commits(engine, source_names),
        "commit_files": load_commit_files(engine, source_names),
        "tickets": load_tickets(engine, source_names),
        "ticket_events": load_ticket_events(engine, source_names),
        "checklist_items": load_checklist_items(engine, source_names),
        **load_github_frames(engine, source_names),
        **load_gitlab_frames(engine, source_names),
        **load_mlflow_frames(engine, source_names),
        **load_binder_frames(engine, source_names),
        **load_surviving_lines(engine, source_names),
        "signatures": load_all_signatures(engine),
    }


def load_binder_frames(engine: Engine, source_names: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """The week-end commit of each (git source, week) and the binder artifact files of its tree (SPEC §11)."""
    w, a = WeekEndCommit, ArtifactFile
    ends = (select(w.source_id, Source.name.label("repo"), w.week, w.sha, w.committed_at)
            .join(Source, Source.id == w.source_id).order_by(w.source_id, w.week))
    files = select(a.source_id, a.week, a.path, a.changes).order_by(a.source_id, a.week, a.path)
    return {"week_ends": _frame(engine, _in_sources(ends, w.source_id, source_names), ["committed_at"]),
            "artifact_files": _frame(engine, _in_sources(files, a.source_id, source_names))}


def load_surviving_lines(engine: Engine, source_names: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """The surviving lines of every complete week-end tree (SPEC §10 internal_line_share), as stored:

    - `surviving_files`: one row per (source, week-end instant, path) of the tree at that instant, with the
      commit (`blamed_at`) whose `git_blame_lines` hold the file's blame (the same blame serves every tree that
      holds the same file content);
    - `surviving_blame`: those blame rows, one per (source, blamed_at, path, blamed commit) with the commit's
      recorded author, author date (UTC) and line count.

    Never joined here: the join is many times the stored rows (ipython: 370k from 42k; sympy: 2.8M from 173k,
    which took 2.3 GB in pandas). metrics/surviving.py sums per file first, and expands one week at a time."""
    we, t, f, b = GitWeekEnd, GitTree, GitTreeFile, GitBlameLines
    files = (select(we.source_id, Source.name.label("repo"), we.ends_at, we.sha, f.path, f.blamed_at)
             .join(Source, Source.id == we.source_id)
             .join(t, (t.source_id == we.source_id) & (t.sha == we.sha))
             .join(f, (f.source_id == we.source_id) & (f.sha == we.sha))
             .where(f.blamed_at.is_not(None)))
    blame = select(b.source_id, b.blamed_at, b.path, b.commit, b.author_name.label("name"),
                   b.author_email.label("email"), b.authored_at.label("at"), b.lines)
    return {"surviving_files": _frame(engine, _in_sources(files, we.source_id, source_names), ["ends_at"]),
            "surviving_blame": _frame(engine, _in_sources(blame, b.source_id, source_names), ["at"])}


def load_all_signatures(engine: Engine) -> pd.DataFrame:
    """Every milestone signature and revocation in the ledger (all engagements, keyed by engagement id; the
    metrics keep their own), oldest first: accountability evidence for raci_drift (SPEC §10). Signatures that
    do not count (unverified once login is required, db.review_store) are left out."""
    from db.ledger import entries
    from db.review_store import load_signatures

    columns = ["id", "engagement", "milestone", "action", "revokes_id", "name", "email", "claimed_side", "at"]
    engagements = sorted({e.engagement for e in entries(engine, kinds=("sign", "revoke")) if e.engagement})
    frames = [load_signatures(engine, engagement) for engagement in engagements]
    frames = [f[f["counted"]] for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True).rename(columns={"signer": "name", "side": "claimed_side",
                                                               "signed_at": "at"})
    return out[columns].sort_values("id", kind="stable").reset_index(drop=True)


def load_tickets(engine: Engine, source_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Tickets with their source's name and kind (jira | github); times UTC."""
    stmt = (select(Ticket.source_id, Source.name.label("repo"), Source.kind.label("source_kind"),
                   *[c for c in Ticket.__table__.columns if c.name != "source_id"])
            .join(Source, Source.id == Ticket.source_id).order_by(Ticket.created_at, Ticket.key))
    return _frame(engine, _in_sources(stmt, Ticket.source_id, source_names),
                  ["created_at", "updated_at", "resolved_at"])


def load_ticket_events(engine: Engine, source_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Ticket events with the identity columns metrics.identity.attribute reads (name, email, login, jira_id,
    source_bot); a change with no author (a system change) counts as a bot."""
    e = TicketEvent
    stmt = (select(e.source_id, Source.kind.label("source_kind"), e.ticket_key, e.event_id, e.kind, e.at,
                   e.tz_minutes, e.actor_name.label("name"), e.actor_email.label("email"),
                   e.actor_login.label("login"), e.actor_jira_id.label("jira_id"),
                   (e.actor_bot | e.actor_system).label("source_bot"), e.actor_system, e.from_id, e.from_name,
                   e.from_category, e.to_id, e.to_name, e.to_category, e.body)
            .join(Source, Source.id == e.source_id).order_by(e.at, e.ticket_key, e.event_id))
    return _frame(engine, _in_sources(stmt, e.source_id, source_names), ["at"])


def load_checklist_items(engine: Engine, source_names: Sequence[str] | None = None) -> pd.DataFrame:
    c = ChecklistItem
    stmt = (select(c.source_id, c.ticket_key, c.position, c.level, c.text, c.checked, c.checked_at,
                   c.checked_by_name, c.checked_by_login, c.checked_by_jira_id)
            .order_by(c.source_id, c.ticket_key, c.position))
    return _frame(engine, _in_sources(stmt, c.source_id, source_names), ["checked_at"])


def load_pull_requests(engine: Engine, source_names: Sequence[str] | None = None) -> pd.DataFrame:
    """GitHub pull requests with their repository name; times UTC."""
    t = GitHubPullRequest
    stmt = (select(t.source_id, Source.name.label("repo"), t.number, t.title, t.state, t.html_url, t.author_login,
                   t.author_id, t.author_type, t.created_at, t.updated_at, t.closed_at, t.merged_at, t.base_ref,
                   t.head_ref, t.merge_commit_sha, t.labels)
            .join(Source, Source.id == t.source_id).order_by(t.source_id, t.number))
    return _frame(engine, _in_sources(stmt, t.source_id, source_names),
                  ["created_at", "updated_at", "closed_at", "merged_at"])


def load_pr_files(engine: Engine, source_names: Sequence[str] | None = None) -> pd.DataFrame:
    t = GitHubPullRequestFile
    stmt = select(t.source_id, t.number, t.path, t.previous_path)
    return _frame(engine, _in_sources(stmt, t.source_id, source_names))


def load_reviews(engine: Engine, source_names: Sequence[str] | None = None) -> pd.DataFrame:
    t = GitHubReview
    stmt = (select(t.source_id, t.number, t.review_id, t.reviewer_login, t.reviewer_id, t.reviewer_type, t.state,
                   t.submitted_at, t.commit_id, t.html_url).order_by(t.source_id, t.review_id))
    return _frame(engine, _in_sources(stmt, t.source_id, source_names), ["submitted_at"])


def load_workflow_runs(engine: Engine, source_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Every stored attempt of every Actions run, with its repository name; times UTC."""
    t = GitHubWorkflowRun
    stmt = (select(t.source_id, Source.name.label("repo"), t.run_id, t.run_attempt, t.workflow_path, t.name,
                   t.display_title, t.event, t.actor_login, t.actor_type, t.triggering_login, t.triggering_type,
                   t.head_sha, t.head_branch, t.status, t.conclusion, t.created_at, t.run_started_at, t.updated_at,
                   t.html_url)
            .join(Source, Source.id == t.source_id).order_by(t.created_at, t.run_id, t.run_attempt))
    return _frame(engine, _in_sources(stmt, t.source_id, source_names),
                  ["created_at", "run_started_at", "updated_at"])


def load_github_frames(engine: Engine, source_names: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """PRs, their files and reviews, workflow runs and git tags (data cuts can be tags)."""
    return {
        "pull_requests": load_pull_requests(engine, source_names),
        "pr_files": load_pr_files(engine, source_names),
        "reviews": load_reviews(engine, source_names),
        "workflow_runs": load_workflow_runs(engine, source_names),
        "tags": load_tags(engine, source_names),
        "eval_tests": load_eval_tests(engine, source_names),
        "junit_runs": load_junit_runs(engine, source_names),
    }


def load_eval_tests(engine: Engine, source_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Evaluation test counts per (source, commit, file): the count after each first-parent commit of the
    tracked branch that changed the file, in branch order (`seq`); metrics/junit.py buckets them by week."""
    t = EvalTestCount
    stmt = select(t.source_id, t.sha, t.path, t.seq, t.committed_at, t.tests).order_by(t.source_id, t.seq, t.path)
    return _frame(engine, _in_sources(stmt, t.source_id, source_names), ["committed_at"])


def load_junit_runs(engine: Engine, source_names: Sequence[str] | None = None) -> pd.DataFrame:
    """JUnit report counts per examined Actions run (runs without a report included); times UTC."""
    t, r = JUnitRun, GitHubWorkflowRun
    stmt = (select(t.source_id, Source.name.label("repo"), t.run_id, t.run_attempt, t.workflow_path, t.completed_at,
                   t.artifacts, t.reports, t.tests, t.failures, t.skipped, t.problems, r.html_url)
            .join(Source, Source.id == t.source_id)
            .outerjoin(r, (r.source_id == t.source_id) & (r.run_id == t.run_id) & (r.run_attempt == t.run_attempt))
            .order_by(t.source_id, t.completed_at, t.run_id))
    return _frame(engine, _in_sources(stmt, t.source_id, source_names), ["completed_at"])


# --- GitLab and MLflow (SPEC §12) ----------------------------------------------------------------------------------
def load_gitlab_frames(engine: Engine, source_names: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """GitLab merge requests (with their project name as `repo`), approvals, changed files, pipelines and jobs."""
    mr, ap, fl, pl, jb = GitLabMergeRequest, GitLabApproval, GitLabMergeRequestFile, GitLabPipeline, GitLabJob
    mrs = (select(mr.source_id, Source.name.label("repo"), mr.iid, mr.title, mr.state, mr.web_url, mr.author_username,
                  mr.author_id, mr.author_name, mr.merge_username, mr.created_at, mr.updated_at, mr.closed_at,
                  mr.merged_at, mr.target_branch, mr.source_branch, mr.merge_commit_sha, mr.labels)
           .join(Source, Source.id == mr.source_id).order_by(mr.source_id, mr.iid))
    approvals = select(ap.source_id, ap.iid, ap.user_id, ap.username, ap.name, ap.approved_at, ap.approved_at_source,
                       ap.note_id).order_by(ap.source_id, ap.iid, ap.user_id)
    pipelines = (select(pl.source_id, Source.name.label("repo"), *[c for c in pl.__table__.columns
                                                                   if c.name != "source_id"])
                 .join(Source, Source.id == pl.source_id).order_by(pl.created_at, pl.pipeline_id))
    jobs = select(jb.source_id, jb.pipeline_id, jb.job_id, jb.name, jb.stage, jb.status).order_by(jb.job_id)
    return {
        "gitlab_merge_requests": _frame(engine, _in_sources(mrs, mr.source_id, source_names),
                                        ["created_at", "updated_at", "closed_at", "merged_at"]),
        "gitlab_approvals": _frame(engine, _in_sources(approvals, ap.source_id, source_names), ["approved_at"]),
        "gitlab_mr_files": _frame(engine, _in_sources(select(fl.source_id, fl.iid, fl.path, fl.old_path),
                                                      fl.source_id, source_names)),
        "gitlab_pipelines": _frame(engine, _in_sources(pipelines, pl.source_id, source_names),
                                   ["created_at", "updated_at", "started_at", "finished_at"]),
        "gitlab_jobs": _frame(engine, _in_sources(jobs, jb.source_id, source_names)),
    }


def load_mlflow_frames(engine: Engine, source_names: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """MLflow runs (with their experiment's name), model versions and registry changes; times UTC."""
    r, x, v, e = MlflowRun, MlflowExperiment, MlflowModelVersion, MlflowRegistryEvent
    runs = (select(r.source_id, Source.name.label("repo"), x.name.label("experiment"),
                   *[c for c in r.__table__.columns if c.name not in ("source_id", "params", "metrics")])
            .join(Source, Source.id == r.source_id)
            .outerjoin(x, (x.source_id == r.source_id) & (x.experiment_id == r.experiment_id))
            .order_by(r.start_time, r.run_id))
    versions = (select(v.source_id, Source.name.label("repo"), *[c for c in v.__table__.columns
                                                                 if c.name != "source_id"])
                .join(Source, Source.id == v.source_id).order_by(v.source_id, v.model, v.version))
    events = select(*e.__table__.columns).order_by(e.source_id, e.model, e.target, e.seq)
    return {
        "mlflow_runs": _frame(engine, _in_sources(runs, r.source_id, source_names), ["start_time", "end_time"]),
        "mlflow_model_versions": _frame(engine, _in_sources(versions, v.source_id, source_names),
                                        ["created_at", "updated_at"]),
        "mlflow_registry_events": _frame(engine, _in_sources(events, e.source_id, source_names),
                                         ["at", "window_start", "window_end"]),
    }
