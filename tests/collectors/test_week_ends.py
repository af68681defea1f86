"""collectors/git/week_ends.py on real repositories: the week-end commit is the first-parent commit committed before
the week's end; a run that builds each week on the one before stores exactly what reading every week from scratch
gives, on a history with a merge from an older fork, bot bumps, a rename, a file deleted and re-added; a new commit
makes a rerun read only the week it lands in."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from collectors.git.week_ends import bot_regex, collect_week_ends, last_changes, matching_files, week_end_commit
from db.engine import make_engine
from engagement.config import parse_config

ANN, VIC = "Ann <ann@client.com>", "Vic <vic@acme.com>"
BOT = "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>"
NOW = dt.datetime(2026, 9, 30, 12, tzinfo=dt.UTC)  # week 4 of an engagement starting 2026-09-07 (UTC)
CFG = parse_config({"engagement": {"name": "x", "start": dt.date(2026, 9, 7), "weeks": 3},
                    "artifacts": [{"key": "docs", "paths": ["docs/**", "/requirements.txt", "/README.md"]}]})


def day(d: int, hour: int = 10) -> str:
    return f"2026-09-{d:02d}T{hour:02d}:00:00+00:00"


def history(repo) -> None:
    repo.commit("start", {"README.md": "a\n", "requirements.txt": "x==1\n", "docs/a.md": "1\n", "docs/gone.md": "g\n"},
                author=VIC, date=day(1))
    repo.git("checkout", "-q", "-b", "topic")  # an old fork, merged in week 2
    repo.commit("topic edit", {"docs/a.md": "1\ntopic\n"}, author=ANN, date=day(2))
    repo.git("checkout", "-q", "main")
    for i, d in enumerate((8, 9, 10, 11)):
        repo.commit(f"bump {i}", {"requirements.txt": f"x=={i + 2}\n"}, author=BOT, date=day(d))
    repo.commit("readme", {"README.md": "a\nb\n"}, author=ANN, date=day(9))
    repo.commit("drop", author=VIC, date=day(10), delete=("docs/gone.md",))
    env = {"GIT_AUTHOR_NAME": "Ann", "GIT_AUTHOR_EMAIL": "ann@client.com", "GIT_AUTHOR_DATE": day(15),
           "GIT_COMMITTER_NAME": "Ann", "GIT_COMMITTER_EMAIL": "ann@client.com", "GIT_COMMITTER_DATE": day(15)}
    repo.git("merge", "-q", "--no-ff", "-m", "merge topic", "topic", env=env)
    repo.git("mv", "docs/a.md", "docs/b.md")
    repo.commit("rename", author=VIC, date=day(16))
    repo.commit("back again", {"docs/gone.md": "again\n"}, author=ANN, date=day(22))  # deleted in w1, re-added
    repo.commit("bump 5", {"requirements.txt": "x==9\n"}, author=BOT, date=day(23))


def test_week_end_commit_is_before_the_end(git_repo):
    git_repo.commit("a", {"f": "1"}, date="2026-09-13T23:59:59+00:00")
    at_end = git_repo.commit("b", {"f": "2"}, date="2026-09-14T00:00:00+00:00")  # the next week's first second
    first = git_repo.git("rev-parse", "HEAD~1")
    assert week_end_commit(git_repo.path, "main", dt.datetime(2026, 9, 14))[0] == first
    assert week_end_commit(git_repo.path, "main", dt.datetime(2026, 9, 14, 0, 0, 1))[0] == at_end
    assert week_end_commit(git_repo.path, "main", dt.datetime(2026, 9, 1)) is None


def test_incremental_run_equals_every_week_from_scratch(git_repo, sqlite_url):
    history(git_repo)
    engine = make_engine(sqlite_url)
    collect_week_ends(engine, CFG, git_repo.path, "main", "repo", now=NOW)
    stored = pd.read_sql("SELECT w.week, f.path, f.changes FROM week_end_commits w JOIN artifact_files f "
                         "ON f.source_id = w.source_id AND f.week = w.week ORDER BY w.week, f.path", engine)
    shas = pd.read_sql("SELECT week, sha FROM week_end_commits ORDER BY week", engine).set_index("week")["sha"]
    scratch = []
    for week, sha in shas.items():
        files = matching_files(git_repo.path, sha, sorted(g for a in CFG.binder for g in a.paths))
        for path, changes in last_changes(git_repo.path, sha, files, bot_regex(CFG.classify.bots)).items():
            scratch.append({"week": week, "path": path, "changes": " ".join(changes)})
    pd.testing.assert_frame_equal(stored, pd.DataFrame(scratch))
    by = {(r.week, r.path): r.changes.split() for r in stored.itertuples()}
    log = {s: git_repo.git("log", "-1", "--format=%s", s) for c in by.values() for s in c}
    # requirements.txt in week 1: the three newest bumps, then the newest change by a person (Vic's start)
    assert [log[s] for s in by[(1, "requirements.txt")]] == ["bump 3", "bump 2", "bump 1", "start"]
    assert [log[s] for s in by[(2, "docs/b.md")]] == ["rename"]  # a rename is a change (no --follow)
    assert (1, "docs/gone.md") not in by and [log[s] for s in by[(3, "docs/gone.md")]] == ["back again", "drop",
                                                                                          "start"]


def test_a_new_commit_rereads_only_its_week(git_repo, sqlite_url):
    history(git_repo)
    engine = make_engine(sqlite_url)
    collect_week_ends(engine, CFG, git_repo.path, "main", "repo", now=NOW)
    before = pd.read_sql("SELECT * FROM artifact_files ORDER BY week, path", engine)
    git_repo.commit("late readme", {"README.md": "a\nb\nc\n"}, author=ANN, date="2026-09-29T10:00:00+00:00")
    collect_week_ends(engine, CFG, git_repo.path, "main", "repo", now=NOW)
    after = pd.read_sql("SELECT * FROM artifact_files ORDER BY week, path", engine)
    pd.testing.assert_frame_equal(before[before["week"] < 4].reset_index(drop=True),
                                  after[after["week"] < 4].reset_index(drop=True))
    readme = after[(after["week"] == 4) & (after["path"] == "README.md")].iloc[0]["changes"].split()
    assert git_repo.git("log", "-1", "--format=%s", readme[0]) == "late readme" and len(readme) == 3
