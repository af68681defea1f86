"""The weekly review and milestones pages under AppTest on a collected copy of the demo (shared by page tests)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from db.engine import make_engine
from tests.support.demo_template import copy_demo
from tests.support.paths import APP

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "not-a-real-secret",
        "client_id": "baton", "client_secret": "not-a-real-secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}


def collected_demo(tmp_path, monkeypatch) -> dict:
    """A fresh DB with the demo collected, and the engagement file (a copy, editable by the test): a copy of the
    collected demo of the test's own (tests/support/demo_template.py); the app's environment points at both."""
    toml = copy_demo(tmp_path)
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    monkeypatch.setenv("BATON_CONFIG", str(toml))
    monkeypatch.setenv("BATON_DB_URL", url)
    return {"toml": toml, "url": url, "engine": make_engine(url)}


def open_page(page: str, query: dict | None = None, user: dict | None = None, auth: bool = False) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if auth:
        at.secrets["auth"] = AUTH
    if user is not None:
        at.user = user
    at.run()
    if query:
        at.query_params.update(query)
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    return "\n".join([*(x.value for x in at.markdown), *(x.value for x in at.caption), *(x.value for x in at.info),
                      *(x.value for x in at.success), *(x.value for x in at.warning), *(x.value for x in at.error)])


def buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button]
