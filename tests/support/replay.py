"""The replay server lives in collectors/demo/github_replay.py (the demo serves GitHub data with it too)."""

from collectors.demo.github_replay import (
    Exchange,
    ReplayServer,
    load_octokit,
    load_pygithub,
    load_wiremock,
    request_key,
)

__all__ = ["Exchange", "ReplayServer", "load_octokit", "load_pygithub", "load_wiremock", "request_key"]
