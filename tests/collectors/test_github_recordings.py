"""The collector against real GitHub recordings in ../shared/api-samples (skipped with a reason when absent).

- Every PR, review and workflow-run response in the PyGithub ReplayData, hub4j WireMock and octokit
  recordings is fetched through PyGithub from the replay server and mapped to rows without error, with
  authors, triggering actors and times as the recordings hold them.
- DevLake's raw rows (real api.github.com responses for panjf2000/ants) are served as a repository and
  collected end to end; hub4j's rate-limit scenarios and octokit's rename scenario are replayed as recorded.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from collectors.github.client import GitHubClient, parse_time
from collectors.github.source import GitHubSource, pull_row, review_row, run_row
from db.engine import make_engine
from tests.support.github_fixtures import FakeRepo
from tests.support.paths import SAMPLES
from tests.support.replay import Exchange, ReplayServer, load_octokit, load_pygithub, load_wiremock

if not SAMPLES.is_dir():
    SAMPLES = Path("/work/shared/api-samples")
pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"recordings not present at {SAMPLES}")

PR_PATH = re.compile(r"/pulls(/\d+)?$")
REVIEW_PATH = re.compile(r"/pulls/\d+/reviews(/\d+)?$")
RUN_PATH = re.compile(r"/actions/(runs(/\d+)?(/attempts/\d+)?|workflows/[^/]+/runs)$")


def _kind(ex: Exchange) -> str | None:
    path = ex.target.split("?")[0]
    if ex.method != "GET" or ex.status != 200:
        return None
    for kind, pattern in (("review", REVIEW_PATH), ("pull", PR_PATH), ("run", RUN_PATH)):
        if pattern.search(path):
            return kind
    return None


def all_recorded() -> list[Exchange]:
    exchanges = []
    for f in sorted((SAMPLES / "pygithub-replaydata").glob("*.txt")):
        exchanges += load_pygithub(f)
    for scenario in sorted((SAMPLES / "hub4j-github-api-wiremock").glob("*/*")):
        if (scenario / "mappings").is_dir():
            exchanges += load_wiremock(scenario)
    for f in sorted((SAMPLES / "octokit-fixtures").glob("*.json")):
        exchanges += load_octokit(f)
    return exchanges


def _login(u: dict | None) -> str | None:
    return u.get("login") if u else None


def test_every_recorded_pr_review_and_run_parses_as_recorded():
    wanted = [(ex, _kind(ex)) for ex in all_recorded()]
    wanted = [(ex, kind) for ex, kind in wanted if kind]
    counts = {"pull": 0, "review": 0, "run": 0}
    with ReplayServer([ex for ex, _ in wanted]) as server:
        client = GitHubClient(server.base_url, "private_token_removed", backoff_factor=0, seconds_between_requests=0)
        for ex, kind in wanted:
            page = client.get_page(ex.target)
            raw = json.loads(ex.body)
            raw_items = raw.get("workflow_runs", raw) if isinstance(raw, dict) and kind == "run" else raw
            raw_items = raw_items if isinstance(raw_items, list) else [raw_items]
            assert len(page.items) == len(raw_items), ex.target
            for item, rec in zip(page.items, raw_items, strict=True):
                counts[kind] += 1
                if kind == "pull":
                    row = pull_row(1, item)
                    assert row["author_login"] == _login(rec.get("user"))
                    assert row["created_at"] == parse_time(rec.get("created_at"))
                    assert row["merged_at"] == parse_time(rec.get("merged_at"))
                    assert row["base_ref"] == rec["base"]["ref"]
                elif kind == "review":
                    row = review_row(1, 1, item)
                    assert (row["reviewer_login"], row["state"]) == (_login(rec.get("user")), rec["state"])
                    assert row["submitted_at"] == parse_time(rec.get("submitted_at"))
                else:
                    row = run_row(1, item)
                    trig = rec.get("triggering_actor") or rec.get("actor")
                    assert (row["actor_login"], row["triggering_login"]) == (_login(rec.get("actor")), _login(trig))
                    assert row["created_at"] == parse_time(rec.get("created_at"))
                    assert row["run_attempt"] == rec.get("run_attempt", 1)
        assert server.unmatched == []
    assert counts["pull"] >= 20 and counts["review"] >= 5 and counts["run"] >= 50, counts


def test_recorded_values_hand_checked():
    """A few values read by eye from the recordings (PyGithub WorkflowRun.setUp, PullRequestReview)."""
    run_ex = load_pygithub(SAMPLES / "pygithub-replaydata" / "WorkflowRun.setUp.txt")
    review_ex = load_pygithub(SAMPLES / "pygithub-replaydata" / "PullRequestReview.testAttributes.txt")
    with ReplayServer(run_ex + review_ex) as server:
        client = GitHubClient(server.base_url, None, backoff_factor=0, seconds_between_requests=0)
        run = run_row(1, client.get_json("/repos/PyGithub/PyGithub/actions/runs/3881497935"))
        reviews = client.get_page("/repos/PyGithub/PyGithub/pulls/538/reviews").items
    assert (run["event"], run["actor_login"], run["triggering_login"], run["workflow_path"], run["name"]) == (
        "pull_request", "nuang-ee", "nuang-ee", ".github/workflows/ci.yml", "CI")
    assert (run["created_at"], run["updated_at"]) == (dt.datetime(2023, 1, 10, 8, 24, 19),
                                                      dt.datetime(2023, 1, 10, 8, 28, 20))
    first = review_row(1, 538, reviews[0])
    assert (first["review_id"], first["reviewer_login"], first["state"], first["submitted_at"]) == (
        28482091, "jzelinskie", "APPROVED", dt.datetime(2017, 3, 22, 19, 6, 59))


def _devlake(name: str) -> list[dict]:
    with open(SAMPLES / "devlake-raw-tables" / "github" / name, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    seen, out = set(), []
    for r in rows:  # DevLake stored the same response once per connection: keep each object once
        data = json.loads(r["data"])
        if data["id"] not in seen:
            seen.add(data["id"])
            out.append({**data, "_url": r["url"], "_input": r["input"]})
    return out


def test_devlake_repository_collected_end_to_end(tmp_path):
    pulls = _devlake("_raw_github_api_pull_requests.csv")
    reviews = _devlake("_raw_github_api_pull_request_reviews.csv")
    runs = _devlake("_raw_github_api_runs.csv")
    repo = FakeRepo(full_name="panjf2000/ants", repo_id=98765)
    repo.pulls = pulls
    for r in reviews:
        repo.reviews.setdefault(json.loads(r["_input"])["Number"], []).append(r)
    repo.runs = runs
    with ReplayServer() as server:
        repo.script(server, per_page=30)
        engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
        client = GitHubClient(server.base_url, None, per_page=30, backoff_factor=0, seconds_between_requests=0)
        result = GitHubSource(engine, client, "panjf2000/ants").collect()
        # earlier attempts of re-runs were not recorded: GitHub's 404 for them is skipped, not fatal
        reruns = {(r["id"], n) for r in runs for n in range(1, r["run_attempt"])}
        assert set(server.unmatched) == {f"GET /repositories/98765/actions/runs/{rid}/attempts/{n}"
                                         for rid, n in reruns}
    assert (result.pulls, result.reviews, result.runs) == (len(pulls), len(reviews), len(runs))
    import pandas as pd

    stored = pd.read_sql("SELECT * FROM github_workflow_runs", engine)
    assert (stored["actor_login"] != stored["triggering_login"]).sum() == 21  # as API-SHAPES counts
    assert set(stored["event"]) == {"push", "pull_request", "schedule"}
    prs = pd.read_sql("SELECT * FROM github_pull_requests", engine)
    assert prs["merged_at"].notna().sum() == sum(1 for p in pulls if p["merged_at"])


@pytest.mark.parametrize("scenario", ["testHandler_Wait_Secondary_Limits",
                                      "testHandler_Wait_Secondary_Limits_Too_Many_Requests"])
def test_hub4j_secondary_limit_recordings_are_waited_out(scenario):
    exchanges = load_wiremock(SAMPLES / "hub4j-github-api-wiremock" / "AbuseLimitHandlerTest" / scenario)
    limited = next(ex for ex in exchanges if ex.status in (403, 429))
    for ex in exchanges:  # the recorded Retry-After is templated by WireMock; GitHub sends seconds
        ex.headers = [(k, "1" if k.lower() == "retry-after" else v) for k, v in ex.headers
                      if "{{" not in str(v)]
    with ReplayServer(exchanges) as server:
        client = GitHubClient(server.base_url, None, backoff_factor=0, seconds_between_requests=0,
                              secondary_wait=1, max_wait=5, sleep=lambda s: None)
        repo = client.get_json(limited.target)
    assert repo["name"] == limited.target.rsplit("/", 1)[1]
    assert [r.status for r in server.received] == [limited.status, 200]


def test_octokit_renamed_repository_is_followed(tmp_path):
    exchanges = [ex for ex in load_octokit(SAMPLES / "octokit-fixtures" / "rename-repository.normalized-fixture.json")
                 if ex.method == "GET"]
    with ReplayServer(exchanges) as server:
        engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
        client = GitHubClient(server.base_url, None, backoff_factor=0, seconds_between_requests=0)
        repo_id, full_name = GitHubSource(engine, client, "octokit-fixture-org/rename-repository").resolve_repo({})
    assert (repo_id, full_name) == (1000, "octokit-fixture-org/rename-repository-newname")
