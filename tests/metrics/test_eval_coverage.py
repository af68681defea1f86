"""eval_coverage from git: test functions under the evaluation paths, counted per new commit at collection,
bucketed into weeks (as the branch stood at each week's end) at metric time."""

from __future__ import annotations

import datetime as dt

from collectors.git.source import collect_git
from db.engine import make_engine
from db.queries import load_eval_tests
from metrics.engagement_file import parse_engagement
from metrics.junit import eval_tests_by_week
from metrics.quality import eval_coverage


def test_eval_tests_counted_per_week_from_the_branch_as_it_stood(git_repo, db_url):
    cfg = parse_engagement({"engagement": {"name": "X", "start": dt.date(2026, 9, 7), "timezone": "Europe/Berlin"},
                        "capabilities": [{"key": "evaluation", "paths": ["eval/**"]}]})
    two = "def test_auc():\n    pass\n\nasync def test_latency():\n    pass\n\ndef helper():\n    pass\n"
    git_repo.commit("baseline", {"eval/test_model.py": "def test_old():\n    pass\n"}, date="2026-09-01T10:00:00+02:00")
    git_repo.commit("two eval tests", {"eval/test_model.py": two, "train/test_train.py": "def test_x(): pass\n"},
                    date="2026-09-08T10:00:00+02:00")
    # Sunday 13 Sep 23:30 Berlin is still week 1; Monday 00:30 is week 2
    git_repo.commit("one more", {"eval/sub/test_bias.py": "def test_bias():\n    pass\n"},
                    date="2026-09-13T23:30:00+02:00")
    git_repo.commit("and another", {"eval/sub/test_drift.py": "def test_drift():\n    pass\n"},
                    date="2026-09-14T00:30:00+02:00")
    engine = make_engine(db_url)
    now = dt.datetime(2026, 9, 22, 12, tzinfo=dt.UTC)  # week 3
    total = collect_git(engine, git_repo.path, "main", source_name="repo", eval_paths=["eval/**"]).eval_tests
    assert total == 4
    stored = load_eval_tests(engine)
    again = collect_git(engine, git_repo.path, "main", source_name="repo", eval_paths=["eval/**"])
    assert again.eval_tests == 4 and load_eval_tests(engine).equals(stored)  # a rerun counts nothing again
    # stored by commit: one row per changed evaluation file, never per week
    assert stored[["path", "tests"]].values.tolist() == [["eval/test_model.py", 1], ["eval/test_model.py", 2],
                                                         ["eval/sub/test_bias.py", 1], ["eval/sub/test_drift.py", 1]]
    weekly = eval_tests_by_week(stored, cfg, now)
    rows = eval_coverage(weekly)
    assert rows[["week", "value", "n"]].values.tolist() == [[0, 1, 1], [1, 3, 3], [2, 4, 4], [3, 4, 4]]
    per_file = weekly.query("week == 1")[["path", "tests"]].values.tolist()
    assert per_file == [["eval/sub/test_bias.py", 1], ["eval/test_model.py", 2]]


def test_eval_tests_only_new_commits_then_recount_when_paths_change(git_repo, db_url):
    git_repo.commit("one", {"eval/test_a.py": "def test_a():\n    pass\n", "qa/test_q.py": "def test_q(): pass\n"},
                    date="2026-09-08T10:00:00+02:00")
    engine = make_engine(db_url)
    collect_git(engine, git_repo.path, "main", eval_paths=["eval/**"])
    git_repo.commit("drop a, add b", {"eval/test_b.py": "def test_b():\n    pass\n\ndef test_c():\n    pass\n"},
                    delete=("eval/test_a.py",), date="2026-09-09T10:00:00+02:00")
    result = collect_git(engine, git_repo.path, "main", eval_paths=["eval/**"])
    assert result.eval_tests == 2  # test_a.py removed (0), test_b.py has 2
    rows = load_eval_tests(engine)
    assert rows[["path", "tests", "seq"]].values.tolist() == [["eval/test_a.py", 1, 1], ["eval/test_a.py", 0, 2],
                                                              ["eval/test_b.py", 2, 2]]
    # the evaluation paths change: everything is recounted for them, nothing stale stays
    widened = collect_git(engine, git_repo.path, "main", eval_paths=["eval/**", "qa/**"])
    assert widened.eval_tests == 3
    assert sorted(set(load_eval_tests(engine)["path"])) == ["eval/test_a.py", "eval/test_b.py", "qa/test_q.py"]
