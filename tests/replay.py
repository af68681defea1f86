"""The replay server and Jira site the collector tests use (they live in collectors/replay.py, shared with
the demo)."""

from collectors.replay import JiraSite, ReplayServer

__all__ = ["JiraSite", "ReplayServer"]
