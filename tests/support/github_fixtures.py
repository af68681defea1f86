"""GitHub fixtures in GitHub's shapes live in collectors/demo/github_fixtures.py (the demo uses them too)."""

from collectors.demo.github_fixtures import GHOST, FakeRepo, pull, review, run, user

__all__ = ["GHOST", "FakeRepo", "pull", "review", "run", "user"]
