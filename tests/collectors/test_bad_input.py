"""Bad input on the collectors' side (issue 9 item 8): a GitHub base_url that is not an http(s) URL, a 200 answer
that is an HTML sign-in page or JSON of an unexpected shape, a bad database URL or port, a full disk. Each is
one line naming the input, a non-zero exit, the run logged failed (never left 'running'), and the other
sources still run."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from collectors.__main__ import main
from collectors.demo.jira_replay import JiraSite
from collectors.demo.jira_replay import ReplayServer as JiraServer
from db.engine import make_engine
from db.queries import load_runs
from tests.support.jira_fixtures import STATUSES, issue
from tests.support.replay import ReplayServer

ROOT = Path(__file__).resolve().parents[2]


def errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if not line.startswith(("Collecting into", "warning:"))]


def write(tmp_path: Path, body: str) -> Path:
    toml = tmp_path / "engagement.toml"
    toml.write_text('[engagement]\nname = "bad input"\nstart = 2026-09-07\n' + textwrap.dedent(body))
    return toml


@pytest.fixture
def git_source(git_repo) -> str:
    git_repo.commit("kept", {"a.txt": "a\n"})
    return f'[[sources.git]]\npath = "{git_repo.path}"\nname = "good"\n'


@pytest.mark.parametrize("base_url", ["ftp://github.example.com", "not a url", "https://"])
def test_github_base_url_that_is_not_http_is_one_line_and_the_git_source_still_runs(base_url, tmp_path, db_url,
                                                                                     git_source, capsys):
    toml = write(tmp_path, git_source + f'[[sources.github]]\nrepo = "acme/model"\nbase_url = "{base_url}"\n')
    assert main(["collect", "--config", str(toml), "--db", db_url, "--quiet"]) == 1
    out = capsys.readouterr()
    assert errors(out.err) == [f"error: GitHub base_url {base_url!r}: expected an http(s) URL (like "
                               "https://api.github.com) or replay:DIR (a recording made with `collect --record DIR`)"]
    assert out.out.startswith("git good: 1 commits read")
    runs = load_runs(make_engine(db_url)).set_index("source")
    assert runs.loc["good", "status"] == "success"
    assert runs.loc["acme/model", "status"] == "failed"
    assert runs.loc["acme/model", "error"].startswith("GitHub base_url")


def test_a_200_html_sign_in_page_is_one_line_and_jira_still_runs(tmp_path, db_url, capsys):
    page = "<!DOCTYPE html><html><head><title>Sign in – Acme SSO</title></head><body>Log in</body></html>"
    with ReplayServer() as gh, JiraServer(JiraSite([issue("OPS-1", 1, created="2026-09-08T09:00:00.000+0200",
                                                          updated="2026-09-08T10:00:00.000+0200")],
                                                   statuses=STATUSES)) as jira:
        gh.add("GET", "/repos/acme/model", page, headers={"Content-Type": "text/html; charset=utf-8"})
        toml = write(tmp_path, f"""
            [[sources.github]]
            repo = "acme/model"
            base_url = "{gh.base_url}"
            [[sources.jira]]
            base_url = "{jira.url}"
            jql = "project = OPS"
        """)
        assert main(["collect", "--config", str(toml), "--db", db_url, "--quiet"]) == 1
    out = capsys.readouterr()
    assert errors(out.err) == [f"error: GitHub {gh.base_url}/repos/acme/model: expected JSON, got an HTML page titled "
                               "'Sign in – Acme SSO' (HTTP 200): a proxy or single-sign-on page? check base_url and "
                               "the network"]
    assert "jira 127.0.0.1" in out.out and "1 issues seen, 1 fetched" in out.out
    runs = load_runs(make_engine(db_url))
    assert sorted(runs["status"]) == ["failed", "success"]


@pytest.mark.parametrize(("path", "answer", "message"), [
    ("/repos/acme/model", [{"id": 1}], "GitHub {url}/repos/acme/model: expected a JSON object, got list"),
    ("/repos/acme/model", {"id": "forty-two"}, "GitHub {url}/repos/acme/model: expected a repository with a numeric "
                                               "id, got keys ['id']"),
    ("/repositories/4242/pulls?state=all&sort=updated&direction=desc&per_page=100",
     [{"number": 1, "updated_at": "yesterday"}], "GitHub: a pull request of an unexpected shape (ValueError: expected "
                                                 "an ISO 8601 time like 2021-01-25T21:49:52.514+0800, got 'yesterday'"),
    ("/repositories/4242/pulls?state=all&sort=updated&direction=desc&per_page=100", {"message": "moved"},
     "GitHub: a pull request of an unexpected shape (KeyError: 'number'; keys ['message'])"),
    ("/repositories/4242/pulls?state=all&sort=updated&direction=desc&per_page=100",
     [{"updated_at": "2026-09-08T10:00:00Z", "title": "no number"}],
     "GitHub: a pull request of an unexpected shape (KeyError: 'number'; keys ['title', 'updated_at'])"),
])
def test_unexpected_json_is_one_line_naming_it(path, answer, message, tmp_path, db_url, capsys):
    with ReplayServer() as gh:
        gh.add("GET", "/repos/acme/model", {"id": 4242, "full_name": "acme/model"} if "pulls" in path else answer)
        if "pulls" in path:
            gh.add("GET", path, answer)
        toml = write(tmp_path, f'[[sources.github]]\nrepo = "acme/model"\nbase_url = "{gh.base_url}"\n')
        assert main(["collect", "--config", str(toml), "--db", db_url, "--quiet"]) == 1
    lines = errors(capsys.readouterr().err)
    assert len(lines) == 1 and message.format(url=gh.base_url) in lines[0], lines
    assert load_runs(make_engine(db_url))["status"].tolist() == ["failed"]


def test_jira_answer_of_the_wrong_shape_is_one_line(tmp_path, db_url, capsys):
    site = JiraSite([], statuses=STATUSES)
    site.faults = [(lambda p, q: p.endswith("/search/jql"), (200, {}, {"results": []}))]
    with JiraServer(site) as jira:
        toml = write(tmp_path, f'[[sources.jira]]\nbase_url = "{jira.url}"\njql = "project = OPS"\n')
        assert main(["collect", "--config", str(toml), "--db", db_url, "--quiet"]) == 1
    assert errors(capsys.readouterr().err) == [
        f"error: Jira {jira.url}/rest/api/3/search/jql: expected a JSON object with a 'issues' list"]
    assert load_runs(make_engine(db_url))["status"].tolist() == ["failed"]


@pytest.mark.parametrize(("url", "message"), [
    ("mysql://baton:pw@127.0.0.1/baton", "error: database URL mysql://baton:***@127.0.0.1/baton: mysql is not "
                                         "supported (expected sqlite:///path/baton.db or "
                                         "postgresql+psycopg://user@host:5432/dbname)"),
    ("postgresql+psycopg://baton:pw@127.0.0.1:99999/baton", "error: database URL "
     "postgresql+psycopg://baton:***@127.0.0.1:99999/baton: port 99999 is out of range (1-65535)"),
    ("postgresql+psycopg://baton@127.0.0.1:port/baton", "error: database URL <unparsable database URL>: not a "
     "database URL (expected sqlite:///path/baton.db or postgresql+psycopg://user@host:5432/dbname)"),
    ("postgresql+psycopg://baton@127.0.0.1:1/baton", "error: cannot open the database "
                                                     "postgresql+psycopg://baton@127.0.0.1:1/baton: "),
])
def test_a_bad_database_url_or_port_is_one_line_exit_2(url, message, tmp_path):
    toml = write(tmp_path, "")
    out = subprocess.run([sys.executable, "-m", "collectors", "collect", "--config", str(toml), "--db", url],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and out.stderr.startswith(message), out.stderr
    assert "pw@" not in out.stderr


def test_a_full_disk_is_one_line_and_the_run_is_logged_failed(tmp_path):
    from bench.synth_repo import synthesize

    repo = tmp_path / "repo"
    synthesize(repo, commits=3000, seed=2)
    url = f"sqlite:///{tmp_path / 'full.db'}"
    make_engine(url).dispose()
    limit = os.path.getsize(tmp_path / "full.db") + 200_000  # the first pages fit, the rest does not

    def small_disk() -> None:  # files cannot grow past `limit`: what a full disk does to SQLite
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    toml = write(tmp_path, f'[[sources.git]]\npath = "{repo}"\n')
    out = subprocess.run([sys.executable, "-m", "collectors", "collect", "--config", str(toml), "--db", url,
                          "--quiet"], cwd=ROOT, capture_output=True, text=True, preexec_fn=small_disk)
    assert out.returncode == 1
    assert errors(out.stderr) == [f"error: cannot write to the database {url}: disk I/O error (is the disk full? "
                                  "free some space, then rerun to resume: every committed page is kept)"]
    runs = load_runs(make_engine(url))
    assert runs["status"].tolist() == ["failed"] and runs["error"][0].startswith("cannot write to the database")
    # space again: the rerun resumes and completes
    rerun = subprocess.run([sys.executable, "-m", "collectors", "collect", "--config", str(toml), "--db", url,
                            "--quiet"], cwd=ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert "3000 commits read" in rerun.stdout or "commits read (full walk)" in rerun.stdout


def test_a_server_echoing_the_basic_credential_never_shows_it(tmp_path, db_url, capsys, monkeypatch):
    """Every error passes the client's redaction: the token, the Basic pair and its base64 form."""
    import base64

    monkeypatch.setenv("ECHO_EMAIL", "bot@client.example")
    monkeypatch.setenv("ECHO_TOKEN", "jira-s3cret")
    basic = base64.b64encode(b"bot@client.example:jira-s3cret").decode()
    site = JiraSite([], statuses=STATUSES)
    site.faults = [(lambda p, q: True, (401, {}, {"errorMessages": [f"bad header: Basic {basic}",
                                                                    "token was jira-s3cret"]}))]
    with JiraServer(site) as jira:
        toml = write(tmp_path, f'[[sources.jira]]\nbase_url = "{jira.url}"\njql = "project = OPS"\n'
                               'email_env = "ECHO_EMAIL"\ntoken_env = "ECHO_TOKEN"\n')
        assert main(["collect", "--config", str(toml), "--db", db_url, "--quiet"]) == 1
    err = capsys.readouterr().err
    stored = load_runs(make_engine(db_url))["error"][0]
    for text in (err, stored):
        assert "HTTP 401" in text and "jira-s3cret" not in text and basic not in text
