"""The Jira REST client: Jira's endpoints and paging on the shared `collectors.http.HttpClient` (SPEC §8).

- Cloud (`api = "cloud"`): `GET /rest/api/3/search/jql` paged by `nextPageToken` until `isLast`.
- Server / Data Center (`api = "server"`): `GET /rest/api/2/search` paged by `startAt` / `total`.
- `GET /rest/api/{v}/issue/{idOrKey}/changelog` and `/comment` paged by `startAt` when the inline
  ones are truncated (Server has no changelog endpoint: `expand=changelog` on the issue instead).
- Retries, 429 waits (`Retry-After` seconds, else the ISO `X-RateLimit-Reset`, else exponential backoff),
  503/5xx backoff, redaction, recording and replay: `HttpClient`.
- Auth: basic (email + API token) or bearer token; none in replay.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collectors.http import HttpClient, Recorder
from collectors.runs import CollectError
from collectors.times import parse_time

HINTS = {401: "check the email/token environment variables", 403: "the token lacks permission",
         404: "not found (check base_url and api)"}


def parse_jira_time(value: str | int | float | None):
    """Jira timestamps ('2021-01-25T21:49:52.514+0800', '...Z', or epoch milliseconds as a number) as aware
    datetimes with their offset (collectors/times.py); None stays None."""
    return parse_time(value)


@dataclass
class SearchPage:
    issues: list[dict]
    next_token: str | None  # cloud: nextPageToken; server: the next startAt as text; None on the last page


class JiraClient:
    """Talks to one Jira site. `sleep` and `max_wait` are injectable so tests never really wait long."""

    def __init__(self, base_url: str, *, api: str = "cloud", email: str | None = None, token: str | None = None,
                 timeout: float = 60, max_retries: int = 5, max_wait: float = 600, backoff_factor: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep, recorder: Recorder | None = None,
                 replay: str | Path | None = None):
        self.api = api
        self.version = "3" if api == "cloud" else "2"
        basic = (email, token) if (token and email) else None
        self.http = HttpClient(base_url, service="Jira", token=None if basic else token, auth_scheme="Bearer",
                               basic=basic, headers={"Accept": "application/json"}, retries=max_retries,
                               backoff_factor=backoff_factor, max_wait=max_wait, timeout=timeout, sleep=sleep,
                               hints=HINTS, recorder=recorder, replay=replay)
        self.base_url = self.http.base_url

    @property
    def secrets(self) -> tuple[str, ...]:
        return self.http.secrets

    @property
    def requests_made(self) -> list[str]:
        """Paths requested (with their query), for the run log and tests."""
        return self.http.requested

    @property
    def calls(self) -> int:
        return self.http.calls

    @property
    def waits(self) -> list[float]:
        return self.http.waits

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a JSON document, honouring rate limits; CollectError naming the URL on failure."""
        return self.http.get_json(path, params)

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
        """Every page of a JQL search: Cloud by body token (`HttpClient.iter_token_pages`), Server by startAt."""
        if self.api == "cloud":
            params: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": page_size}
            if expand:
                params["expand"] = expand
            for doc in self.http.iter_token_pages("/rest/api/3/search/jql", params):
                doc = self._expect(doc, "issues", "/rest/api/3/search/jql")
                last = doc.get("isLast", not doc.get("nextPageToken"))
                yield SearchPage(doc["issues"], None if last or not doc.get("nextPageToken") else doc["nextPageToken"])
            return
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
            raise CollectError(f"Jira {self.base_url}/rest/api/{self.version}/status: expected a JSON list of "
                               f"statuses, got {type(doc).__name__}")
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
