"""A local replay HTTP server (127.0.0.1, free port) and a Jira site built on it, for the Jira and GitHub
Issues tests and the demo (the GitHub PR and Actions replay server is collectors/demo/github_replay.py).

The demo engagement's Jira tickets are a recording (`jira-recording.json`: statuses + issue documents)
served by `serve_jira_recording(path)` to the real Jira collector (a `[[sources.jira]]` with `replay = ...`).

`ReplayServer(handler)` serves every GET through `handler(path, query) -> (status, headers, body)` and
records each request (path, query, headers). `JiraSite` holds recorded issue documents and answers like
Jira does: search by JQL (`key in (...)`, `updated >= "yyyy/MM/dd HH:mm"`, ORDER BY updated) paged by
nextPageToken (cloud) or startAt (server), changelog and comment pages, statuses, /myself.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Response = tuple[int, dict[str, str], Any]


class ReplayServer:
    def __init__(self, handler: Callable[[str, dict[str, str]], Response]):
        self.handler = handler
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                outer.requests.append((parts.path, query, dict(self.headers)))
                status, headers, body = outer.handler(parts.path, query)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                headers = {"Content-Type": "application/json", **headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client was killed mid-request (the kill -9 test)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ReplayServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def paths(self, prefix: str = "") -> list[str]:
        return [p for p, _q, _h in self.requests if p.startswith(prefix)]


_KEY_IN = re.compile(r"key\s+in\s*\(([^)]*)\)", re.IGNORECASE)
_UPDATED = re.compile(r'updated\s*>=\s*"(\d{4}/\d{2}/\d{2} \d{2}:\d{2})"', re.IGNORECASE)


def _updated_of(issue: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(issue["fields"]["updated"].replace("Z", "+00:00"))


class JiraSite:
    """Recorded Jira issues served like a Jira site. `issues`: full issue documents (fields + changelog).
    `changelogs`: issue id/key -> full history list for the changelog endpoint. `faults`: a list of
    (predicate(path, query), response) consumed once each, to inject 429s and the like."""

    def __init__(self, issues: list[dict], *, statuses: list[dict] | None = None,
                 changelogs: dict[str, list[dict]] | None = None, comments: dict[str, list[dict]] | None = None,
                 timezone: str = "UTC", inline_changelog_limit: int = 100):
        self.issues = issues
        self.statuses = statuses or []
        self.changelogs = changelogs or {}
        self.comments = comments or {}
        self.timezone = timezone
        self.inline_changelog_limit = inline_changelog_limit
        self.faults: list[tuple[Callable[[str, dict], bool], Response]] = []

    def _select(self, jql: str) -> list[dict]:
        chosen = list(self.issues)
        keys = _KEY_IN.search(jql)
        if keys:
            wanted = {k.strip().strip('"') for k in keys.group(1).split(",")}
            chosen = [i for i in chosen if i["key"] in wanted]
        since = _UPDATED.search(jql)
        if since:
            from zoneinfo import ZoneInfo

            bound = dt.datetime.strptime(since.group(1), "%Y/%m/%d %H:%M").replace(tzinfo=ZoneInfo(self.timezone))
            chosen = [i for i in chosen if _updated_of(i) >= bound]
        if "order by updated" in jql.lower():
            chosen.sort(key=lambda i: (_updated_of(i), i["key"]))
        return chosen

    def _shape(self, issue: dict, fields: str, expand: str | None) -> dict:
        if fields == "updated":
            return {"id": issue.get("id"), "key": issue["key"], "fields": {"updated": issue["fields"]["updated"]}}
        out = {k: v for k, v in issue.items() if k != "changelog"}
        if expand and "changelog" in expand:
            full = self.changelogs.get(str(issue.get("id")), self.changelogs.get(issue["key"]))
            histories = (issue.get("changelog") or {}).get("histories")
            if histories is None and full is not None:
                histories = full
            histories = histories or []
            total = len(full) if full is not None else (issue.get("changelog") or {}).get("total", len(histories))
            shown = histories[-self.inline_changelog_limit:]
            out["changelog"] = {"startAt": 0, "maxResults": len(shown), "total": total, "histories": shown}
        return out

    def __call__(self, path: str, query: dict[str, str]) -> Response:
        for n, (predicate, response) in enumerate(self.faults):
            if predicate(path, query):
                del self.faults[n]
                return response
        if path.endswith("/status"):
            return 200, {}, self.statuses
        if path.endswith("/myself"):
            return 200, {}, {"accountId": "me", "timeZone": self.timezone}
        size = int(query.get("maxResults", 50))
        if path == "/rest/api/3/search/jql":
            issues = self._select(query.get("jql", ""))
            start = int(query.get("nextPageToken", "0").removeprefix("tok-") or 0)
            page = issues[start:start + size]
            body = {"issues": [self._shape(i, query.get("fields", ""), query.get("expand")) for i in page],
                    "isLast": start + size >= len(issues)}
            if not body["isLast"]:
                body["nextPageToken"] = f"tok-{start + size}"
            return 200, {}, body
        if path == "/rest/api/2/search":
            issues = self._select(query.get("jql", ""))
            start = int(query.get("startAt", 0))
            page = issues[start:start + size]
            return 200, {}, {"startAt": start, "maxResults": size, "total": len(issues),
                             "issues": [self._shape(i, query.get("fields", ""), query.get("expand")) for i in page]}
        m = re.fullmatch(r"/rest/api/[23]/issue/([^/]+)/(changelog|comment)", path)
        if m:
            ref, what = m.groups()
            values = (self.changelogs if what == "changelog" else self.comments).get(ref)
            if values is None:
                return 404, {}, {"errorMessages": [f"Issue does not exist: {ref}"]}
            start = int(query.get("startAt", 0))
            page = values[start:start + size]
            key = "values" if what == "changelog" else "comments"
            return 200, {}, {key: page, "startAt": start, "maxResults": size, "total": len(values),
                             "isLast": start + size >= len(values)}
        return 404, {}, {"errorMessages": [f"no recording for {path}"]}


def load_jira_recording(path) -> JiraSite:
    """A JiraSite from a recording file {"statuses": [...], "issues": [...], "timezone": "UTC"}."""
    from pathlib import Path

    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    return JiraSite(doc.get("issues", []), statuses=doc.get("statuses", []), timezone=doc.get("timezone", "UTC"))
