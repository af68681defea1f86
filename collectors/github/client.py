"""The GitHub client: PyGithub's requester for auth, retries and rate limits; pages, ETags and call counts here.

- Auth: a token from the environment variable the engagement file names (never stored or logged).
- Retries: PyGithub's `GithubRetry` (urllib3) retries 5xx and connection resets with exponential
  backoff, and 403 secondary rate limits that carry `Retry-After` (slept as told); the number of attempts
  is bounded by `retries`; urllib3 also honours `Retry-After` on 429. A 429 without it comes back to us
  and is waited out like the primary limit (until the reset when `X-RateLimit-Remaining` is 0).
- Primary rate limit (403/429 with `X-RateLimit-Remaining: 0`) and secondary limits without
  `Retry-After`: `GithubRetry` is given `max_rate_limit_wait=0` so it hands the wait back to us; we
  wait with a visible countdown when the wait is within `max_wait`, else raise `RateLimitStop`
  (the source has saved its cursor after every page, so the next run resumes).
- Pagination follows `Link: rel="next"` (often `/repositories/{id}/...` paths).
- Conditional requests: `get_page(..., etag=...)` sends `If-None-Match`; a 304 returns `None` and,
  authenticated, costs no rate limit.
- `calls` counts HTTP requests made (retries included); `not_modified` counts 304s.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from github import Auth, Github, GithubException, GithubRetry
from github.GithubException import RateLimitExceededExceedsMaxWait
from github.Requester import Requester

from collectors.runs import CollectError, redact

LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


class RateLimitStop(CollectError):
    """The rate limit resets later than `--max-wait` allows: the collection stops cleanly, cursor saved."""


class GitHubHTTPError(CollectError):
    """GitHub answered an error status; `status` is the HTTP status."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class _CountingRetry(GithubRetry):
    """PyGithub's GithubRetry that also counts each retried attempt into a shared counter."""

    def __init__(self, counter: list[int] | None = None, **kwargs: Any):
        self.counter = counter if counter is not None else [0]
        super().__init__(**kwargs)

    def new(self, **kw: Any):
        kw["counter"] = self.counter
        return super().new(**kw)

    def increment(self, *args: Any, **kwargs: Any):
        self.counter[0] += 1
        return super().increment(*args, **kwargs)


@dataclass
class Page:
    items: list[dict]
    next_url: str | None
    etag: str | None
    headers: dict[str, str]


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC).replace(tzinfo=None)


class GitHubClient:
    """One authenticated PyGithub requester against `base_url`, with counting, paging and rate-limit waits."""

    def __init__(self, base_url: str, token: str | None, *, retries: int = 5, backoff_factor: float = 1.0,
                 max_wait: float = 3600.0, secondary_wait: float = 60.0, timeout: int = 30,
                 per_page: int = 100, sleep: Callable[[float], None] = time.sleep,
                 seconds_between_requests: float = 0.25):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.max_wait = max_wait
        self.per_page = per_page
        self._sleep = sleep
        self._retried = [0]
        self.requests_made = 0
        self.not_modified = 0
        self.rate_remaining: int | None = None
        self.secondary_wait = secondary_wait
        retry = _CountingRetry(counter=self._retried, total=retries, backoff_factor=backoff_factor,
                               secondary_rate_wait=secondary_wait, max_rate_limit_wait=0,
                               status_forcelist=list(range(500, 600)), raise_on_status=True,
                               respect_retry_after_header=True)
        auth = Auth.Token(token) if token else None
        # PyGithub spaces requests (0.25 s by default), which keeps clear of GitHub's secondary limits.
        self.github = Github(base_url=self.base_url, auth=auth, retry=retry, timeout=timeout, per_page=per_page,
                             seconds_between_requests=seconds_between_requests)
        self._requester: Requester = self.github.requester

    @classmethod
    def from_env(cls, base_url: str, token_env: str, **kwargs: Any) -> GitHubClient:
        token = os.environ.get(token_env) or None
        return cls(base_url, token, **kwargs)

    @property
    def calls(self) -> int:
        """HTTP requests made so far, retried attempts included."""
        return self.requests_made + self._retried[0]

    # --- requests --------------------------------------------------------------------------------
    def _raw(self, url: str, params: dict | None, headers: dict[str, str]) -> tuple[int, dict, str]:
        while True:
            self.requests_made += 1
            try:
                return self._requester.requestJson("GET", url, params, headers)
            except RateLimitExceededExceedsMaxWait as exc:
                self._wait(exc.wait, url)
            except requests.exceptions.RetryError as exc:
                raise CollectError(f"GitHub {self.base_url}{url.split('?')[0]}: still failing after retries "
                                   f"({self._reason(exc)}); rerun to resume") from None
            except requests.exceptions.ConnectionError as exc:
                raise CollectError(f"GitHub {self.base_url}: cannot connect ({self._reason(exc)}); "
                                   "rerun to resume") from None

    def _reason(self, exc: Exception) -> str:
        return redact(str(exc).splitlines()[0][:200], (self.token or "",))

    def _wait(self, seconds: float, url: str) -> None:
        seconds = max(0.0, float(seconds))
        if seconds > self.max_wait:
            resume = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
            raise RateLimitStop(
                f"GitHub rate limit reached at {url.split('?')[0]}: it resets in {seconds:.0f} s "
                f"(at {resume:%H:%M:%S} UTC), more than --max-wait {self.max_wait:.0f} s; "
                "stopped with the cursor saved, rerun after the reset to resume")
        remaining = seconds
        while remaining > 0:
            print(f"\rGitHub rate limit: waiting {remaining:5.0f} s for the reset ", end="", file=sys.stderr,
                  flush=True)
            step = min(1.0, remaining)
            self._sleep(step)
            remaining -= step
        print("\rGitHub rate limit: reset reached, resuming          ", file=sys.stderr, flush=True)

    def get_page(self, url: str, params: dict | None = None, etag: str | None = None,
                 _limited: int = 0) -> Page | None:
        """GET one page (a path, or a next link). None means 304 Not Modified for `etag`."""
        headers = {"Accept": "application/vnd.github+json"}
        if etag:
            headers["If-None-Match"] = etag
        status, resp_headers, body = self._raw(url, params, headers)
        remaining = resp_headers.get("x-ratelimit-remaining")
        if remaining is not None and str(remaining).isdigit():
            self.rate_remaining = int(remaining)
        if status == 304:
            self.not_modified += 1
            return None
        data = _json(body)
        if status >= 400:
            exc = Requester.createException(status, resp_headers, data if isinstance(data, dict) else {})
            wait = self._limit_wait(status, resp_headers, exc)
            if wait is not None and _limited < 10:  # 429s (and 403s GithubRetry left to us): wait, then retry
                self._wait(wait, url)
                return self.get_page(url, params, etag, _limited + 1)
            raise GitHubHTTPError(self._describe_error(url, status, exc), status) from None
        if isinstance(data, dict) and "workflow_runs" in data:
            items = data["workflow_runs"]
        elif isinstance(data, dict) and "jobs" in data and "total_count" in data:
            items = data["jobs"]
        elif isinstance(data, list):
            items = data
        else:
            items = [data]
        match = LINK_NEXT.search(resp_headers.get("link", ""))
        return Page(items, match.group(1) if match else None, resp_headers.get("etag"), resp_headers)

    def _limit_wait(self, status: int, headers: dict, exc: GithubException) -> float | None:
        """Seconds to wait for a rate-limited answer: until X-RateLimit-Reset when the primary limit is used
        up, Retry-After when given, `secondary_wait` for a secondary-limit message; None if not limited."""
        if status not in (403, 429):
            return None
        if str(headers.get("x-ratelimit-remaining")) == "0":
            reset = str(headers.get("x-ratelimit-reset", ""))
            return float(reset) - time.time() + 1 if reset.isdigit() else self.max_wait + 1
        retry_after = str(headers.get("retry-after", ""))
        if retry_after.isdigit():
            return float(retry_after)
        message = exc.data.get("message", "") if isinstance(exc.data, dict) else ""
        if status == 429 or Requester.isSecondaryRateLimitError(message or ""):
            return self.secondary_wait
        return None

    def _describe_error(self, url: str, status: int, exc: GithubException) -> str:
        message = exc.data.get("message") if isinstance(exc.data, dict) else None
        what = {401: "the token was refused (check the token environment variable)",
                403: "access forbidden", 404: "not found (check `repo` and the token's access)"}.get(status, "")
        text = f"GitHub {self.base_url}{url.split('?')[0]}: HTTP {status}"
        text += f": {message}" if message else ""
        text += f" — {what}" if what else ""
        return redact(text, (self.token or "",))

    def get_json(self, url: str, params: dict | None = None) -> dict:
        page = self.get_page(url, params)
        assert page is not None
        return page.items[0]

    def iter_pages(self, url: str, params: dict | None = None, etag: str | None = None):
        """Yield pages following Link rel=next; the first may be None (304)."""
        page = self.get_page(url, {**(params or {}), "per_page": self.per_page}, etag)
        yield page
        while page is not None and page.next_url:
            page = self.get_page(page.next_url)
            yield page

    def download(self, url: str) -> bytes:
        """GET a binary download (an artifact zip): GitHub answers 302 to a signed blob URL, which is
        fetched without the token (the signature is the credential). Both requests are counted."""
        status, headers, _body = self._raw(url, None, {"Accept": "application/vnd.github+json"})
        if status in (301, 302, 303, 307, 308) and headers.get("location"):
            self.requests_made += 1
            try:
                resp = requests.get(headers["location"], timeout=60)
            except requests.exceptions.RequestException as exc:
                raise CollectError(f"GitHub {self.base_url}{url.split('?')[0]}: download failed "
                                   f"({self._reason(exc)}); rerun to resume") from None
            if resp.status_code >= 400:
                raise GitHubHTTPError(f"GitHub {self.base_url}{url.split('?')[0]}: the download link answered "
                                      f"HTTP {resp.status_code}", resp.status_code)
            return resp.content
        if status >= 400:
            raise GitHubHTTPError(self._describe_error(url, status, Requester.createException(
                status, headers, _json(_body) if isinstance(_json(_body), dict) else {})), status)
        raise GitHubHTTPError(f"GitHub {self.base_url}{url.split('?')[0]}: expected a redirect to the download, "
                              f"got HTTP {status}", status)

    def close(self) -> None:
        self.github.close()


def _json(body: Any) -> Any:
    import json

    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


parse_time = _parse_time
