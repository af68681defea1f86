"""The demo engagement with everything collected (git, GitHub, Jira and MLflow, replayed from the recordings the
self-contained demo writes), once per test session, for the tests that walk its rows. Tests must not write to it
(signatures, freezes): they take their own copy (tests/support/demo_template.py)."""

from __future__ import annotations

import pytest

from tests.support.demo_template import copy_demo


@pytest.fixture(scope="session")
def full_demo(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("full-demo")
    toml = copy_demo(out)
    return {"toml": toml, "url": f"sqlite:///{out / 'baton.db'}", "dir": out}
