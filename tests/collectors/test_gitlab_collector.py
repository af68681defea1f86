"""The GitLab collector against a local GitLab server serving REAL recorded objects (DevLake's GitLab raw tables
in ../shared/api-samples; skipped when absent): merge requests (gitlab.com project, 24 distinct MRs), their
notes, approvals from "approved this merge request" notes where the approvals endpoint is missing, pipelines
(list shape, and detail with `user`), jobs (a self-managed instance's); `X-Next-Page` paging without Link, a
429 with `RateLimit-Reset` waited for, `updated_after` sweeps so a second collection re-reads nothing, and the
MRs counted in internal_pr_share (hand-computed). SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from collectors.driver import run_source
from collectors.gitlab.client import GitLabClient
from collectors.gitlab.source import GitLabProjectSource
from db.engine import make_engine
from db.queries import load_source_frames
from engagement.config import GitLabSource
from metrics.engagement import SourceData, compute
from metrics.engagement_file import parse_engagement
from tests.support.gitlab_server import GitLabServer, devlake_rows
from tests.support.paths import SAMPLES

RAW = SAMPLES / "devlake-raw-tables" / "gitlab"
pytestmark = pytest.mark.skipif(not RAW.exists(), reason="../shared/api-samples is not beside the clone")
PROJECT = {"id": 12345678, "path_with_namespace": "gitlab-data/analytics"}


def recorded_server(**kw) -> GitLabServer:
    mrs = devlake_rows(RAW / "_raw_gitlab_api_merge_requests.csv")
    known = {m["iid"] for m in mrs}
    mrs += [m for m in devlake_rows(RAW / "_raw_gitlab_api_merge_requests_for_mr_notes_test.csv")
            if m["iid"] not in known]
    jobs = devlake_rows(RAW / "_raw_gitlab_api_job.csv")
    job_pipelines = {j["pipeline"]["id"]: {**j["pipeline"], "source": None} for j in jobs}
    notes = devlake_rows(RAW / "_raw_gitlab_api_merge_request_notes.csv")
    return GitLabServer(PROJECT, merge_requests=mrs, notes=notes,
                        pipelines=devlake_rows(RAW / "_raw_gitlab_api_pipeline.csv") + list(job_pipelines.values()),
                        pipeline_details=devlake_rows(RAW / "_raw_gitlab_api_pipeline_details.csv"), jobs=jobs, **kw)


def frame(engine, table: str) -> pd.DataFrame:
    from db.models import Base

    with engine.connect() as conn:
        return pd.read_sql(Base.metadata.tables[table].select(), conn)


def collect(engine, server: GitLabServer, waits: list[float] | None = None, per_page: int = 5):
    client = GitLabClient(server.url, token="glpat-s3cret", per_page=per_page,
                          sleep=(waits.append if waits is not None else lambda s: None))
    source = GitLabProjectSource(GitLabSource(project=PROJECT["path_with_namespace"], base_url=server.url),
                                 client=client)
    result = run_source(engine, source, progress=False)
    client.close()
    return result, source


def test_recorded_merge_requests_notes_approvals_pipelines_and_jobs_parse(db_url):
    engine = make_engine(db_url)
    with recorded_server(link=False) as server:  # paging by X-Next-Page alone
        result, source = collect(engine, server)
    assert result.status == "success"
    mrs = frame(engine, "gitlab_merge_requests").set_index("iid").sort_index()
    assert len(mrs) == 24 and mrs["state"].value_counts().to_dict() == {"merged": 12, "opened": 8, "closed": 4}
    one = mrs.loc[1]
    assert (one["author_username"], one["merge_username"], one["target_branch"], one["merge_commit_sha"]) == (
        "emilie", "tayloramurphy", "master", "da1d6dea48f5972ffc683da6cff30934e7d6c52c")
    assert one["merged_at"] == dt.datetime(2019, 6, 28, 14, 32, 6, 192000)
    assert mrs.loc[14, "squash_commit_sha"] == "7f928f936c58b2e001f86d07b1f7b9411413e439"
    assert mrs.loc[1, "web_url"].startswith("https://gitlab.com/")
    notes = frame(engine, "gitlab_notes")
    assert len(notes) == 26 and notes["system"].sum() == 22
    assert server.calls("/merge_requests/1/notes?") and any("page=3" in c for c in server.calls("/merge_requests/1/"))

    approvals = frame(engine, "gitlab_approvals").sort_values(["iid"])
    # /approvals answers 404 here: approvers are whoever's last approve/unapprove note approves (37: re-approved).
    assert approvals[["iid", "username", "approved_at_source"]].values.tolist() == [
        [29, "liyongfeng", "note"], [30, "liyongfeng", "note"], [37, "basicthinker", "note"],
        [46, "hackwaly", "note"]]
    assert approvals.set_index("iid").loc[37, "approved_at"] == dt.datetime(2019, 1, 29, 0, 40, 47, 455000)

    pipelines = frame(engine, "gitlab_pipelines").set_index("pipeline_id")
    assert len(pipelines) == 29 + 16 + 58
    detail = pipelines.loc[1078343570]
    assert (detail["user_username"], detail["source"], detail["status"], detail["duration"]) == (
        "sunlei.sam", "merge_request_event", "success", 1512)
    assert detail["started_at"] == dt.datetime(2023, 11, 20, 7, 17, 10, 123000)
    assert pd.isna(pipelines.loc[457474837, "user_username"])  # list shape only: no user recorded
    jobs = frame(engine, "gitlab_jobs")
    assert len(jobs) == 75 and set(jobs["stage"]) >= {"test"}
    assert jobs.set_index("job_id").loc[152, ["name", "status", "user_username"]].tolist() == ["format", "failed",
                                                                                              "merico"]
    assert "glpat-s3cret" not in str(result)
    engine.dispose()


def test_second_collection_rereads_nothing_and_a_429_waits_for_ratelimit_reset(db_url):
    engine = make_engine(db_url)
    with recorded_server() as server:
        collect(engine, server)
        first = {t: frame(engine, t) for t in ("gitlab_merge_requests", "gitlab_notes", "gitlab_pipelines",
                                               "gitlab_jobs", "gitlab_approvals")}
        calls = len(server.received)
        server.throttle(f"/api/v4/projects/{PROJECT['id']}/merge_requests", times=1, reset_in=3)
        waits: list[float] = []
        result, source = collect(engine, server, waits)
        second = server.received[calls:]
    assert result.status == "success"
    assert 2.0 <= sum(waits) <= 5.0  # RateLimit-Reset (epoch) + 1 s, counted down
    assert not [c for c in second if "/notes" in c or "/jobs" in c or "/pipelines/" in c]  # nothing changed
    assert source.counts["merge_requests"] == 0 and source.counts["pipelines"] == 0
    for table, before in first.items():
        pd.testing.assert_frame_equal(frame(engine, table), before)
    engine.dispose()


def test_recorded_merge_requests_count_in_internal_pr_share(sqlite_url):
    """From Mon 2019-06-24 (UTC), the recording's first merges: MR 1 emilie (internal) Fri Jun 28 -> week 1; MR 2
    tayloramurphy (vendor) Sun Aug 4 -> week 6; MR 3 martinguindon (vendor) and MR 4 emilie Mon Aug 26 -> week 10.
    week 1: internal 1 -> 1.0; week 6: vendor 1 -> 0.0; week 10: internal 1, vendor 1 -> 0.5."""
    engine = make_engine(sqlite_url)
    with recorded_server() as server:
        collect(engine, server, per_page=100)
    cfg = parse_engagement({
        "engagement": {"name": "GitLab", "start": dt.date(2019, 6, 24), "weeks": 12, "timezone": "UTC"},
        "people": [{"name": "Emilie", "gitlab": ["emilie"], "affiliations": [{"side": "internal"}]},
                   {"name": "Taylor", "gitlab": ["tayloramurphy"], "affiliations": [{"side": "vendor"}]},
                   {"name": "Martin", "gitlab": ["martinguindon"], "affiliations": [{"side": "vendor"}]}],
        "sources": {"gitlab": [{"project": "gitlab-data/analytics"}]}})
    m = compute(cfg, SourceData(**load_source_frames(engine)), today=dt.datetime(2019, 9, 16, tzinfo=dt.UTC))
    merged = frame(engine, "gitlab_merge_requests").dropna(subset=["merged_at"]).sort_values("merged_at")
    assert merged[["iid", "author_username"]].head(4).values.tolist() == [
        [1, "emilie"], [2, "tayloramurphy"], [3, "martinguindon"], [4, "emilie"]]
    rows = m.weekly[(m.weekly["kpi"] == "internal_pr_share") & m.weekly["capability"].isna()].set_index("week")
    counted = rows[((rows["internal"] + rows["vendor"]) > 0) & (rows.index <= 12)]  # later merges: 2020 on
    assert [[w, *r] for w, r in zip(counted.index, counted[["internal", "vendor", "value"]].values.tolist(),
                                    strict=True)] == [[1, 1, 0, 1.0], [6, 0, 1, 0.0], [10, 1, 1, 0.5]]
    engine.dispose()
