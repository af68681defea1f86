"""The replay server lives in collectors/replay.py (the demo serves GitHub data with it too)."""

from collectors.replay import Exchange, ReplayServer, load_octokit, load_pygithub, load_wiremock, request_key

__all__ = ["Exchange", "ReplayServer", "load_octokit", "load_pygithub", "load_wiremock", "request_key"]
