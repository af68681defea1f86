"""The GitLab REST v4 client (SPEC §12) on the shared `collectors.http.HttpClient` (SPEC §8).

- `base_url` is the instance (`https://gitlab.com`, a self-managed host, with or without `/api/v4`).
- Lists page by `page`/`per_page` (100) following `Link: rel="next"` (keyset pagination gives only that) and
  else the `X-Next-Page` header (empty on the last page; `X-Total` and `rel="last"` are dropped above 10,000 rows).
- `updated_sweep` reads a list sorted by `updated_at` ascending from a time on, re-asking with `updated_after` =
  the newest time of the last full page instead of walking offsets, so an item updated during the sweep (which
  moves to the end of the list) cannot shift another one past a page boundary unseen.
- 429 with `Retry-After` or `RateLimit-Reset` (epoch) waits (gitlab.com has sent 429s without either: then
  exponential backoff); 5xx retried; the token is sent as a bearer token and redacted from every message.
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

from collectors.http import HttpClient, Recorder, next_link
from collectors.runs import CollectError
from collectors.times import parse_time

PER_PAGE = 100
HINTS = {401: "check the token (token_env)", 403: "the token lacks the read_api scope or access to the project",
         404: "not found: check base_url and project (group/project or its numeric id)"}


def _updated(item: dict) -> dt.datetime:
    """An item's `updated_at` (a pipeline still being created can have none: its `created_at`)."""
    when = parse_time(item.get("updated_at") or item.get("created_at"))
    if when is None:
        raise CollectError(f"GitLab: an item without updated_at or created_at (id {item.get('id')})")
    return when.astimezone(dt.UTC)


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class GitLabClient:
    """Talks to one GitLab instance. `sleep` and `max_wait` are injectable so tests never really wait long."""

    def __init__(self, base_url: str, *, token: str | None = None, max_wait: float = 900.0, retries: int = 5,
                 backoff_factor: float = 1.0, timeout: float = 60.0, sleep: Callable[[float], None] = time.sleep,
                 recorder: Recorder | None = None, per_page: int = PER_PAGE):
        base = base_url.rstrip("/")
        if base.startswith(("http://", "https://")) and not base.endswith("/api/v4"):
            base += "/api/v4"
        self.http = HttpClient(base, service="GitLab", token=token, auth_scheme="Bearer",
                               headers={"Accept": "application/json"}, retries=retries, backoff_factor=backoff_factor,
                               max_wait=max_wait, timeout=timeout, sleep=sleep, hints=HINTS, recorder=recorder)
        self.base_url = self.http.base_url
        self.per_page = per_page

    @property
    def calls(self) -> int:
        return self.http.calls

    @property
    def secrets(self) -> tuple[str, ...]:
        return self.http.secrets

    def close(self) -> None:
        self.http.close()

    # -- plumbing ------------------------------------------------------------------------------------------------
    def get_json(self, path: str, params: dict[str, Any] | None = None, accept_status: tuple[int, ...] = ()) -> Any:
        response = self.http.get(path, params, accept_status=accept_status)
        return None if response.status_code in accept_status else self.http.json(response)

    def pages(self, path: str, params: dict[str, Any] | None = None,
              accept_status: tuple[int, ...] = ()) -> Iterator[list[dict]] | None:
        """Each page of a list (Link rel="next", else X-Next-Page); None when the first answer is in
        `accept_status` (e.g. 404 for an endpoint this GitLab does not have)."""
        params = {"per_page": self.per_page, **(params or {})}
        first = self.http.get(path, params, accept_status=accept_status)
        if first.status_code in accept_status:
            return None

        def walk() -> Iterator[list[dict]]:
            response = first
            while True:
                doc = self.http.json(response)
                if not isinstance(doc, list):
                    raise CollectError(f"GitLab {self.http.describe(response.url or path)}: expected a JSON list")
                yield doc
                link = next_link(response)
                page = (response.headers.get("X-Next-Page") or "").strip()
                if link:
                    response = self.http.get(link)
                elif page:
                    response = self.http.get(path, {**params, "page": page})
                else:
                    return

        return walk()

    def all(self, path: str, params: dict[str, Any] | None = None, accept_status: tuple[int, ...] = ()
            ) -> list[dict] | None:
        pages = self.pages(path, params, accept_status)
        return None if pages is None else [item for page in pages for item in page]

    def updated_sweep(self, path: str, params: dict[str, Any], since: dt.datetime | None
                      ) -> Iterator[list[dict]]:
        """Pages of a list sorted by `updated_at` ascending, from `since` (inclusive) on (see the docstring).
        Each item comes once per sweep."""
        after, done_at_after, page_no = since, set(), 1
        while True:
            query = {**params, "order_by": "updated_at", "sort": "asc", "per_page": self.per_page, "page": page_no}
            if after is not None:  # a millisecond early: `updated_after` is exclusive on some endpoints
                query["updated_after"] = _iso(after - dt.timedelta(milliseconds=1))
            items = self.get_json(path, query) or []
            if not isinstance(items, list):
                raise CollectError(f"GitLab {path}: expected a JSON list")
            fresh = [i for i in items if i.get("id") not in done_at_after and (after is None or _updated(i) >= after)]
            if fresh:
                yield fresh
            if len(items) < self.per_page:
                return
            newest = max(_updated(i) for i in items)
            if after is not None and newest <= after:  # a full page at one instant: walk on by offset
                done_at_after |= {i.get("id") for i in items}
                page_no += 1
                continue
            after, page_no = newest, 1
            done_at_after = {i.get("id") for i in items if _updated(i) == newest}

    # -- endpoints -----------------------------------------------------------------------------------------------
    def project(self, project: str) -> dict:
        ref = str(project) if str(project).isdigit() else urllib.parse.quote(str(project), safe="")
        return self.get_json(f"/projects/{ref}")
