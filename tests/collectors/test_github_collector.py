"""The GitHub collector through the shared HTTP client against the local replay server (own fixtures).

Scenarios: pagination through /repositories/{id} links, 304 on rerun, incremental PR sweep, deleted
user, a run completed after first seen in progress, re-run attempts, primary and secondary rate limits,
5xx then success, a 5xx storm, a renamed repository (301), and kill -9 mid-collection; every
interruption resumes to the same DB as an uninterrupted run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest
from sqlalchemy import text

from collectors.github.client import GitHubClient, RateLimitStop
from collectors.github.source import GitHubSource
from collectors.runs import CollectError
from db.engine import make_engine
from tests.support.github_fixtures import FakeRepo, pull, review, run, user
from tests.support.paths import ROOT
from tests.support.replay import ReplayServer

ANN, BOB, BOT = user("ann", 1), user("bob", 2), user("dependabot[bot]", 49699333, "Bot")
TRAIN = ".github/workflows/train.yml"
TABLES = {
    "github_pull_requests": "number",
    "github_pr_files": "number, path",
    "github_reviews": "review_id",
    "github_workflow_runs": "run_id, run_attempt",
}


def fake_repo() -> FakeRepo:
    r = FakeRepo()
    r.pulls = [
        pull(1, ANN, "2026-09-08T10:00:00Z", "2026-09-09T10:00:00Z", merged="2026-09-09T10:00:00Z",
             labels=("training",)),
        pull(2, None, "2026-09-08T11:00:00Z", "2026-09-10T10:00:00Z", merged="2026-09-10T10:00:00Z"),
        pull(3, BOB, "2026-09-08T12:00:00Z", "2026-09-11T10:00:00Z"),
        pull(4, BOT, "2026-09-09T12:00:00Z", "2026-09-12T10:00:00Z", closed="2026-09-12T10:00:00Z"),
        pull(5, user("ghost", 10137), "2026-09-09T13:00:00Z", "2026-09-13T10:00:00Z",
             merged="2026-09-13T10:00:00Z"),
    ]
    r.files = {1: ["train/a.py", "train/b.py", "eval/c.py"], 2: ["data/x.py"], 5: ["ops/run.md"]}
    r.reviews = {1: [review(11, BOB, "APPROVED", "2026-09-09T09:00:00Z", number=1),
                     review(12, None, "COMMENTED", "2026-09-09T09:30:00Z", number=1)],
                 3: [review(13, ANN, "PENDING", None, number=3)]}
    r.runs = [
        run(100, TRAIN, "push", ANN, "2026-09-09T10:00:00Z", triggering=BOB, attempt=2,
            updated="2026-09-09T11:00:00Z"),
        run(101, ".github/workflows/data-cut.yml", "schedule", ANN, "2026-09-10T02:00:00Z"),
        run(102, TRAIN, "workflow_dispatch", BOB, "2026-09-11T10:00:00Z", status="in_progress"),
    ]
    r.attempts = {(100, 1): run(100, TRAIN, "push", ANN, "2026-09-09T10:00:00Z", conclusion="failure",
                                updated="2026-09-09T10:30:00Z")}
    return r


def table(engine, name: str) -> pd.DataFrame:
    """Rows as stored; missing values are None (not NaN) so rows compare with ==."""
    df = pd.read_sql(text(f"SELECT * FROM {name} ORDER BY {TABLES[name]}"), engine)  # noqa: S608 - fixed names
    return df.astype(object).where(df.notna(), None)


def _plain(value):
    """One spelling per value whatever the dialect: times as 'YYYY-MM-DD HH:MM:SS', whole numbers as int."""
    if isinstance(value, str) and len(value) >= 19 and value[10] == " " and value[4] == "-":
        return value[:19]
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def snapshot(engine) -> dict[str, list]:
    """Every GitHub row, comparable across SQLite and PostgreSQL."""
    return {name: [{k: _plain(v) for k, v in row.items()}
                   for row in table(engine, name).drop(columns="source_id").to_dict("records")]
            for name in TABLES}


def collect(engine, server: ReplayServer, clients: list | None = None, **kwargs):
    client = GitHubClient(server.base_url, "tok-secret", per_page=2, backoff_factor=0, seconds_between_requests=0,
                          **kwargs)
    if clients is not None:
        clients.append(client)
    try:
        return GitHubSource(engine, client, "acme/model").collect()
    finally:
        client.close()


@pytest.fixture
def server():
    with ReplayServer() as s:
        yield s


def test_collects_prs_reviews_files_runs_through_pages(db_url, server):
    repo = fake_repo()
    repo.script(server, per_page=2)
    engine = make_engine(db_url)
    result = collect(engine, server)
    assert server.unmatched == []
    assert (result.pulls, result.reviews, result.runs) == (5, 3, 4)
    # the second PR page came from the Link header's /repositories/{id} path
    assert any("/repositories/4242/pulls?" in r.target and "page=3" in r.target for r in server.received)
    prs = table(engine, "github_pull_requests").set_index("number")
    assert prs.loc[1, ["author_login", "author_id", "author_type", "labels", "base_ref", "state"]].tolist() == [
        "ann", 1, "User", "training", "main", "closed"]
    assert prs.loc[2, "author_login"] is None and pd.isna(prs.loc[2, "author_id"])  # deleted account
    assert prs.loc[5, "author_login"] == "ghost"
    assert prs.loc[4, "author_type"] == "Bot" and pd.isna(prs.loc[4, "merged_at"])
    assert prs.loc[3, "merge_commit_sha"] is None  # unmerged: the test-merge sha is not kept
    assert pd.Timestamp(prs.loc[1, "merged_at"]) == pd.Timestamp("2026-09-09 10:00:00")
    files = table(engine, "github_pr_files")
    assert files.groupby("number")["path"].apply(list).to_dict() == {
        1: ["eval/c.py", "train/a.py", "train/b.py"], 2: ["data/x.py"], 5: ["ops/run.md"]}
    reviews = table(engine, "github_reviews")
    assert reviews[["review_id", "number", "reviewer_login", "state"]].values.tolist() == [
        [11, 1, "bob", "APPROVED"], [12, 1, None, "COMMENTED"], [13, 3, "ann", "PENDING"]]
    assert reviews["submitted_at"].isna().tolist() == [False, False, True]
    runs = table(engine, "github_workflow_runs")
    assert runs[["run_id", "run_attempt", "actor_login", "triggering_login", "event", "status", "conclusion"]
                ].values.tolist() == [
        [100, 1, "ann", "ann", "push", "completed", "failure"],
        [100, 2, "ann", "bob", "push", "completed", "success"],
        [101, 1, "ann", "ann", "schedule", "completed", "success"],
        [102, 1, "bob", "bob", "workflow_dispatch", "in_progress", None]]
    assert runs["workflow_path"].tolist() == [TRAIN, TRAIN, ".github/workflows/data-cut.yml", TRAIN]
    ids = pd.read_sql(text("SELECT kind, value FROM identities ORDER BY value"), engine)
    assert ids.values.tolist() == [["github", "ann"], ["github", "bob"], ["github", "dependabot[bot]"],
                                   ["github", "ghost"]]


def test_rerun_with_nothing_new_costs_at_most_one_call_per_stream(db_url, server):
    repo = fake_repo()
    for r in repo.runs:  # all completed, so no run is pending
        r.update(status="completed", conclusion="success")
    repo.script(server, per_page=2)
    engine = make_engine(db_url)
    first = collect(engine, server)
    before = snapshot(engine)
    second = collect(engine, server)
    third = collect(engine, server)
    assert first.calls > 10
    assert second.calls <= 2 and (second.pulls, second.reviews) == (0, 0)
    assert third.calls == 2 and third.not_modified == 2
    assert [r.status for r in server.received[-2:]] == [304, 304]
    assert all("If-None-Match" in r.headers for r in server.received[-2:])
    assert snapshot(engine) == before


def test_incremental_sweep_stops_past_the_cursor_and_refetches_unfinished_runs(db_url, server):
    repo = fake_repo()
    repo.script(server, per_page=2)
    engine = make_engine(db_url)
    collect(engine, server)
    # PR 3 gets merged and approved; run 102 completes
    repo.pulls[2].update(updated_at="2026-09-14T10:00:00Z", merged_at="2026-09-14T10:00:00Z",
                         closed_at="2026-09-14T10:00:00Z", state="closed")
    repo.reviews[3].append(review(14, ANN, "APPROVED", "2026-09-14T09:00:00Z", number=3))
    repo.runs[2].update(status="completed", conclusion="success", updated_at="2026-09-11T12:00:00Z")
    repo.script(server, per_page=2, replace=True)
    n = len(server.received)
    result = collect(engine, server)
    asked = [r.target for r in server.received[n:]]
    assert (result.pulls, result.reviews) == (2, 2)  # PR 3 and PR 5 (updated at the cursor) re-read
    assert not any("/pulls/1/" in a or "/pulls/2/" in a or "/pulls/4/" in a for a in asked)
    prs = table(engine, "github_pull_requests").set_index("number")
    assert pd.Timestamp(prs.loc[3, "merged_at"]) == pd.Timestamp("2026-09-14 10:00:00")
    runs = table(engine, "github_workflow_runs").set_index("run_id")
    assert runs.loc[102, ["status", "conclusion"]].tolist() == ["completed", "success"]
    assert len(table(engine, "github_workflow_runs")) == 4


def _uninterrupted(tmp_path) -> dict:
    engine = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    with ReplayServer() as s:
        fake_repo().script(s, per_page=2)
        collect(engine, s)
    return snapshot(engine)


def test_primary_rate_limit_waits_for_the_reset_with_a_countdown(db_url, server, capsys):
    repo = fake_repo()
    first_page = "/repositories/4242/pulls?state=all&sort=updated&direction=desc&per_page=2"
    # The reset lies 30 s ahead; sleeping is injected, so the test does not wait. A busy machine may take some
    # seconds between building the reply and reading it, hence the lower bound's slack.
    reset = str(int(time.time()) + 30)
    server.add("GET", first_page, {"message": "API rate limit exceeded for user ID 1.",
                                   "documentation_url": "https://docs.github.com/rest/rate-limit"},
               status=403, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "5000",
                                    "X-RateLimit-Reset": reset, "X-RateLimit-Used": "5000"})
    repo.script(server, per_page=2)
    slept = []
    engine = make_engine(db_url)
    result = collect(engine, server, max_wait=60, sleep=slept.append)
    assert result.pulls == 5
    assert 20 <= sum(slept) <= 31  # until the reset (+1 s), in one-second steps
    assert "GitHub rate limit: waiting" in capsys.readouterr().err


def test_primary_rate_limit_over_max_wait_stops_with_cursor_saved_then_resumes(db_url, server, tmp_path):
    repo = fake_repo()
    repo.script(server, per_page=2)
    runs_page = "/repositories/4242/actions/runs?per_page=2"
    server.replace("GET", runs_page, {"message": "API rate limit exceeded for user ID 1."}, status=403,
                   headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "5000",
                            "X-RateLimit-Reset": str(int(time.time()) + 3600)})
    engine = make_engine(db_url)
    with pytest.raises(RateLimitStop, match="more than --max-wait 10 s; stopped with the cursor saved"):
        collect(engine, server, max_wait=10)
    assert len(table(engine, "github_pull_requests")) == 5  # the PR stream finished and kept its cursor
    runs = pd.read_sql(text("SELECT status, error FROM collection_runs"), engine)
    assert runs["status"].tolist() == ["failed"] and "rerun after the reset" in runs["error"][0]
    repo.script(server, per_page=2, replace=True)  # the limit has reset
    n = len(server.received)
    collect(engine, server)
    assert server.received[n].status == 304  # PR stream resumed from its cursor
    assert snapshot(engine) == _uninterrupted(tmp_path)


def test_secondary_rate_limit_honours_retry_after(db_url, server):
    repo = fake_repo()
    path = "/repositories/4242/pulls/1/reviews?per_page=2"
    server.add("GET", path, {"message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                                        "before you try again."}, status=403, headers={"Retry-After": "1"})
    repo.script(server, per_page=2)
    engine = make_engine(db_url)
    started = time.monotonic()
    result = collect(engine, server)
    assert time.monotonic() - started >= 1.0
    assert result.reviews == 3
    assert [r.status for r in server.received if r.target == path] == [403, 200]


def test_5xx_then_success_is_retried(db_url, server):
    repo = fake_repo()
    path = "/repositories/4242/pulls/2/files?per_page=2"
    server.add("GET", path, {"message": "Server Error"}, status=502)
    server.add("GET", path, {"message": "Server Error"}, status=500)
    repo.script(server, per_page=2)
    engine = make_engine(db_url)
    result = collect(engine, server)
    assert [r.status for r in server.received if r.target == path] == [502, 500, 200]
    assert result.calls == len(server.received)  # retries are counted
    assert table(engine, "github_pr_files").query("number == 2")["path"].tolist() == ["data/x.py"]


def test_5xx_storm_fails_cleanly_and_the_rerun_completes(db_url, server, tmp_path):
    repo = fake_repo()
    repo.script(server, per_page=2)
    page2 = "/repositories/4242/pulls?state=all&sort=updated&direction=desc&per_page=2&page=2"
    server.replace("GET", page2, {"message": "Bad Gateway"}, status=502)
    engine = make_engine(db_url)
    with pytest.raises(CollectError, match="still failing after retries") as err:
        collect(engine, server, retries=2)
    assert "tok-secret" not in str(err.value)
    assert len(table(engine, "github_pull_requests")) == 2  # page 1 was written whole, page 2 not at all
    repo.script(server, per_page=2, replace=True)
    collect(engine, server)
    assert snapshot(engine) == _uninterrupted(tmp_path)


def test_renamed_repository_is_followed(db_url, server):
    repo = fake_repo()
    repo.script(server, per_page=2)
    server.add("GET", "/repos/acme/old-name", {"message": "Moved Permanently",
                                               "url": "https://api.github.com/repositories/4242"},
               status=301, headers={"Location": "https://api.github.com/repositories/4242"})
    server.add("GET", "/repositories/4242", {"id": 4242, "full_name": "acme/model"})
    engine = make_engine(db_url)
    client = GitHubClient(server.base_url, None, per_page=2, backoff_factor=0, seconds_between_requests=0)
    result = GitHubSource(engine, client, "acme/old-name").collect()
    assert result.repo == "acme/model" and result.pulls == 5
    assert [r.status for r in server.received[:2]] == [301, 200]


def test_bad_token_is_one_clear_line_without_the_token(db_url, server):
    server.add("GET", "/repos/acme/model", {"message": "Bad credentials"}, status=401)
    engine = make_engine(db_url)
    with pytest.raises(CollectError) as err:
        collect(engine, server)
    assert str(err.value) == (f"GitHub {server.base_url}/repos/acme/model: HTTP 401: Bad credentials — the token "
                              "was refused (check the token environment variable)")


KILL_SCRIPT = textwrap.dedent("""
    import sys
    from collectors.github.client import GitHubClient
    from collectors.github.source import GitHubSource
    from db.engine import make_engine
    client = GitHubClient(sys.argv[2], "tok", per_page=2, backoff_factor=0, seconds_between_requests=0)
    GitHubSource(make_engine(sys.argv[1]), client, "acme/model").collect()
""")


def test_kill_9_mid_collection_resumes_to_the_same_db(tmp_path, server):
    repo = fake_repo()
    held = "/repositories/4242/pulls/1/files?per_page=2"  # the third PR page, after two pages were written
    server.add("GET", held, [], delay=30)
    repo.script(server, per_page=2)
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    make_engine(url)
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, url, server.base_url], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 20
    while not server.waiting and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.waiting, "the collector never reached the held request"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    engine = make_engine(url)
    assert len(table(engine, "github_pull_requests")) == 4
    repo.script(server, per_page=2, replace=True)
    collect(engine, server)
    assert snapshot(engine) == _uninterrupted(tmp_path)
    statuses = pd.read_sql(text("SELECT status FROM collection_runs ORDER BY id"), engine)["status"].tolist()
    assert statuses == ["abandoned", "success"]


def test_collect_cli_prints_calls_used_and_a_rerun_costs_one_call_per_stream(tmp_path, server):
    repo = fake_repo()
    for r in repo.runs:
        r.update(status="completed", conclusion="success")
    repo.script(server)
    toml = tmp_path / "engagement.toml"
    toml.write_text(textwrap.dedent(f"""
        [engagement]
        name = "x"
        start = 2026-09-07
        [[sources.github]]
        repo = "acme/model"
        token_env = "BATON_TEST_GH_TOKEN"
        base_url = "{server.base_url}"
    """))
    env = {**os.environ, "BATON_TEST_GH_TOKEN": "s3cret-token"}
    cmd = [sys.executable, "-m", "collectors", "collect", "--config", str(toml)]
    outs = [subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env) for _ in range(3)]
    assert [o.returncode for o in outs] == [0, 0, 0], outs[0].stderr
    assert outs[0].stdout.startswith("github acme/model: 5 PRs, 3 reviews, 4 runs written; calls used: ")
    assert outs[2].stdout.strip() == ("github acme/model: 0 PRs, 0 reviews, 0 runs written; calls used: 2 "
                                      "(2 not modified)")
    assert all(r.headers.get("Authorization") == "Bearer s3cret-token" for r in server.received)
    assert all("s3cret-token" not in o.stdout + o.stderr for o in outs)


def test_429_primary_limit_waits_for_the_reset_and_429_with_retry_after_waits_as_told(db_url, server):
    repo = fake_repo()
    server.add("GET", "/repositories/4242/pulls/1/files?per_page=2", {"message": "API rate limit exceeded"},
               status=429, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 30)})
    server.add("GET", "/repositories/4242/pulls/2/files?per_page=2", {"message": "Too many requests"}, status=429,
               headers={"Retry-After": "1"})
    repo.script(server, per_page=2)
    slept, clients = [], []
    result = collect(make_engine(db_url), server, clients, max_wait=60, sleep=slept.append)
    assert result.pulls == 5
    waits = clients[0].waits
    # PR 2 is swept before PR 1 (updated, descending)
    assert len(waits) == 2 and waits[0] == 1.0  # Retry-After honoured as told
    assert 20 <= waits[1] <= 31  # the primary limit: a countdown until the reset (+1 s)
    assert sum(slept) == pytest.approx(sum(waits))  # counted down through the injected sleep
    for n in (1, 2):
        assert [r.status for r in server.received if r.target == f"/repositories/4242/pulls/{n}/files?per_page=2"
                ] == [429, 200]
