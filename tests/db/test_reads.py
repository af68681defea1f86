"""Columnar reads (db/reads.py, issue 11) give exactly the frames of the row-by-row path, on SQLite and
PostgreSQL, for every loader of db/queries.py, on the demo's collected git, GitHub and Jira data."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

from db import queries, reads
from db.engine import make_engine
from tests.support.demo_template import collected_demo_in

LOADERS = ["load_sources", "load_commits", "load_commit_files", "load_tags", "load_identities", "load_runs",
           "load_cursors", "load_tickets", "load_ticket_events", "load_checklist_items", "load_pull_requests",
           "load_pr_files", "load_reviews", "load_workflow_runs", "load_eval_tests", "load_junit_runs"]
FRAME_SETS = ["load_gitlab_frames", "load_mlflow_frames"]  # several frames each


def every_frame(engine) -> dict:
    frames = {name: getattr(queries, name)(engine) for name in LOADERS}
    for name in FRAME_SETS:
        frames.update(getattr(queries, name)(engine))
    return frames


@pytest.fixture
def demo_db(tmp_path, db_url):
    collected_demo_in(tmp_path / "demo", db_url)  # self-contained: git, GitHub, Jira, MLflow from recordings
    return make_engine(db_url)


def row_by_row(monkeypatch):
    monkeypatch.setattr(reads, "_adbc_target", lambda engine: None)


def test_every_loader_gives_the_row_by_row_frame(demo_db, monkeypatch):
    columnar = every_frame(demo_db)
    assert all(len(columnar[n]) for n in LOADERS if n not in ("load_tags", "load_junit_runs"))
    assert len(columnar["mlflow_runs"]) and len(columnar["mlflow_model_versions"])  # the demo has no GitLab
    with monkeypatch.context() as m:
        row_by_row(m)
        expected = every_frame(demo_db)
    assert list(columnar) == list(expected)
    for name in expected:
        pd.testing.assert_frame_equal(columnar[name], expected[name], obj=name)
    # Filters are bound parameters on both paths.
    only = queries.load_commits(demo_db, ["no-such-repo"])
    assert only.empty


def test_a_text_column_starting_with_nulls_keeps_its_values(demo_db, monkeypatch):
    """SQLite gives no column types: the first NULL rows must not type old_path as a number."""
    with demo_db.begin() as conn:
        conn.execute(text("UPDATE commit_files SET old_path = 'moved/from.py' WHERE path = "
                          "(SELECT MAX(path) FROM commit_files)"))
    frame = queries.load_commit_files(demo_db)
    with monkeypatch.context() as m:
        row_by_row(m)
        expected = queries.load_commit_files(demo_db)
    pd.testing.assert_frame_equal(frame, expected)
    assert "moved/from.py" in set(frame["old_path"].dropna())


def test_data_version_moves_with_written_data_only(demo_db):
    first = reads.data_version(demo_db)
    assert reads.data_version(demo_db) == first
    with demo_db.begin() as conn:
        conn.execute(text("INSERT INTO collection_runs (source_id, started_at, finished_at, status, items_seen, "
                          "items_written, items_removed) VALUES (1, '2026-09-10 10:00:00', '2026-09-10 10:00:01', "
                          "'success', 0, 0, 0)"))
    assert reads.data_version(demo_db) == first  # a no-change rerun keeps caches warm
    with demo_db.begin() as conn:
        conn.execute(text("INSERT INTO collection_runs (source_id, started_at, status, items_seen, items_written, "
                          "items_removed) VALUES (1, '2026-09-10 11:00:00', 'running', 0, 0, 0)"))
    running = reads.data_version(demo_db)
    assert running != first
    with demo_db.begin() as conn:
        conn.execute(text("UPDATE collection_runs SET status = 'success', items_written = 3, "
                          "finished_at = '2026-09-10 11:00:05' WHERE status = 'running'"))
    finished = reads.data_version(demo_db)
    assert finished not in (first, running)
    with demo_db.begin() as conn:
        conn.execute(text("INSERT INTO tags (source_id, name, sha, tagged_at, tz_minutes) VALUES "
                          "(1, 'data-v1', 'ffffffffffffffffffffffffffffffffffffffff', '2026-09-10 10:00:00', 0)"))
    assert reads.data_version(demo_db) != finished  # tags are synced by runs that report no items
