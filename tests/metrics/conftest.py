"""The demo engagement with everything collected (git, Jira, and GitHub from the local replay server), once per
test session, for the tests that walk its rows. Tests must not write to it (signatures, freezes): they build their
own copy."""

from __future__ import annotations

import pytest

from collectors.__main__ import main as collectors_main
from collectors.demo import github_data
from collectors.demo.build import build_demo
from collectors.demo.github_replay import ReplayServer


@pytest.fixture(scope="session")
def full_demo(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("full-demo")
    toml = build_demo(out)
    url = f"sqlite:///{out / 'baton.db'}"
    with ReplayServer() as server:
        github_data.demo_repo().script(server)
        github_data.add_github_source(toml, server.base_url)
        assert collectors_main(["collect", "--config", str(toml), "--db", url, "--quiet"]) == 0
    return {"toml": toml, "url": url, "dir": out}
