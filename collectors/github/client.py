"""The GitHub REST client: GitHub's shapes on the shared `collectors.http.HttpClient` (SPEC §8).

- Auth: a token from the environment variable the engagement file names (`Authorization: Bearer …`), never
  stored, logged or recorded; none in replay.
- Retries, rate limits (primary: until `X-RateLimit-Reset`; secondary: `Retry-After` or `secondary_wait`;
  429), 5xx backoff, redaction, recording and replay: `HttpClient`. Requests are spaced by
  `seconds_between_requests` (0.25 s, as PyGithub does), which keeps clear of GitHub's secondary limits.
- Pages follow `Link: rel="next"` (often `/repositories/{id}/...` paths). List bodies are unwrapped:
  `workflow_runs`, `jobs` and `artifacts` of the Actions endpoints.
- Conditional requests: `get_page(..., etag=...)` sends `If-None-Match`; a 304 returns `None` and,
  authenticated, costs no rate limit.
- `calls` counts HTTP requests made (retries included); `not_modified` counts 304s.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collectors.http import HttpClient, HttpError, RateLimitStop, Recorder, is_replay, next_link
from collectors.runs import CollectError
from collectors.times import db_utc

__all__ = ["GitHubClient", "GitHubHTTPError", "Page", "RateLimitStop", "parse_time"]

GitHubHTTPError = HttpError  # the status is `exc.status`
HINTS = {401: "the token was refused (check the token environment variable)", 403: "access forbidden",
         404: "not found (check `repo` and the token's access)"}
# Actions list endpoints wrap their items: {"total_count": n, "workflow_runs": [...]}.
_WRAPPERS = ("workflow_runs", "jobs", "artifacts")


@dataclass
class Page:
    items: list[dict]
    next_url: str | None
    etag: str | None
    headers: dict[str, str]


def parse_time(value: str | None):
    """GitHub's `2026-09-08T10:00:00Z` as the naive UTC the schema stores (collectors/times.py)."""
    return db_utc(value)


class GitHubClient:
    """One GitHub API (`base_url`: https://api.github.com, GitHub Enterprise's https://host/api/v3, or
    replay:DIR), shared by the PR/Actions/JUnit source and the Issues source of a repository."""

    def __init__(self, base_url: str, token: str | None, *, retries: int = 5, backoff_factor: float = 1.0,
                 max_wait: float = 3600.0, secondary_wait: float = 60.0, timeout: float = 30,
                 per_page: int = 100, sleep: Callable[[float], None] = time.sleep,
                 seconds_between_requests: float = 0.25, recorder: Recorder | None = None,
                 replay: str | Path | None = None):
        self.per_page = per_page
        self.http = HttpClient(base_url, service="GitHub", token=token, retries=retries,
                               backoff_factor=backoff_factor, max_wait=max_wait, secondary_wait=secondary_wait,
                               timeout=timeout, min_interval=seconds_between_requests, sleep=sleep, hints=HINTS,
                               headers={"Accept": "application/vnd.github+json",
                                        "X-GitHub-Api-Version": "2022-11-28"},
                               recorder=recorder, replay=replay)
        self.token = None if self.http.replaying else token

    @classmethod
    def from_env(cls, base_url: str, token_env: str, **kwargs: Any) -> GitHubClient:
        replaying = is_replay(base_url) or kwargs.get("replay") is not None
        token = None if replaying else (os.environ.get(token_env) or None)
        return cls(base_url, token, **kwargs)

    # --- bookkeeping --------------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.http.base_url

    @property
    def calls(self) -> int:
        return self.http.calls

    @property
    def not_modified(self) -> int:
        return self.http.not_modified

    @property
    def rate_remaining(self) -> int | None:
        return self.http.rate_remaining

    @property
    def waits(self) -> list[float]:
        return self.http.waits

    @property
    def secrets(self) -> tuple[str, ...]:
        return self.http.secrets

    @property
    def requests_made(self) -> list[str]:
        return self.http.requested

    def close(self) -> None:
        self.http.close()

    # --- pages --------------------------------------------------------------------------------------------------
    def _page(self, response) -> Page:
        data = self.http.json(response)
        if isinstance(data, dict):
            wrapped = next((k for k in _WRAPPERS if isinstance(data.get(k), list)), None)
            items = data[wrapped] if wrapped else [data]
        elif isinstance(data, list):
            items = data
        else:
            raise CollectError(f"GitHub {self.http.describe(response.url)}: expected a JSON object or list, "
                               f"got {type(data).__name__}")
        if not all(isinstance(i, dict) for i in items):
            raise CollectError(f"GitHub {self.http.describe(response.url)}: expected a list of JSON objects")
        return Page(items, next_link(response), response.headers.get("ETag"), dict(response.headers))

    def get_page(self, url: str, params: dict | None = None, etag: str | None = None) -> Page | None:
        """GET one page (a path, or a next link). None means 304 Not Modified for `etag`."""
        response = self.http.get(url, params, etag=etag)
        return None if response.status_code == 304 else self._page(response)

    def get_json(self, url: str, params: dict | None = None) -> dict:
        data = self.http.get_json(url, params)
        if not isinstance(data, dict):
            raise CollectError(f"GitHub {self.http.describe(self.http.url_for(url))}: expected a JSON object, "
                               f"got {type(data).__name__}")
        return data

    def iter_pages(self, url: str, params: dict | None = None, etag: str | None = None) -> Iterator[Page | None]:
        """Yield pages following Link rel=next; the first may be None (304)."""
        query = {**(params or {}), "per_page": self.per_page}
        for response in self.http.iter_link_pages(url, query, etag=etag):
            yield None if response is None else self._page(response)

    def download(self, url: str) -> bytes:
        """An artifact zip: GitHub answers 302 to a signed blob URL, fetched without the token."""
        return self.http.download(url)

    # --- issues (collectors/github/issues_source.py) -----------------------------------------------------------
    def get_pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[list[dict]]:
        """Each page of a list endpoint that answers a JSON list, following Link rel="next"."""
        for response in self.http.iter_link_pages(path, params):
            assert response is not None
            body = self.http.json(response)
            if not isinstance(body, list) or not all(isinstance(i, dict) for i in body):
                raise CollectError(f"GitHub {self.http.describe(response.url)}: expected a JSON list of objects, "
                                   f"got {type(body).__name__}")
            yield body

    def issues(self, repo: str, since: str | None, per_page: int = 100) -> Iterator[list[dict]]:
        """Pages of issues AND pull requests (the caller drops PRs) updated at or after `since`, oldest first."""
        params: dict[str, Any] = {"state": "all", "sort": "updated", "direction": "asc", "per_page": per_page}
        if since:
            params["since"] = since
        return self.get_pages(f"/repos/{repo}/issues", params)

    def comments(self, repo: str, number: int) -> list[dict]:
        return [c for page in self.get_pages(f"/repos/{repo}/issues/{number}/comments", {"per_page": 100})
                for c in page]

    def timeline(self, repo: str, number: int) -> list[dict]:
        return [e for page in self.get_pages(f"/repos/{repo}/issues/{number}/timeline", {"per_page": 100})
                for e in page]
