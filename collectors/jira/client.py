"""A small Jira REST client over `requests`: search paging, changelog and comment paging, rate limits.

- Cloud (`api = "cloud"`): `GET /rest/api/3/search/jql` paged by `nextPageToken` until `isLast`.
- Server / Data Center (`api = "server"`): `GET /rest/api/2/search` paged by `startAt` / `total`.
- `GET /rest/api/{v}/issue/{idOrKey}/changelog` and `/comment` paged by `startAt` when the inline
  ones are truncated (Server has no changelog endpoint: `expand=changelog` on the issue instead).
- 429 and 503 are retried after `Retry-After` seconds, else until `X-RateLimit-Reset` (an ISO
  timestamp), else with exponential backoff; other 5xx and connection errors with backoff.
- Auth: basic (email + API token) or bearer token. Tokens never appear in errors (`redact`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from collectors.runs import CollectError, redact

RETRY_STATUSES = {429, 500, 502, 503, 504}


def parse_jira_time(value: str | int | float | None) -> dt.datetime | None:
    """Jira timestamps ('2021-01-25T21:49:52.514+0800', '...Z', or epoch milliseconds as a number) as aware
    datetimes; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
    if not isinstance(value, str):
        raise ValueError(f"expected a Jira timestamp like 2021-01-25T21:49:52.514+0800, got {value!r}")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"expected a Jira timestamp like 2021-01-25T21:49:52.514+0800, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@dataclass
class SearchPage:
    issues: list[dict]
    next_token: str | None  # cloud: nextPageToken; server: the next startAt as text; None on the last page


class JiraClient:
    """Talks to one Jira site. `sleep` and `max_wait` are injectable so tests never really wait long."""

    def __init__(self, base_url: str, *, api: str = "cloud", email: str | None = None, token: str | None = None,
                 timeout: float = 60, max_retries: int = 5, max_wait: float = 600,
                 sleep: Callable[[float], None] = time.sleep, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.api = api
        self.version = "3" if api == "cloud" else "2"
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.sleep = sleep
        self.secrets = tuple(s for s in (token, email) if s)
        self.session = session or requests.Session()
        self.session.headers["Accept"] = "application/json"
        if token and email:
            self.session.auth = (email, token)
        elif token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.requests_made: list[str] = []  # paths requested, for the run log and tests

    # -- transport ---------------------------------------------------------------------------------
    def _wait_seconds(self, response: requests.Response, attempt: int) -> float:
        retry_after = response.headers.get("Retry-After")
        if retry_after:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                pass
        reset = response.headers.get("X-RateLimit-Reset")
        if reset:
            try:
                when = parse_jira_time(reset)
                return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
            except ValueError:
                pass
        return float(min(60, 2 ** attempt))

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a JSON document, honouring rate limits; raise CollectError naming the URL on failure."""
        url = f"{self.base_url}{path}"
        for attempt in range(self.max_retries + 1):
            self.requests_made.append(path)
            try:
                response = self.session.get(url, params=params, timeout=self.timeout)
            except requests.RequestException as exc:
                if attempt == self.max_retries:
                    raise CollectError(redact(f"Jira {url}: cannot connect ({type(exc).__name__}: {exc})",
                                              self.secrets)) from None
                self.sleep(min(60, 2 ** attempt))
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.max_retries:
                wait = self._wait_seconds(response, attempt)
                if wait > self.max_wait:
                    raise CollectError(f"Jira {url}: rate limited for {wait:.0f} s (over {self.max_wait:.0f} s); "
                                       "rerun later to resume")
                self.sleep(wait)
                continue
            if response.status_code >= 400:
                detail = response.text[:300].replace("\n", " ")
                hint = {401: " (check the email/token environment variables)",
                        403: " (the token lacks permission)",
                        429: " (rate limited; rerun later to resume)"}.get(response.status_code, "")
                raise CollectError(redact(f"Jira {url}: HTTP {response.status_code}{hint}: {detail}", self.secrets))
            try:
                return response.json()
            except ValueError:
                raise CollectError(f"Jira {url}: expected a JSON response, got {response.text[:80]!r}") from None
        raise CollectError(f"Jira {url}: still failing after {self.max_retries} retries; rerun later to resume")

    # -- endpoints -----------------------------------------------------------------------------------
    def search_page(self, jql: str, fields: str, token: str | None, page_size: int,
                    expand: str | None = None) -> SearchPage:
        """One page of a JQL search; `token` is the page to fetch (None = first)."""
        params: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": page_size}
        if expand:
            params["expand"] = expand
        if self.api == "cloud":
            if token:
                params["nextPageToken"] = token
            doc = self._expect(self.get("/rest/api/3/search/jql", params), "issues", "/rest/api/3/search/jql")
            last = doc.get("isLast", not doc.get("nextPageToken"))
            return SearchPage(doc["issues"], None if last or not doc.get("nextPageToken") else doc["nextPageToken"])
        start = int(token or 0)
        params["startAt"] = start
        doc = self._expect(self.get("/rest/api/2/search", params), "issues", "/rest/api/2/search")
        issues = doc["issues"]
        after = start + len(issues)
        total = doc.get("total")
        more = bool(issues) and (after < total if isinstance(total, int) else len(issues) >= page_size)
        return SearchPage(issues, str(after) if more else None)

    def search(self, jql: str, fields: str, page_size: int = 50, expand: str | None = None) -> Iterator[SearchPage]:
        token: str | None = None
        while True:
            page = self.search_page(jql, fields, token, page_size, expand)
            yield page
            if page.next_token is None:
                return
            token = page.next_token

    def changelog(self, issue: str, inline: dict | None = None) -> list[dict]:
        """Every history of an issue: the inline `changelog` when complete, else paged from the API."""
        inline = inline or {}
        histories = list(inline.get("histories") or [])
        total = inline.get("total")
        if inline and (total is None or total <= len(histories)):
            return histories
        if self.api != "cloud":
            doc = self.get(f"/rest/api/2/issue/{issue}", {"expand": "changelog", "fields": "created"})
            return list((doc.get("changelog") or {}).get("histories") or [])
        return self._paged(f"/rest/api/3/issue/{issue}/changelog", "values")

    def comments(self, issue: str, inline: dict | None = None) -> list[dict]:
        """Every comment of an issue: the inline `comment` field when complete, else paged."""
        if isinstance(inline, list):  # some documents inline the comment list itself
            return inline
        inline = inline or {}
        comments = list(inline.get("comments") or [])
        total = inline.get("total")
        if inline and (total is None or total <= len(comments)):
            return comments
        return self._paged(f"/rest/api/{self.version}/issue/{issue}/comment", "comments")

    def statuses(self) -> list[dict]:
        doc = self.get(f"/rest/api/{self.version}/status")
        if not isinstance(doc, list):
            raise CollectError(f"Jira {self.base_url}/rest/api/{self.version}/status: expected a list of statuses")
        return doc

    def user_timezone(self) -> str:
        """The token owner's time zone, in which Jira reads JQL dates (UTC when not readable)."""
        try:
            doc = self.get(f"/rest/api/{self.version}/myself")
        except CollectError:
            return "UTC"
        return (doc or {}).get("timeZone") or "UTC"

    def _paged(self, path: str, key: str) -> list[dict]:
        out: list[dict] = []
        start = 0
        while True:
            doc = self._expect(self.get(path, {"startAt": start, "maxResults": 100}), key, path)
            values = doc[key]
            out.extend(values)
            start += len(values)
            total = doc.get("total")
            if not values or doc.get("isLast") is True or (isinstance(total, int) and start >= total):
                return out

    def _expect(self, doc: Any, key: str, path: str) -> dict:
        if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
            raise CollectError(f"Jira {self.base_url}{path}: expected a JSON object with a {key!r} list")
        return doc
