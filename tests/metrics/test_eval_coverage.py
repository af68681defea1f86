"""eval_coverage from git: test functions under the evaluation paths, as the branch stood each week."""

from __future__ import annotations

import datetime as dt

from collectors.git.eval_tests import collect_eval_tests
from db.engine import make_engine
from db.queries import load_eval_tests
from metrics.engagement_file import parse_engagement
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
    total = collect_eval_tests(engine, cfg, git_repo.path, "main", "repo", now=now)
    assert total == 4
    collect_eval_tests(engine, cfg, git_repo.path, "main", "repo", now=now)  # a rerun replaces, never adds
    rows = eval_coverage(load_eval_tests(engine))
    assert rows[["week", "value", "n"]].values.tolist() == [[0, 1, 1], [1, 3, 3], [2, 4, 4], [3, 4, 4]]
    per_file = load_eval_tests(engine).query("week == 1")[["path", "tests"]].values.tolist()
    assert per_file == [["eval/sub/test_bias.py", 1], ["eval/test_model.py", 2]]
