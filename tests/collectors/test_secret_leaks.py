"""Secrets never leak (issue 9, item 4) and CSV cells never run as formulas (item 6).

- one redaction function (engagement/redact.py) for URLs, Authorization/Basic/Bearer values and their base64;
- a DB URL with a password (in the user-info or `?password=`) is never printed by collect, nor shown to
  anonymous visitors: before the login gate the page says only "the dashboard is not configured";
- a Jira server (a real local HTTP server) that echoes the Authorization header: the Basic credential reaches
  neither stderr, nor collection_runs.error, nor the Sources page; the same for GitLab (token) and MLflow
  (basic auth) servers, through the shared HTTP client (collectors/http.py);
- pack and weekly CSV cells starting with = + - @ tab or CR are neutralised.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from collectors.__main__ import main as collectors_main
from db.engine import make_engine
from engagement.redact import csv_cell, csv_frame, redact, redact_url, register_secret
from metrics.__main__ import main as metrics_main
from pages._shared.data import NOT_CONFIGURED
from tests.support.paths import APP
from tests.support.review_app import AUTH

EMAIL, TOKEN = "dana@client.com", "jira-SECRET-token-4711"
BASIC = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()


def run(main, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


# ---- the redaction function ------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "shown"), [
    ("postgresql+psycopg://baton:hunter2@db:5432/x", "postgresql+psycopg://baton:***@db:5432/x"),
    ("postgresql://db/x?sslmode=require&password=hunter2", "postgresql://db/x?sslmode=require&password=***"),
    ("https://ghp_abcdef123@github.com/a/b.git", "https://***@github.com/a/b.git"),
    ("https://jira.example/rest?jql=x&token=t0k3n&api_key=k3y", "https://jira.example/rest?jql=x&token=***&api_key=***"),
    ("sqlite:////srv/baton.db", "sqlite:////srv/baton.db"),
])
def test_redact_url(raw, shown):
    assert redact_url(raw) == shown
    assert redact(raw) == shown  # the same inside any message
    assert redact(redact(raw)) == shown


@pytest.mark.parametrize(("raw", "shown"), [
    ('HTTP 401: {"headers": {"Authorization": "Basic ZGFuYTpzM2NyM3Q="}}',
     'HTTP 401: {"headers": {"Authorization": "***"}}'),
    ("authorization: Bearer eyJhbGciOi.x.y", "authorization: ***"),
    ("sent Basic ZGFuYTpzM2NyM3Q= to the proxy", "sent Basic *** to the proxy"),
    ("retry with Bearer abcdefghijk", "retry with Bearer ***"),
    ('{"password": "hunter2", "user": "dana"}', '{"password": "***", "user": "dana"}'),
    ("token=abc123&page=2", "token=***&page=2"),
    ("capabilities[0].key: expected a non-empty text", "capabilities[0].key: expected a non-empty text"),
    ("token_env: JIRA_TOKEN is not set", "token_env: JIRA_TOKEN is not set"),
])
def test_redact_messages_and_leave_ordinary_text(raw, shown):
    assert redact(raw) == shown


def test_known_secrets_and_their_base64_are_redacted_anywhere():
    echoed = f"echo {BASIC} and {base64.b64encode(TOKEN.encode()).decode()} and {TOKEN}"
    assert redact(echoed, (EMAIL, TOKEN)) == "echo *** and *** and ***"
    register_secret("another-SECRET-9", user="ops@client.com")
    pair = base64.b64encode(b"ops@client.com:another-SECRET-9").decode()
    assert redact(f"x {pair} y another-SECRET-9") == "x *** y ***"


# ---- the DB URL ---------------------------------------------------------------------------------------

def test_collect_never_prints_the_db_password(tmp_path):
    toml = tmp_path / "e.toml"
    toml.write_text('[engagement]\nname = "x"\nstart = 2026-09-07\n')
    url = "postgresql+psycopg://baton:hunter2@127.0.0.1:1/x?password=hunter3&sslmode=disable"
    code, out, err = run(collectors_main, "collect", "--config", str(toml), "--db", url)
    assert code == 2 and "hunter" not in out + err
    assert err.startswith("error: cannot open the database postgresql+psycopg://baton:***@127.0.0.1:1/x?password=***"
                          "&sslmode=disable: ")


def test_collect_prints_the_db_url_without_its_password(tmp_path):
    base = os.environ.get("BATON_TEST_PG_URL")
    if not base:
        pytest.skip("needs BATON_TEST_PG_URL")
    toml = tmp_path / "e.toml"
    toml.write_text('[engagement]\nname = "x"\nstart = 2026-09-07\n')
    url = base + ("&" if "?" in base else "?") + "password=hunter3"
    code, out, err = run(collectors_main, "collect", "--config", str(toml), "--db", url)
    assert code == 0, err
    assert "hunter3" not in out + err and "password=***" in err


def open_app(monkeypatch, config, db_url, auth: bool, user: dict | None = None) -> AppTest:
    monkeypatch.setenv("BATON_CONFIG", str(config))
    monkeypatch.setenv("BATON_DB_URL", db_url)
    at = AppTest.from_file(APP, default_timeout=60)
    if auth:
        at.secrets["auth"] = AUTH
    if user is not None:
        at.user = user
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown(at: AppTest) -> str:
    parts = [*(x.value for x in at.markdown), *(x.value for x in at.caption), *(x.value for x in at.info),
             *(x.value for x in at.warning), *(x.value for x in at.error), *(x.value for x in at.title),
             *(x.value for x in at.code), *(x.value for x in at.sidebar.caption)]
    parts += [d.value.to_csv() for d in at.dataframe]
    return "\n".join(str(p) for p in parts)


def test_before_the_login_gate_nothing_about_the_db_or_config_is_shown(tmp_path, monkeypatch, caplog):
    toml = tmp_path / "e.toml"
    toml.write_text('[engagement]\nname = "x"\nstart = 2026-09-07\n')
    url = "postgresql+psycopg://baton:hunter2@127.0.0.1:1/secretdb?password=hunter3"
    for user in ({"is_logged_in": False}, {"is_logged_in": True, "email": "a@client.com", "name": "A"}):
        at = open_app(monkeypatch, toml, url, auth=True, user=user)
        page = shown(at)
        assert [e.value for e in at.error] == [NOT_CONFIGURED]
        for secret in ("hunter", "127.0.0.1", "secretdb", "baton:", str(tmp_path)):
            assert secret not in page
    assert "cannot open the database postgresql+psycopg://baton:***@127.0.0.1:1/secretdb?password=***" in caplog.text
    assert "hunter" not in caplog.text
    toml.write_text('[engagement]\nname = "x"\nstart = 0001-01-01\n')  # a broken engagement file: the same
    at = open_app(monkeypatch, toml, f"sqlite:///{tmp_path / 'b.db'}", auth=True, user={"is_logged_in": False})
    assert [e.value for e in at.error] == [NOT_CONFIGURED] and "0001" not in shown(at)
    # local single-user mode has no gate: the problem is shown, its password redacted
    toml.write_text('[engagement]\nname = "x"\nstart = 2026-09-07\n')
    page = shown(open_app(monkeypatch, toml, url, auth=False))
    assert "Cannot open the database postgresql+psycopg://baton:***@127.0.0.1:1/secretdb?password=***" in page
    assert "hunter" not in page


# ---- a Jira server that echoes the Authorization header ----------------------------------------------------

class EchoJira(BaseHTTPRequestHandler):
    """Answers every request with an error that quotes the request's Authorization header (a misconfigured
    proxy or an over-helpful error page does this)."""

    def do_GET(self):  # noqa: N802 - http.server's name
        auth = self.headers.get("Authorization", "")
        if "/status" in self.path:
            body = json.dumps({"errorMessages": ["denied"], "headers": {"Authorization": auth}})
            self.send_response(401)
        else:
            body = json.dumps({"errorMessages": [f"bad request from {auth.split(' ', 1)[-1]}"]})  # bare base64
            self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def echo_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoJira)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("endpoint", ["statuses", "search"])
def test_a_jira_server_echoing_the_authorization_header_leaks_nothing(echo_server, tmp_path, monkeypatch, endpoint):
    monkeypatch.setenv("LEAKY_JIRA_EMAIL", EMAIL)
    monkeypatch.setenv("LEAKY_JIRA_TOKEN", TOKEN)
    toml = tmp_path / "e.toml"
    toml.write_text('[engagement]\nname = "x"\nstart = 2026-09-07\n[[sources.jira]]\n'
                    f'base_url = "{echo_server}"\njql = "project = X"\n'
                    'email_env = "LEAKY_JIRA_EMAIL"\ntoken_env = "LEAKY_JIRA_TOKEN"\n')
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    with _statuses_ok(endpoint == "search"):  # "search": the error quotes the credential without "Basic"
        code, out, err = run(collectors_main, "collect", "--config", str(toml), "--db", url, "--quiet")
    assert code == 1
    assert "HTTP 40" in err and BASIC not in out + err and TOKEN not in out + err
    with make_engine(url).connect() as conn:
        errors = conn.execute(text("SELECT error FROM collection_runs")).scalars().all()
    assert len(errors) == 1 and "HTTP 40" in errors[0]
    assert BASIC not in errors[0] and TOKEN not in errors[0]
    page = shown(_sources_page(monkeypatch, toml, url))
    assert "HTTP 40" in page and BASIC not in page and TOKEN not in page


@contextlib.contextmanager
def _statuses_ok(enabled: bool):
    """Let /status answer 200 (so the run reaches the search, whose error quotes the bare base64)."""
    if not enabled:
        yield
        return
    original = EchoJira.do_GET

    def do_get(self):
        if "/status" in self.path:
            body = json.dumps([{"id": "1", "name": "To Do", "statusCategory": {"key": "new"}}]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)
        else:
            original(self)

    EchoJira.do_GET = do_get
    try:
        yield
    finally:
        EchoJira.do_GET = original


def _sources_page(monkeypatch, toml, url) -> AppTest:
    at = open_app(monkeypatch, toml, url, auth=False)
    at.switch_page("pages/sources.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# ---- GitLab and MLflow servers that echo the Authorization header ------------------------------------------

class EchoAny(BaseHTTPRequestHandler):
    """401 to every GET and POST, quoting the request's Authorization header in the body."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        auth = self.headers.get("Authorization", "")
        body = json.dumps({"message": f"401 Unauthorized: {auth}", "error_code": "UNAUTHENTICATED",
                           "raw": auth.split(" ", 1)[-1]})
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_POST = _answer  # noqa: N815 - http.server's names

    def log_message(self, *args):
        pass


GITLAB_TOKEN, MLFLOW_USER, MLFLOW_PASSWORD = "glpat-SECRET-4711xyz", "ops-user", "mlflow-SECRET-pw-42"


@pytest.mark.parametrize("kind", ["gitlab", "mlflow"])
def test_gitlab_and_mlflow_servers_echoing_the_authorization_header_leak_nothing(tmp_path, monkeypatch, kind):
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoAny)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("LEAKY_GITLAB_TOKEN", GITLAB_TOKEN)
    monkeypatch.setenv("LEAKY_MLFLOW_USER", MLFLOW_USER)
    monkeypatch.setenv("LEAKY_MLFLOW_PASSWORD", MLFLOW_PASSWORD)
    source = (f'[[sources.gitlab]]\nproject = "g/p"\nbase_url = "{base}"\ntoken_env = "LEAKY_GITLAB_TOKEN"\n'
              if kind == "gitlab" else
              f'[[sources.mlflow]]\ntracking_uri = "{base}"\nusername_env = "LEAKY_MLFLOW_USER"\n'
              'password_env = "LEAKY_MLFLOW_PASSWORD"\n')
    secrets = ([GITLAB_TOKEN] if kind == "gitlab" else
               [MLFLOW_PASSWORD, base64.b64encode(f"{MLFLOW_USER}:{MLFLOW_PASSWORD}".encode()).decode()])
    toml = tmp_path / "e.toml"
    toml.write_text('[engagement]\nname = "x"\nstart = 2026-09-07\n' + source)
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    try:
        code, out, err = run(collectors_main, "collect", "--config", str(toml), "--db", url, "--quiet",
                             "--max-wait", "0")
    finally:
        server.shutdown()
        server.server_close()
    assert code == 1 and "401" in err, err
    assert "***" in err and not [x for x in secrets if x in out + err], err  # the echo is shown, redacted
    with make_engine(url).connect() as conn:
        errors = conn.execute(text("SELECT error FROM collection_runs")).scalars().all()
    assert len(errors) == 1 and not [x for x in secrets if x in errors[0]]
    page = shown(_sources_page(monkeypatch, toml, url))
    assert not [x for x in secrets if x in page]


# ---- CSV cells ----------------------------------------------------------------------------------------------

def test_csv_cells_that_would_run_as_formulas_are_neutralised():
    import pandas as pd

    assert [csv_cell(v) for v in ("=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "plain", -0.5)] == [
        "'=cmd|' /C calc'!A0", "'+1", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx", "plain", -0.5]
    frame = csv_frame(pd.DataFrame({"subject": ["=HYPERLINK(\"http://x\")", "fine"], "value": [-1.5, 2.0]}))
    assert frame["subject"].tolist() == ["'=HYPERLINK(\"http://x\")", "fine"] and frame["value"].tolist() == [-1.5, 2]


def test_pack_and_weekly_csvs_carry_no_formula(git_repo, tmp_path):
    git_repo.commit("=cmd|' /C calc'!A0", {"data/a.py": "x"}, author="Ann <ann@client.com>",
                    date="2026-09-08T10:00:00+00:00")
    git_repo.commit("@SUM(1+1)*cmd", {"data/b.py": "y"}, author="-Vic <vic@acme.com>",
                    date="2026-09-09T10:00:00+00:00")
    toml = tmp_path / "e.toml"
    toml.write_text('[engagement]\nname = "x"\nstart = 2026-09-07\nweeks = 2\n'
                    '[classify]\ninternal_email_domains = ["client.com"]\nvendor_email_domains = ["acme.com"]\n'
                    f'[[sources.git]]\npath = "{git_repo.path}"\n'
                    '[[capabilities]]\nkey = "=data"\npaths = ["data/**"]\n')
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    assert run(collectors_main, "collect", "--config", str(toml), "--db", url, "--quiet")[0] == 0
    code, out, err = run(metrics_main, "pack", "--config", str(toml), "--db", url, "--week", "1", "--out",
                         str(tmp_path / "pack"), "--no-pdf")
    assert code == 0, err
    cells = []
    for path in (tmp_path / "pack").glob("*.csv"):
        cells += [c for row in csv.reader(path.open(encoding="utf-8")) for c in row]
    code, out, err = run(metrics_main, "weekly", "--config", str(toml), "--db", url, "--format", "csv")
    cells += [c for row in csv.reader(io.StringIO(out)) for c in row]
    assert "'=cmd|' /C calc'!A0" in cells and "'@SUM(1+1)*cmd" in cells and "'=data" in cells
    risky = [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or (c[:1] == "-" and not _number(c))]
    assert risky == []


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
