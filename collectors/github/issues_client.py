"""A small GitHub REST client over `requests` for issues, their comments and timelines.

Kept separate from the PR/Actions client on purpose so the two can be merged later: it only needs
`get_pages(path, params)` (Link rel="next" pagination, followed by path so `/repositories/{id}/...`
links and replay servers work) and rate-limit handling: 403/429 with `Retry-After` (secondary limits), or
with `X-RateLimit-Remaining: 0` until `X-RateLimit-Reset` (epoch seconds); 5xx retried with backoff.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import requests

from collectors.runs import CollectError, redact

_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


class GitHubIssuesClient:
    def __init__(self, base_url: str = "https://api.github.com", token: str | None = None, *, timeout: float = 60,
                 max_retries: int = 5, max_wait: float = 900, sleep: Callable[[float], None] = time.sleep,
                 session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.sleep = sleep
        self.secrets = (token,) if token else ()
        self.session = session or requests.Session()
        self.session.headers["Accept"] = "application/vnd.github+json"
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.requests_made: list[str] = []

    def _wait(self, response: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when the response is not retryable."""
        headers = response.headers
        status = response.status_code
        if status >= 500:
            return float(min(60, 2 ** attempt))
        if status not in (403, 429):
            return None
        if headers.get("Retry-After"):
            try:
                return max(0.0, float(headers["Retry-After"]))
            except ValueError:
                return 60.0
        if headers.get("X-RateLimit-Remaining") == "0" and headers.get("X-RateLimit-Reset"):
            try:
                return max(0.0, float(headers["X-RateLimit-Reset"]) - time.time()) + 1
            except ValueError:
                return 60.0
        if status == 429 or "rate limit" in response.text.lower():
            return float(min(60, 2 ** attempt))
        return None

    def get(self, path_or_url: str, params: dict[str, Any] | None = None) -> requests.Response:
        parts = urlsplit(path_or_url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        url = f"{self.base_url}{path}"
        for attempt in range(self.max_retries + 1):
            self.requests_made.append(path)
            try:
                response = self.session.get(url, params=params, timeout=self.timeout)
            except requests.RequestException as exc:
                if attempt == self.max_retries:
                    raise CollectError(redact(f"GitHub {url}: cannot connect ({type(exc).__name__})",
                                              self.secrets)) from None
                self.sleep(min(60, 2 ** attempt))
                continue
            if response.status_code < 400:
                return response
            wait = self._wait(response, attempt)
            if wait is None or attempt == self.max_retries:
                detail = response.text[:300].replace("\n", " ")
                raise CollectError(redact(f"GitHub {url}: HTTP {response.status_code}: {detail}", self.secrets))
            if wait > self.max_wait:
                raise CollectError(f"GitHub {url}: rate limited for {wait:.0f} s; rerun later to resume")
            self.sleep(wait)
        raise CollectError(f"GitHub {url}: still failing after {self.max_retries} retries")

    def get_pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[list[dict]]:
        """Each page of a list endpoint, following Link rel="next"."""
        target: str | None = path
        while target:
            response = self.get(target, params)
            params = None  # the next link carries the query
            body = response.json()
            if not isinstance(body, list):
                raise CollectError(f"GitHub {self.base_url}{urlsplit(target).path}: expected a JSON list")
            yield body
            m = _NEXT.search(response.headers.get("Link", ""))
            target = m.group(1) if m else None

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
