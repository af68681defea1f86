"""The demo's GitHub data, recorded from the local replay server and replayed to the real GitHub collector by
plain `collect`, gives the KPI values the demo intends (collectors/demo/github_data.py INTENDED_* tables,
written by hand)."""

from __future__ import annotations

import pytest

from collectors.demo import github_data as gh
from collectors.demo import mlflow_data
from db.engine import make_engine
from db.queries import load_source_frames
from metrics.engagement import SourceData, compute
from metrics.engagement_file import load_engagement
from tests.support.demo_template import copy_demo


@pytest.fixture(scope="module")
def weekly(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_gh")
    toml = copy_demo(out)  # built and collected with plain `collect` (tests/support/demo_template.py)
    url = f"sqlite:///{out / 'baton.db'}"
    m = compute(load_engagement(toml), SourceData(**load_source_frames(make_engine(url))))
    return m.weekly[m.weekly["capability"].isna()].set_index(["kpi", "week"])


def test_demo_pr_review_and_two_key_values(weekly):
    for week, (i, v, u, b) in gh.INTENDED_PR_SHARE.items():
        row = weekly.loc[("internal_pr_share", week)]
        assert (row["internal"], row["vendor"], row["unattributed"], row["bots"]) == (i, v, u, b), week
        assert row["value"] == pytest.approx(i / (i + v))
    for week, (i, v) in gh.INTENDED_REVIEW_SHARE.items():
        row = weekly.loc[("internal_review_share", week)]
        assert (row["internal"], row["vendor"]) == (i, v), week
    for week, (ok, n) in gh.INTENDED_TWO_KEY.items():
        row = weekly.loc[("two_key_compliance", week)]
        assert (row["n"], row["value"]) == (n, pytest.approx(ok / n)), week


def test_demo_train_share_and_time_to_retrain(weekly):
    for week, (i, v, scheduled) in gh.INTENDED_TRAIN_SHARE.items():  # Actions runs + the MLflow notebook runs
        mi, mv, ms = mlflow_data.INTENDED_TRAIN_RUNS[week]
        row = weekly.loc[("internal_train_share", week)]
        assert (row["internal"], row["vendor"], row["scheduled"]) == (i + mi, v + mv, scheduled + ms), week
    for week, (median, p90, n, internal) in gh.INTENDED_TIME_TO_RETRAIN.items():
        row = weekly.loc[("time_to_retrain", week)]
        assert (row["value"], row["p90"], row["n"], row["internal"]) == (
            pytest.approx(median), pytest.approx(p90), n, internal), week
