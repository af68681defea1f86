"""The demo engagement with everything collected (git, GitHub, Jira and MLflow, replayed from the recordings the
self-contained demo writes), once per test session, for the tests that walk its rows. Tests must not write to it
(signatures, freezes): they build their own copy."""

from __future__ import annotations

import pytest

from collectors.__main__ import main as collectors_main
from collectors.demo.build import build_demo


@pytest.fixture(scope="session")
def full_demo(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("full-demo")
    toml = build_demo(out)
    url = f"sqlite:///{out / 'baton.db'}"
    assert collectors_main(["collect", "--config", str(toml), "--db", url, "--quiet"]) == 0
    return {"toml": toml, "url": url, "dir": out}
