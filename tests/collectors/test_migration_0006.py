"""Migration 0006 on a database that already holds collected data (SQLite and PostgreSQL): commits lose
`seen_run_id` in place (their files survive: a table copy on SQLite would cascade-delete them), the old
per-week evaluation rows and their cursor go (the next collection recounts by commit), locks get a table."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import create_engine, event, inspect, text

from db.engine import _sqlite_pragmas, upgrade


def test_0006_keeps_commits_and_files_and_drops_derived_rows(db_url):
    engine = create_engine(db_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)  # foreign keys on, as make_engine opens it
    upgrade(engine, "0005")
    now = dt.datetime(2026, 9, 8, 10)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sources (id, kind, key, name, created_at) VALUES (1, 'git', 'r#main', 'r', :t)"),
                     {"t": now})
        conn.execute(text("INSERT INTO commits (source_id, sha, parents, is_merge, author_name, author_email, "
                          "authored_at, author_tz_minutes, committer_name, committer_email, committed_at, "
                          "committer_tz_minutes, subject, co_authors, files_changed, lines_added, lines_deleted, "
                          "seen_run_id) VALUES (1, 'abc', '', false, 'A', 'a@x', :t, 0, 'A', 'a@x', :t, 0, 's', '', "
                          "1, 1, 0, 7)"), {"t": now})
        conn.execute(text("INSERT INTO commit_files (source_id, sha, path, added, deleted, \"binary\") "
                          "VALUES (1, 'abc', 'eval/test_a.py', 1, 0, false)"))
        conn.execute(text("INSERT INTO eval_test_counts (source_id, week, path, sha, tests) "
                          "VALUES (1, 1, 'eval/test_a.py', 'abc', 1)"))
        conn.execute(text("INSERT INTO cursors (source_id, stream, value, updated_at) "
                          "VALUES (1, 'commits', 'abc', :t)"), {"t": now})
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT sha FROM commits")).scalars().all() == ["abc"]
        assert conn.execute(text("SELECT path FROM commit_files")).scalars().all() == ["eval/test_a.py"]
        assert conn.execute(text("SELECT COUNT(*) FROM eval_test_counts")).scalar_one() == 0
        assert conn.execute(text("SELECT stream FROM cursors")).scalars().all() == ["commits"]
    columns = {c["name"] for c in inspect(engine).get_columns("commits")}
    assert "seen_run_id" not in columns
    assert {c["name"] for c in inspect(engine).get_columns("eval_test_counts")} == {
        "source_id", "sha", "path", "seq", "committed_at", "tests"}
    assert inspect(engine).has_table("source_locks")
    engine.dispose()
