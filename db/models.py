"""The schema: SQLAlchemy 2 typed models. Alembic migrations in db/migrations must agree with it.

Times are stored as naive UTC datetimes (same on SQLite and PostgreSQL) with the original offset kept
in minutes beside them, so local times can be shown as they were recorded. Rows are keyed by their
natural keys, so collectors upsert and reruns never duplicate.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Source(Base):
    """A place data comes from: a git repository, a GitHub repository, a Jira query."""

    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))  # git | github | jira | mlflow | gitlab
    key: Mapped[str] = mapped_column(String(500))  # absolute repo path, owner/repo, base_url + jql
    name: Mapped[str] = mapped_column(String(200))  # short display name (repository filter)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Cursor(Base):
    """Resume point of one stream of a source (git: the tip sha last ingested)."""

    __tablename__ = "cursors"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    stream: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class CollectionRun(Base):
    """One run of one collector over one source, logged whatever its outcome."""

    __tablename__ = "collection_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20))  # running | success | failed | interrupted
    items_seen: Mapped[int] = mapped_column(Integer, default=0)
    items_written: Mapped[int] = mapped_column(Integer, default=0)
    items_removed: Mapped[int] = mapped_column(Integer, default=0)
    cursor_before: Mapped[str | None] = mapped_column(Text)
    cursor_after: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    # The progress bar of the current phase (SPEC §8: shown in the terminal and on the Sources page), updated with
    # the items_* counters in each committed page's transaction: units done, the expected total when the source
    # knows it (git: the rev-list count), what a unit is ("commit", "file"), and when the last page committed.
    progress_done: Mapped[int | None] = mapped_column(Integer)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    progress_unit: Mapped[str | None] = mapped_column(String(20))
    progress_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class SourceLock(Base):
    """Who is collecting a source right now (db/runs.py): one row per source while a collection holds it.

    On SQLite the row IS the lock (taken in BEGIN IMMEDIATE; a row whose process has ended on this host is
    stale and taken over); on PostgreSQL an advisory lock is the lock and the row says who holds it."""

    __tablename__ = "source_locks"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    token: Mapped[str] = mapped_column(String(64))  # this holder's random id
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    process_start: Mapped[str | None] = mapped_column(String(64))  # tells a reused pid from the holder
    acquired_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC


class Identity(Base):
    """An actor identity seen in a source: an email, a GitHub login or a Jira account id."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))  # email | github | jira
    value: Mapped[str] = mapped_column(String(320))  # lower-cased
    display_name: Mapped[str | None] = mapped_column(String(300))


class Commit(Base):
    """A commit reachable from a tracked branch; sides are computed at metric time, never stored."""

    __tablename__ = "commits"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    sha: Mapped[str] = mapped_column(String(64), primary_key=True)
    parents: Mapped[str] = mapped_column(Text, default="")  # space-separated shas
    is_merge: Mapped[bool] = mapped_column(Boolean, default=False)
    author_name: Mapped[str] = mapped_column(Text)
    author_email: Mapped[str] = mapped_column(Text)
    authored_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)  # UTC
    author_tz_minutes: Mapped[int] = mapped_column(Integer)
    committer_name: Mapped[str] = mapped_column(Text)
    committer_email: Mapped[str] = mapped_column(Text)
    committed_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC
    committer_tz_minutes: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(Text, default="")
    co_authors: Mapped[str] = mapped_column(Text, default="")  # "Name <email>" lines
    files_changed: Mapped[int] = mapped_column(Integer, default=0)
    lines_added: Mapped[int] = mapped_column(Integer, default=0)
    lines_deleted: Mapped[int] = mapped_column(Integer, default=0)


class CommitFile(Base):
    """Per-file line stats of a non-merge commit (numstat against its first parent)."""

    __tablename__ = "commit_files"
    __table_args__ = (
        ForeignKeyConstraint(
            ["source_id", "sha"], ["commits.source_id", "commits.sha"], ondelete="CASCADE",
            name="fk_commit_files_commit",
        ),
    )

    source_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    old_path: Mapped[str | None] = mapped_column(Text)  # set on renames
    added: Mapped[int | None] = mapped_column(Integer)  # None for binary files
    deleted: Mapped[int | None] = mapped_column(Integer)
    binary: Mapped[bool] = mapped_column(Boolean, default=False)


class Tag(Base):
    """A git tag and the commit it points to (data cuts can be tags)."""

    __tablename__ = "tags"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    sha: Mapped[str] = mapped_column(String(64))  # peeled commit
    tagged_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # tagger date, else commit date, UTC
    tz_minutes: Mapped[int | None] = mapped_column(Integer)
    tagger_name: Mapped[str | None] = mapped_column(Text)
    tagger_email: Mapped[str | None] = mapped_column(Text)



class GitWeekEnd(Base):
    """The tracked branch as of an instant (SPEC §10): the newest commit on its first-parent chain whose committer
    date is before `ends_at` (None: no commit yet). Keyed by the instant, not by a week number, so it does not
    depend on the engagement file; the readers map engagement weeks to their end instants."""

    __tablename__ = "git_week_ends"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime, primary_key=True)  # UTC
    sha: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class GitTree(Base):
    """A commit whose whole file tree is stored in `git_tree_files` (with every text file blamed): written last,
    so a tree without this row is an interrupted one that the next run completes."""

    __tablename__ = "git_trees"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    sha: Mapped[str] = mapped_column(String(64), primary_key=True)
    files: Mapped[int] = mapped_column(Integer)  # regular files (text and binary)
    text_lines: Mapped[int] = mapped_column(Integer)  # lines of its text files
    blamed_files: Mapped[int] = mapped_column(Integer)  # text files blamed for this tree (the rest reused)
    completed_at: Mapped[dt.datetime] = mapped_column(DateTime)


class GitTreeFile(Base):
    """One file of a commit's tree (the tree at a week's end; the binder reuses it). `binary` as git's own content
    check decides (numstat `-`); `lines` of a text file; `blamed_at` names the commit whose `git_blame_lines` hold
    this file's blame: the tree's own commit, or an older week-end commit when no first-parent commit since
    then changed the path (its blame is then the same)."""

    __tablename__ = "git_tree_files"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    sha: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    mode: Mapped[str] = mapped_column(String(6))  # 100644 | 100755 (regular files only)
    blob: Mapped[str] = mapped_column(String(64))
    binary: Mapped[bool] = mapped_column(Boolean)
    lines: Mapped[int | None] = mapped_column(Integer)  # None for binary files
    blamed_at: Mapped[str | None] = mapped_column(String(64))  # None for binary files


class GitBlameLines(Base):
    """`git blame` of one file at one commit, per blamed commit: how many of the file's lines (and which) that commit
    last changed, with the commit's recorded author (no .mailmap). Sides are computed at metric time (SPEC §3)."""

    __tablename__ = "git_blame_lines"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    blamed_at: Mapped[str] = mapped_column(String(64), primary_key=True)  # the commit the file was blamed at
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    commit: Mapped[str] = mapped_column(String(64), primary_key=True)  # the commit that last changed the lines
    lines: Mapped[int] = mapped_column(Integer)
    author_name: Mapped[str] = mapped_column(Text)
    author_email: Mapped[str] = mapped_column(Text)
    authored_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC
    author_tz_minutes: Mapped[int] = mapped_column(Integer)
    # Where those lines are in the file at `blamed_at`: "start,count" runs of 1-based line numbers, space-separated.
    # The next week's blame of a changed file only walks the commits since then and maps its remaining lines
    # through these runs (collectors/git/blame.py).
    ranges: Mapped[str] = mapped_column(Text, default="")


class GitHubPullRequest(Base):
    """A pull request of a GitHub repository (all states); the author is stored by login AND numeric id."""

    __tablename__ = "github_pull_requests"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    pr_id: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20))
    html_url: Mapped[str | None] = mapped_column(Text)
    author_login: Mapped[str | None] = mapped_column(String(100))  # None: deleted account (user: null)
    author_id: Mapped[int | None] = mapped_column(BigInteger)
    author_type: Mapped[str | None] = mapped_column(String(20))  # User | Bot | Organization
    author_association: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    merged_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)  # set only when merged
    base_ref: Mapped[str | None] = mapped_column(Text)
    head_ref: Mapped[str | None] = mapped_column(Text)
    head_sha: Mapped[str | None] = mapped_column(String(64))
    merge_commit_sha: Mapped[str | None] = mapped_column(String(64))
    labels: Mapped[str] = mapped_column(Text, default="")  # newline-separated label names
    draft: Mapped[bool] = mapped_column(Boolean, default=False)


class GitHubPullRequestFile(Base):
    """A file a pull request changes (for capabilities); a rename keeps its previous path."""

    __tablename__ = "github_pr_files"
    __table_args__ = (
        ForeignKeyConstraint(
            ["source_id", "number"], ["github_pull_requests.source_id", "github_pull_requests.number"],
            ondelete="CASCADE", name="fk_github_pr_files_pr",
        ),
    )

    source_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    previous_path: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(20))


class GitHubReview(Base):
    """A review of a pull request: reviewer (login and id), state, submitted time, reviewed commit."""

    __tablename__ = "github_reviews"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    review_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, index=True)  # the pull request
    reviewer_login: Mapped[str | None] = mapped_column(String(100))
    reviewer_id: Mapped[int | None] = mapped_column(BigInteger)
    reviewer_type: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(30))  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # missing on PENDING
    commit_id: Mapped[str | None] = mapped_column(String(64))
    html_url: Mapped[str | None] = mapped_column(Text)


class GitHubWorkflowRun(Base):
    """One attempt of a GitHub Actions workflow run; re-runs are further attempts of the same run id."""

    __tablename__ = "github_workflow_runs"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    run_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    run_attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    workflow_id: Mapped[int | None] = mapped_column(BigInteger)
    workflow_path: Mapped[str | None] = mapped_column(Text)  # .github/workflows/train.yml
    name: Mapped[str | None] = mapped_column(Text)  # workflow display name
    display_title: Mapped[str | None] = mapped_column(Text)
    event: Mapped[str] = mapped_column(String(50))
    actor_login: Mapped[str | None] = mapped_column(String(100))  # started the first attempt
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_type: Mapped[str | None] = mapped_column(String(20))
    triggering_login: Mapped[str | None] = mapped_column(String(100))  # started this attempt
    triggering_id: Mapped[int | None] = mapped_column(BigInteger)
    triggering_type: Mapped[str | None] = mapped_column(String(20))
    head_sha: Mapped[str | None] = mapped_column(String(64))
    head_branch: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(30))  # queued, in_progress, completed, ...
    conclusion: Mapped[str | None] = mapped_column(String(30))  # null while running
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)  # UTC
    run_started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # ~ completion once completed
    html_url: Mapped[str | None] = mapped_column(Text)


class EvalTestCount(Base):
    """Automated evaluation tests in one file under the evaluation paths, after one commit of the tracked
    branch's first-parent history that changed that file (0 once it is removed or stops matching), for
    eval_coverage. Collected once per new commit; weeks are bucketed at metric time (metrics/junit.py), so
    editing `start` never leaves stale rows and the evaluation paths are re-counted when they change."""

    __tablename__ = "eval_test_counts"
    __table_args__ = (Index("ix_eval_test_counts_path_seq", "source_id", "path", "seq"),)

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    sha: Mapped[str] = mapped_column(String(64), primary_key=True)  # the commit
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)  # order along the branch's first-parent history (ascending)
    committed_at: Mapped[dt.datetime] = mapped_column(DateTime)  # committer date, UTC
    tests: Mapped[int] = mapped_column(Integer)  # test functions in the file after this commit


class WeekEndCommit(Base):
    """The tracked branch as of each engagement week's end (SPEC §10/§11): the newest commit on its first-parent
    chain whose committer date is before the week's last local instant (None before the first commit).
    `binder_digest` is the sha256 of the artifact globs its `artifact_files` rows were listed with, so a rerun
    with the same commit and globs lists nothing again."""

    __tablename__ = "week_end_commits"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    week: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha: Mapped[str | None] = mapped_column(String(64))
    committed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # that commit's committer date, UTC
    binder_digest: Mapped[str | None] = mapped_column(String(64))


class ArtifactFile(Base):
    """A file of the week-end tree matching a binder artifact glob (SPEC §11), with the commits that last changed
    it as seen from the week-end commit (`git log` order, newest first, at most five, space-separated): the
    newest gives freshness, the newest by a person ownership. Authors come from the `commits` table."""

    __tablename__ = "artifact_files"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    week: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    changes: Mapped[str] = mapped_column(Text, default="")


class JUnitRun(Base):
    """JUnit XML test reports of one completed Actions run of a workflow configured to publish them
    (`junit_workflows`), summed over its matching artifacts' *.xml files (for eval_coverage). One row per
    run once examined, even when it had no report, so a rerun downloads nothing again; `problems` lists
    the corrupt or empty reports that were skipped."""

    __tablename__ = "junit_runs"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    run_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    run_attempt: Mapped[int] = mapped_column(Integer)  # the attempt whose artifacts were read
    workflow_path: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # the run's updated_at, UTC
    artifacts: Mapped[int] = mapped_column(Integer, default=0)  # matching artifacts downloaded
    reports: Mapped[int] = mapped_column(Integer, default=0)  # JUnit XML files parsed
    tests: Mapped[int] = mapped_column(Integer, default=0)  # testcases in them
    failures: Mapped[int] = mapped_column(Integer, default=0)  # testcases failed or in error
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[str] = mapped_column(Text, default="")  # newline-separated skipped reports


class Ticket(Base):
    """A ticket from Jira or GitHub Issues, keyed by (source, key): `MLOPS-12` or `#34`.

    Actors keep every identity the tracker gives (name, email, GitHub login, Jira account id, and the
    tracker's own bot flag: GitHub type "Bot", Jira accountType "app") so attribution happens at metric
    time. Status category is the tracker's (Jira statusCategory.key new|indeterminate|done; GitHub open ->
    new, closed -> done). `labels` is newline-separated; `links` is JSON [{"type", "direction", "key"}].
    """

    __tablename__ = "tickets"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    tracker_id: Mapped[str | None] = mapped_column(String(100))  # Jira issue id / GitHub issue number
    url: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[str] = mapped_column(Text, default="")
    status_id: Mapped[str | None] = mapped_column(String(100))
    status_name: Mapped[str | None] = mapped_column(String(200))
    status_category: Mapped[str | None] = mapped_column(String(20))
    reporter_name: Mapped[str | None] = mapped_column(Text)
    reporter_email: Mapped[str | None] = mapped_column(Text)
    reporter_login: Mapped[str | None] = mapped_column(String(200))
    reporter_jira_id: Mapped[str | None] = mapped_column(String(200))
    reporter_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee_name: Mapped[str | None] = mapped_column(Text)
    assignee_email: Mapped[str | None] = mapped_column(Text)
    assignee_login: Mapped[str | None] = mapped_column(String(200))
    assignee_jira_id: Mapped[str | None] = mapped_column(String(200))
    assignee_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)  # UTC
    created_tz_minutes: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # UTC
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # UTC
    links: Mapped[str] = mapped_column(Text, default="[]")
    parent_key: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str | None] = mapped_column(String(100))  # value of [drills].severity_field, when set


class TicketEvent(Base):
    """Something that happened on a ticket, with its actor and time (UTC + original offset).

    kind: status (from/to status ids, names and categories), assignee (from/to account), comment,
    label (to_name = label added, from_name = label removed), checklist (to_name = the item ticked).
    `event_id` is the tracker's natural key of the change (Jira history id + item index, comment id,
    GitHub event id), so reruns upsert instead of duplicating.
    """

    __tablename__ = "ticket_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["source_id", "ticket_key"], ["tickets.source_id", "tickets.key"], ondelete="CASCADE",
            name="fk_ticket_events_ticket",
        ),
    )

    source_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # status | assignee | comment | label | checklist
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)  # UTC
    tz_minutes: Mapped[int] = mapped_column(Integer, default=0)
    actor_name: Mapped[str | None] = mapped_column(Text)
    actor_email: Mapped[str | None] = mapped_column(Text)
    actor_login: Mapped[str | None] = mapped_column(String(200))
    actor_jira_id: Mapped[str | None] = mapped_column(String(200))
    actor_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    actor_system: Mapped[bool] = mapped_column(Boolean, default=False)  # no author: a system change
    from_id: Mapped[str | None] = mapped_column(String(200))
    from_name: Mapped[str | None] = mapped_column(Text)
    from_category: Mapped[str | None] = mapped_column(String(20))
    to_id: Mapped[str | None] = mapped_column(String(200))
    to_name: Mapped[str | None] = mapped_column(Text)
    to_category: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str | None] = mapped_column(Text)  # comment text


class ChecklistItem(Base):
    """A task-list item of a ticket (`- [ ]` / `- [x]`, Jira ADF task items), in body order.

    `checked_at`/checked_by_* are set only when the tracker says who ticked it (Jira description history).
    """

    __tablename__ = "checklist_items"
    __table_args__ = (
        ForeignKeyConstraint(
            ["source_id", "ticket_key"], ["tickets.source_id", "tickets.key"], ondelete="CASCADE",
            name="fk_checklist_items_ticket",
        ),
    )

    source_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[int] = mapped_column(Integer, default=0)  # nesting depth
    text: Mapped[str] = mapped_column(Text, default="")
    checked: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # UTC
    checked_by_name: Mapped[str | None] = mapped_column(Text)
    checked_by_login: Mapped[str | None] = mapped_column(String(200))
    checked_by_jira_id: Mapped[str | None] = mapped_column(String(200))


class TicketStatus(Base):
    """A tracker's status id -> name and category (Jira /status), so categories never come from names."""

    __tablename__ = "ticket_statuses"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    status_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(20))


class MlflowExperiment(Base):
    """An MLflow experiment of a tracking server (SPEC §12); runs name it by id, the config by name or id."""

    __tablename__ = "mlflow_experiments"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    experiment_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")
    lifecycle_stage: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # UTC
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class MlflowRun(Base):
    """An MLflow run (SPEC §12). Its actor is the `mlflow.user` tag, else `user_id` (both kept as given; resolved
    at metric time). Times are UTC; `end_time` is null while RUNNING. `params`, `metrics` (latest value per key)
    and `datasets` (dataset inputs) are JSON text; `tags` holds every tag as a JSON object."""

    __tablename__ = "mlflow_runs"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    experiment_id: Mapped[str] = mapped_column(String(100), index=True)
    run_name: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(String(320))  # "" from raw REST and Databricks: stored as None
    mlflow_user: Mapped[str | None] = mapped_column(String(320))  # the `mlflow.user` tag
    status: Mapped[str] = mapped_column(String(20))  # RUNNING | SCHEDULED | FINISHED | FAILED | KILLED
    start_time: Mapped[dt.datetime] = mapped_column(DateTime, index=True)  # UTC
    end_time: Mapped[dt.datetime | None] = mapped_column(DateTime)
    lifecycle_stage: Mapped[str | None] = mapped_column(String(20))  # active | deleted
    source_type: Mapped[str | None] = mapped_column(String(20))  # mlflow.source.type: NOTEBOOK, JOB, LOCAL, ...
    source_name: Mapped[str | None] = mapped_column(Text)  # mlflow.source.name
    git_commit: Mapped[str | None] = mapped_column(String(64))  # mlflow.source.git.commit
    parent_run_id: Mapped[str | None] = mapped_column(String(64))  # mlflow.parentRunId
    trigger: Mapped[str | None] = mapped_column(String(100))  # the source's trigger tag (e.g. ci.trigger)
    params: Mapped[str] = mapped_column(Text, default="{}")
    metrics: Mapped[str] = mapped_column(Text, default="{}")
    tags: Mapped[str] = mapped_column(Text, default="{}")
    datasets: Mapped[str] = mapped_column(Text, default="[]")
    url: Mapped[str | None] = mapped_column(Text)  # the run in the MLflow UI


class MlflowModelVersion(Base):
    """A registered model version as last collected: creator (`user_id`), stage, aliases (newline-separated)."""

    __tablename__ = "mlflow_model_versions"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(300), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # UTC
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # last_updated_timestamp
    user_id: Mapped[str | None] = mapped_column(String(320))  # who created the version
    current_stage: Mapped[str | None] = mapped_column(String(30))
    aliases: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str | None] = mapped_column(String(30))
    run_id: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(Text, default="{}")
    url: Mapped[str | None] = mapped_column(Text)


class MlflowRegistryEvent(Base):
    """A change of where a registry alias or stage points, seen by comparing two collections (SPEC §12).

    Open-source MLflow records no actor and no time for alias or stage changes, so each change is dated
    between the collection that last saw the old state (`window_start`; None on first sight: since the
    version's creation) and the one that saw the new state (`window_end`); `at` is the registry's own time
    when it falls in that window (a stage change updates the version's last_updated_timestamp), else
    `window_end` (`at_source` says which). `actor` comes only from a version tag naming the promoter
    (`actor_tag`), else None = unknown. `target` is `alias:<name>` or `stage:<name>`; `version` None = the
    alias was removed. `seq` numbers the changes of one (model, target) in the order seen."""

    __tablename__ = "mlflow_registry_events"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(300), primary_key=True)
    target: Mapped[str] = mapped_column(String(300), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int | None] = mapped_column(Integer)
    previous_version: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)  # UTC, see at_source
    at_source: Mapped[str] = mapped_column(String(30))  # registry | collection
    window_start: Mapped[dt.datetime | None] = mapped_column(DateTime)
    window_end: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str | None] = mapped_column(String(320))
    actor_tag: Mapped[str | None] = mapped_column(String(200))


class MlflowRegistryState(Base):
    """Where each alias / stage of a registered model pointed at the last collection (compared by the next)."""

    __tablename__ = "mlflow_registry_state"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(300), primary_key=True)
    target: Mapped[str] = mapped_column(String(300), primary_key=True)
    versions: Mapped[str] = mapped_column(Text, default="")  # space-separated (a stage can hold several)
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC, the collection that saw it


class GitLabMergeRequest(Base):
    """A merge request of a GitLab project (all states), SPEC §12: a merged MR counts as a merged PR."""

    __tablename__ = "gitlab_merge_requests"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    iid: Mapped[int] = mapped_column(Integer, primary_key=True)
    mr_id: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20))  # opened | closed | locked | merged
    web_url: Mapped[str | None] = mapped_column(Text)
    author_username: Mapped[str | None] = mapped_column(String(255))
    author_id: Mapped[int | None] = mapped_column(BigInteger)
    author_name: Mapped[str | None] = mapped_column(Text)
    merge_username: Mapped[str | None] = mapped_column(String(255))  # merge_user, else merged_by
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    merged_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    target_branch: Mapped[str | None] = mapped_column(Text)
    source_branch: Mapped[str | None] = mapped_column(Text)
    sha: Mapped[str | None] = mapped_column(String(64))
    merge_commit_sha: Mapped[str | None] = mapped_column(String(64))
    squash_commit_sha: Mapped[str | None] = mapped_column(String(64))
    labels: Mapped[str] = mapped_column(Text, default="")  # newline-separated
    draft: Mapped[bool] = mapped_column(Boolean, default=False)


class GitLabMergeRequestFile(Base):
    """A file a merge request changes (for capabilities); a rename keeps its old path."""

    __tablename__ = "gitlab_mr_files"
    __table_args__ = (
        ForeignKeyConstraint(["source_id", "iid"], ["gitlab_merge_requests.source_id", "gitlab_merge_requests.iid"],
                             ondelete="CASCADE", name="fk_gitlab_mr_files_mr"),
    )

    source_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    iid: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    old_path: Mapped[str | None] = mapped_column(Text)


class GitLabApproval(Base):
    """An approval of a merge request (SPEC §12: counts as an approving review). The approvals endpoint has no
    time: `approved_at` is the user's last "approved this merge request" system note (`note_id`), else the
    MR's merge (or update) time, as `approved_at_source` says."""

    __tablename__ = "gitlab_approvals"
    __table_args__ = (
        ForeignKeyConstraint(["source_id", "iid"], ["gitlab_merge_requests.source_id", "gitlab_merge_requests.iid"],
                             ondelete="CASCADE", name="fk_gitlab_approvals_mr"),
    )

    source_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    iid: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # UTC
    approved_at_source: Mapped[str] = mapped_column(String(20))  # note | merged_at | updated_at
    note_id: Mapped[int | None] = mapped_column(BigInteger)


class GitLabNote(Base):
    """A note (comment or system note) on a merge request."""

    __tablename__ = "gitlab_notes"
    __table_args__ = (
        ForeignKeyConstraint(["source_id", "iid"], ["gitlab_merge_requests.source_id", "gitlab_merge_requests.iid"],
                             ondelete="CASCADE", name="fk_gitlab_notes_mr"),
    )

    source_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    iid: Mapped[int] = mapped_column(Integer, primary_key=True)
    note_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    author_username: Mapped[str | None] = mapped_column(String(255))
    author_name: Mapped[str | None] = mapped_column(Text)
    system: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC
    body: Mapped[str | None] = mapped_column(Text)


class GitLabPipeline(Base):
    """A GitLab pipeline (SPEC §12: a pipeline counts as a CI run); `user` from the pipeline's detail."""

    __tablename__ = "gitlab_pipelines"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    iid: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(Text)  # workflow:name, when set
    source: Mapped[str | None] = mapped_column(String(50))  # push, web, schedule, merge_request_event, ...
    ref: Mapped[str | None] = mapped_column(Text)
    sha: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(30))
    user_username: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    user_name: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)  # UTC
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    duration: Mapped[int | None] = mapped_column(Integer)  # seconds
    web_url: Mapped[str | None] = mapped_column(Text)


class GitLabJob(Base):
    """A job of a GitLab pipeline: its name and stage classify the pipeline ([pipeline] kinds)."""

    __tablename__ = "gitlab_jobs"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    job_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(BigInteger, index=True)
    name: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(30))
    user_username: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # UTC
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    duration: Mapped[float | None] = mapped_column(Float)  # seconds
    web_url: Mapped[str | None] = mapped_column(Text)


class LedgerEntry(Base):
    """One row of the hash-chained, append-only audit log (SPEC §7, §9; db/ledger.py): signatures,
    revocations, role grants, frozen weeks, purges, exports, the login mode.

    `content` is the canonical JSON of what the row records, free of names and free text (persons appear as
    ids `person-…`), so a purge never has to touch it; `content_sha256` is its sha256 and `row_sha256` the
    sha256 of (seq, engagement, kind, at, content_sha256, prev_sha256), where `prev_sha256` is the previous
    row's `row_sha256`. Database triggers refuse UPDATE and DELETE (migration 0008)."""

    __tablename__ = "ledger"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    engagement: Mapped[str | None] = mapped_column(String(100), index=True)  # None: the whole DB (roles, purges)
    kind: Mapped[str] = mapped_column(String(20))  # sign | revoke | role | freeze | purge | export | login
    at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC
    content: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    prev_sha256: Mapped[str] = mapped_column(String(64))
    row_sha256: Mapped[str] = mapped_column(String(64))


class LedgerDetail(Base):
    """The personal part of a ledger row, kept apart so a purge can remove it without breaking the chain:
    `details` (names, emails, comments; its salted digest is in the row's content, so an edit is detected
    unless the purge marked it `{"purged": true}`) and `hints` (display only: evidence titles)."""

    __tablename__ = "ledger_details"

    seq: Mapped[int] = mapped_column(ForeignKey("ledger.seq"), primary_key=True)
    details: Mapped[str] = mapped_column(Text, default="{}")
    hints: Mapped[str] = mapped_column(Text, default="{}")


class PrivacySalt(Base):
    """The secret salt of pseudonyms and person ids (SPEC §9): one row, made on first use, never exported."""

    __tablename__ = "privacy_salt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    salt: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Tombstone(Base):
    """A purged identity, remembered only as its salted hash, and the pseudonym its rows now carry, so a
    rerun of collect rewrites it again instead of bringing the person back (SPEC §9)."""

    __tablename__ = "privacy_tombstones"

    identity_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(40), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class PseudonymousPerson(Base):
    """A purged roster person: their pseudonym and dated sides (no name, no identity), so their events keep
    their side and week once the user deletes the roster entry (SPEC §9)."""

    __tablename__ = "privacy_pseudonyms"

    pseudonym: Mapped[str] = mapped_column(String(40), primary_key=True)
    affiliations: Mapped[str] = mapped_column(Text, default="[]")  # [{side, org, from, until}]
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
