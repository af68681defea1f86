"""The disk cache of computed metrics (metrics/cache.py, issue 11): keys change with every input and only
then; what is stored reads back identical; a damaged or unwritable cache never breaks a computation."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pandas as pd
import pytest

from metrics import cache


def weekly_like() -> pd.DataFrame:
    """The shapes the weekly contract has: dates as objects, capability None for engagement-wide, NaN values."""
    frame = pd.DataFrame({
        "week": [1, 1, 2],
        "week_start": [dt.date(2026, 9, 7), dt.date(2026, 9, 7), dt.date(2026, 9, 14)],
        "kpi": ["internal_commit_share", "ladder_stage", "internal_commit_share"],
        "capability": pd.Series([None, "training", None], dtype=object),
        "value": [0.25, 2.0, np.nan],
        "internal": [1, 0, 0],
    })
    frame["kpi"] = frame["kpi"].astype("str")
    return frame


def test_key_is_pure_and_covers_every_input():
    base = {"data_version": "schema 0005; run 7:success", "engagement_sha256": "ab" * 32,
            "filters": {"repo": ["a", "b"], "accepted": {"M1"}}, "as_of": "2026-09-14", "code": "c1"}
    key = cache.cache_key(**base)
    assert key == cache.cache_key(**{**base, "filters": {"accepted": {"M1"}, "repo": ["a", "b"]}})
    changed = [{"data_version": "schema 0005; run 8:success"}, {"engagement_sha256": "cd" * 32},
               {"filters": {"repo": ["a"], "accepted": {"M1"}}}, {"filters": {"repo": ["a", "b"]}},
               {"as_of": "2026-09-15"}, {"code": "c2"}]
    keys = {cache.cache_key(**{**base, **c}) for c in changed}
    assert len(keys) == len(changed) and key not in keys


def test_engagement_hash_and_code_version_follow_the_bytes(tmp_path):
    toml = tmp_path / "e.toml"
    toml.write_text('[engagement]\nname = "x"\n')
    first = cache.engagement_hash(toml)
    toml.write_text('[engagement]\nname = "x"\n# a comment\n')
    assert cache.engagement_hash(toml) != first
    assert cache.code_version() == cache.code_version() and len(cache.code_version()) == 64


def test_stored_frames_read_back_identical(tmp_path):
    frames = {"weekly": weekly_like(), "empty": pd.DataFrame({"a": pd.Series([], dtype="int64")})}
    assert cache.load_frames(tmp_path, "k1") is None
    assert cache.store_frames(tmp_path, "k1", frames)
    back = cache.load_frames(tmp_path, "k1")
    assert list(back) == ["weekly", "empty"]
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(back[name], frame)
    assert back["weekly"].loc[0, "capability"] is None


def test_list_columns_read_back_as_lists(tmp_path):
    """Runbook executions keep each execution's vendor interventions as a list of dicts; Parquet alone gives
    them back as numpy arrays, and the Runbooks page then failed on every visit after the first."""
    at = pd.Timestamp("2026-09-08 09:30", tz="UTC")
    frame = pd.DataFrame({"key": ["ML-7", "ML-8", "ML-9"], "interventions": pd.Series(
        [[{"at": at, "kind": "comment", "ticket": "ML-7", "person": "Nora Kim", "detail": "restarted"}], [], None],
        dtype=object)})
    assert cache.store_frames(tmp_path, "k", {"executions": frame})
    back = cache.load_frames(tmp_path, "k")["executions"]
    pd.testing.assert_frame_equal(back, frame)
    first = back.loc[0, "interventions"]
    assert isinstance(first, list) and first[0]["at"] == at and first[0]["at"].tz is not None
    assert back.loc[1, "interventions"] == [] and back.loc[2, "interventions"] is None


def test_damaged_or_unwritable_cache_is_just_a_miss(tmp_path):
    assert cache.store_frames(tmp_path, "k1", {"weekly": weekly_like()})
    (tmp_path / "metrics" / "k1" / "0.parquet").write_bytes(b"not parquet")
    assert cache.load_frames(tmp_path, "k1") is None
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    assert cache.store_frames(blocked, "k2", {"weekly": weekly_like()}) is False
    unwritable = pd.DataFrame({"odd": [object()]})
    assert cache.store_frames(tmp_path, "k3", {"odd": unwritable}) is False
    assert not (tmp_path / "metrics" / "k3").exists()


def test_prune_keeps_the_most_recently_used(tmp_path):
    for i in range(4):
        assert cache.store_frames(tmp_path, f"k{i}", {"weekly": weekly_like()})
        os.utime(tmp_path / "metrics" / f"k{i}", (1000 + i, 1000 + i))
    assert cache.load_frames(tmp_path, "k0") is not None  # used now: newest
    assert cache.prune(tmp_path, keep=2) == 2
    assert sorted(p.name for p in (tmp_path / "metrics").iterdir()) == ["k0", "k3"]


@pytest.mark.parametrize("keep", [0])
def test_prune_everything(tmp_path, keep):
    cache.store_frames(tmp_path, "k", {"weekly": weekly_like()})
    assert cache.prune(tmp_path, keep=keep) == 1 and cache.load_frames(tmp_path, "k") is None


def test_the_service_reads_back_what_it_computed(full_demo, tmp_path, monkeypatch):
    """metrics/service.py: the second computation comes from the disk cache, with every frame equal to a fresh
    computation, and the evidence (facts loaded on first use) the same; new data computes afresh."""
    import dataclasses
    import pickle

    from sqlalchemy import text

    from metrics import service
    from metrics.engagement import EngagementMetrics

    monkeypatch.setenv("BATON_CACHE_DIR", str(tmp_path / "cache"))
    cfg, engine = service.open_engagement(full_demo["toml"], full_demo["url"])
    fresh = service.engagement_metrics(cfg, engine, use_cache=False)
    assert not (tmp_path / "cache").exists()
    first = service.engagement_metrics(cfg, engine)
    stored = sorted(p.name for p in (tmp_path / "cache" / "metrics").iterdir())
    assert len(stored) == 2 and stored[1] == f"{stored[0]}-facts"  # the entry, and the readiness facts beside it
    calls = []
    real_compute = service.compute
    monkeypatch.setattr(service, "compute", lambda *a, **k: calls.append(1) or real_compute(*a, **k))
    cached = service.engagement_metrics(cfg, engine)
    assert calls == [] and cached is not first
    for f in dataclasses.fields(EngagementMetrics):
        if f.name in ("cfg", "facts", "memo"):
            continue
        want, got = getattr(fresh, f.name), getattr(cached, f.name)
        if isinstance(want, pd.DataFrame):
            pd.testing.assert_frame_equal(got, want, obj=f.name)
        elif dataclasses.is_dataclass(want):
            for g in dataclasses.fields(want):
                a, b = getattr(want, g.name), getattr(got, g.name)
                if isinstance(a, pd.DataFrame):
                    pd.testing.assert_frame_equal(b, a, obj=f"github.{g.name}")
                else:
                    assert a == b
        else:
            assert got == want, f.name
    week = cached.latest_week()
    for key in ("internal_commit_share", "internal_pr_share", "exit_readiness"):
        pd.testing.assert_frame_equal(service.evidence(cached, key, week), service.evidence(fresh, key, week))
    assert service.reconcile(cached, "internal_commit_share", week) == []
    copy = pickle.loads(pickle.dumps(service.engagement_metrics(cfg, engine)))  # as Streamlit's cache copies it
    pd.testing.assert_frame_equal(service.evidence(copy, "internal_commit_share", week),
                                  service.evidence(fresh, "internal_commit_share", week))
    # Another filter, or a collection that wrote something: computed afresh.
    service.engagement_metrics(cfg, engine, ["fraud-model"])
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO collection_runs (source_id, started_at, finished_at, status, items_seen, "
                          "items_written, items_removed) VALUES (2, '2026-12-01 10:00:00', '2026-12-01 10:00:01', "
                          "'success', 1, 1, 0)"))
    try:
        service.engagement_metrics(cfg, engine)
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM collection_runs WHERE started_at = '2026-12-01 10:00:00'"))
    assert len(calls) == 2
