"""Record & replay (SPEC §8, issue 8 item 3): `collect --record DIR` stores every HTTP exchange of the run,
tokens stripped; a source with `base_url = "replay:DIR"` or `replay = "DIR"` is served from it by the same
client code, with no server process, and the database ends up identical (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import textwrap
import urllib.parse

import pytest

from collectors.__main__ import main
from collectors.demo.jira_replay import JiraSite
from collectors.demo.jira_replay import ReplayServer as JiraServer
from db.engine import make_engine
from db.queries import load_runs
from tests.collectors.conftest import db_snapshot
from tests.support.github_fixtures import FakeRepo, pull, review, run, user
from tests.support.jira_fixtures import STATUSES, comment, history, issue, status_item
from tests.support.replay import ReplayServer

GH_TOKEN, JIRA_TOKEN = "ghp_live_s3cret", "jira-live-s3cret"
ANN, BOB = user("ann", 1), user("bob", 2)
TRAIN = ".github/workflows/train.yml"


def github_repo() -> FakeRepo:
    r = FakeRepo()
    r.pulls = [pull(1, ANN, "2026-09-08T10:00:00Z", "2026-09-09T10:00:00Z", merged="2026-09-09T10:00:00Z"),
               pull(2, BOB, "2026-09-08T11:00:00Z", "2026-09-10T10:00:00Z"),
               pull(3, None, "2026-09-09T11:00:00Z", "2026-09-11T10:00:00Z", closed="2026-09-11T10:00:00Z")]
    r.files = {1: ["train/a.py", "eval/b.py"], 2: ["data/x.py"]}
    r.reviews = {1: [review(11, BOB, "APPROVED", "2026-09-09T09:00:00Z", number=1)]}
    r.runs = [run(100, TRAIN, "push", ANN, "2026-09-09T10:00:00Z", triggering=BOB, attempt=2,
                  updated="2026-09-09T11:00:00Z"),
              run(101, TRAIN, "schedule", ANN, "2026-09-10T02:00:00Z")]
    r.attempts = {(100, 1): run(100, TRAIN, "push", ANN, "2026-09-09T10:00:00Z", conclusion="failure")}
    return r


def script_issues(server: ReplayServer) -> None:
    """Two issues (one a PR, dropped) with a comment and a timeline, as GitHub's issues endpoints page them."""
    issues = [
        {"number": 7, "id": 1007, "title": "Runbook: retrain", "state": "closed", "user": ANN, "assignee": BOB,
         "labels": [{"name": "runbook"}], "created_at": "2026-09-08T09:00:00Z", "updated_at": "2026-09-10T10:00:00Z",
         "closed_at": "2026-09-10T10:00:00Z", "body": "- [x] freeze\n- [ ] train",
         "html_url": "https://github.com/acme/model/issues/7"},
        {"number": 8, "id": 1008, "title": "a PR", "state": "open", "user": BOB, "pull_request": {"url": "x"},
         "created_at": "2026-09-09T09:00:00Z", "updated_at": "2026-09-11T10:00:00Z"},
    ]
    query = urllib.parse.urlencode({"state": "all", "sort": "updated", "direction": "asc", "per_page": 100})
    server.add("GET", f"/repos/acme/model/issues?{query}", issues)
    server.add("GET", "/repos/acme/model/issues/7/comments?per_page=100",
               [{"id": 501, "user": BOB, "created_at": "2026-09-09T10:00:00Z", "body": "did you freeze?"}])
    server.add("GET", "/repos/acme/model/issues/7/timeline?per_page=100",
               [{"id": 601, "event": "closed", "actor": ANN, "created_at": "2026-09-10T10:00:00Z"}])
    # the rerun asks from its cursor minus the 5-minute overlap
    since = urllib.parse.urlencode({"state": "all", "sort": "updated", "direction": "asc", "per_page": 100,
                                    "since": "2026-09-11T09:55:00Z"})
    server.add("GET", f"/repos/acme/model/issues?{since}", issues[1:])


def jira_site() -> JiraSite:
    ana = {"accountId": "acc-ana", "displayName": "Ana", "accountType": "atlassian"}
    histories = [history(1, "2026-09-08T10:00:00.000+0200", ana, status_item("1", "3"))]
    return JiraSite([issue("OPS-1", 101, created="2026-09-08T09:00:00.000+0200", updated="2026-09-08T10:00:00.000+0200",
                           status="3", histories=histories,
                           comments=[comment(9, "2026-09-08T09:30:00.000+0200", ana, "on it")]),
                     issue("OPS-2", 102, created="2026-09-09T09:00:00.000+0200",
                           updated="2026-09-09T10:00:00.000+0200")], statuses=STATUSES)


def engagement(path, github_url: str, jira_url: str, *, github_replay: str = "", jira_replay: str = "") -> None:
    path.write_text(textwrap.dedent(f"""
        [engagement]
        name = "record and replay"
        start = 2026-09-07
        [[sources.github]]
        repo = "acme/model"
        base_url = "{github_url}"
        token_env = "REC_GH_TOKEN"
        issues = true
        {github_replay}
        [[sources.jira]]
        base_url = "{jira_url}"
        jql = "project = OPS"
        email_env = "REC_JIRA_EMAIL"
        token_env = "REC_JIRA_TOKEN"
        {jira_replay}
    """))


@pytest.fixture
def recorded(tmp_path, db_url, monkeypatch, capsys):
    """Two live collections (local servers; the second incremental) into `db_url`, recorded into tmp_path/rec:
    a recording of a first run and of a rerun replays any number of runs."""
    monkeypatch.setenv("REC_GH_TOKEN", GH_TOKEN)
    monkeypatch.setenv("REC_JIRA_EMAIL", "bot@client.example")
    monkeypatch.setenv("REC_JIRA_TOKEN", JIRA_TOKEN)
    with ReplayServer() as gh, JiraServer(jira_site()) as jira:
        github_repo().script(gh)
        script_issues(gh)
        live = tmp_path / "live.toml"
        engagement(live, gh.base_url, jira.url)
        command = ["collect", "--config", str(live), "--db", db_url, "--record", str(tmp_path / "rec"), "--quiet"]
        assert main(command) == 0, capsys.readouterr().err
        out = capsys.readouterr()
        assert main(command) == 0, capsys.readouterr().err
        rerun = capsys.readouterr().out
        assert "github acme/model: 0 PRs, 0 reviews, 0 runs written; calls used: 2 (2 not modified)" in rerun
        assert gh.unmatched == []
        live_calls = len(gh.received) + len(jira.requests)
    return tmp_path, gh.base_url, jira.url, live_calls, out


def test_recording_then_replay_gives_identical_db_contents(recorded, db_url, second_db_url, monkeypatch, capsys):
    tmp_path, gh_url, jira_url, live_calls, live_out = recorded
    files = sorted(p.name for p in (tmp_path / "rec").iterdir())
    port = jira_url.rsplit(":", 1)[1]
    assert files == ["github-acme-model.jsonl", "github-issues-acme-model.jsonl", f"jira-127.0.0.1-{port}.jsonl"]
    lines = [json.loads(line) for f in (tmp_path / "rec").iterdir() for line in f.read_text().splitlines()]
    exchanges = [x for x in lines if "baton_recording" not in x]
    assert len(exchanges) == live_calls  # every exchange of the run, one line each
    text = "".join(f.read_text() for f in (tmp_path / "rec").iterdir())
    assert GH_TOKEN not in text and JIRA_TOKEN not in text and "authorization" not in text.lower()

    # The replay: no server is running any more, no token is set.
    for name in ("REC_GH_TOKEN", "REC_JIRA_EMAIL", "REC_JIRA_TOKEN"):
        monkeypatch.delenv(name)
    replay = tmp_path / "replay.toml"
    engagement(replay, "replay:rec", jira_url, jira_replay='replay = "rec"')
    assert main(["collect", "--config", str(replay), "--db", second_db_url, "--quiet"]) == 0
    out = capsys.readouterr()
    assert "warning" not in out.err and "error" not in out.err
    assert out.out.splitlines() == live_out.out.splitlines()  # the same counts, calls included
    assert db_snapshot(make_engine(second_db_url)) == db_snapshot(make_engine(db_url))

    # Any number of times: the rerun is incremental (ETags answer 304) and changes nothing.
    before = db_snapshot(make_engine(second_db_url))
    assert main(["collect", "--config", str(replay), "--db", second_db_url, "--quiet"]) == 0
    again = capsys.readouterr().out
    assert "github acme/model: 0 PRs, 0 reviews, 0 runs written; calls used: 2 (2 not modified)" in again
    assert db_snapshot(make_engine(second_db_url)) == before


def test_a_request_the_recording_lacks_is_one_line_and_a_failed_run(recorded, second_db_url, capsys):
    tmp_path, *_ = recorded
    (tmp_path / "rec" / "github-acme-model.jsonl").write_text(
        (tmp_path / "rec" / "github-acme-model.jsonl").read_text().split("\n", 1)[0] + "\n")  # header only
    toml = tmp_path / "gone.toml"
    toml.write_text('[engagement]\nname = "x"\nstart = 2026-09-07\n[[sources.github]]\nrepo = "acme/model"\n'
                    'base_url = "replay:rec"\n')
    assert main(["collect", "--config", str(toml), "--db", second_db_url, "--quiet"]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("Collecting into")]
    assert len(err) == 1 and err[0].startswith("error: GitHub ")
    assert "/repos/acme/model: HTTP 404: Not Found: no recorded answer in the replay" in err[0]
    assert err[0].endswith("record the source again with `python -m collectors collect --record DIR`")
    runs = load_runs(make_engine(second_db_url))
    assert runs["status"].tolist() == ["failed"] and "no recorded answer" in runs["error"][0]
