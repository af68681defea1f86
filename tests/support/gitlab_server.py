"""A local GitLab REST v4 server for collector tests, serving REAL recorded objects (DevLake's GitLab raw tables in
../shared/api-samples) with GitLab's list semantics: `state`, `order_by=updated_at`, `sort`, `updated_after`
(inclusive for merge requests, exclusive for pipelines, as GitLab documents them), `page`/`per_page` with
`X-Page`, `X-Next-Page` (empty on the last page), `X-Total` and, unless `link=False`, `Link: rel="next"`.
`throttle(prefix, times, reset_in)` answers the next `times` requests under `prefix` with GitLab's 429
(`RateLimit-*` headers, `RateLimit-Reset` epoch, no Retry-After). Endpoints the recordings do not cover
(`/approvals`, `/diffs`, `/changes`) answer 404, as an older or restricted GitLab would.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LIST_FIELDS = ("id", "iid", "project_id", "sha", "ref", "status", "source", "created_at", "updated_at", "web_url")


def devlake_rows(path: Path) -> list[dict]:
    csv.field_size_limit(1 << 30)
    with path.open(newline="", encoding="utf-8") as fh:
        return [json.loads(r["data"]) for r in csv.DictReader(fh)]


def _time(value: str | None) -> dt.datetime:
    return dt.datetime.fromisoformat((value or "1970-01-01T00:00:00Z").replace("Z", "+00:00"))


class GitLabServer:
    def __init__(self, project: dict, *, merge_requests: list[dict], notes: list[dict], pipelines: list[dict],
                 pipeline_details: list[dict] = (), jobs: list[dict] = (), link: bool = True):
        self.project = project
        self.mrs = {m["iid"]: m for m in merge_requests}
        self.notes = notes
        self.details = {p["id"]: p for p in pipeline_details}
        self.pipelines = {p["id"]: p for p in pipelines}
        for p in pipeline_details:
            self.pipelines.setdefault(p["id"], {k: p.get(k) for k in LIST_FIELDS})
        self.jobs = list(jobs)
        self.link = link
        self.received: list[str] = []
        self._throttles: list[list] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> GitLabServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def throttle(self, prefix: str, times: int, reset_in: int) -> None:
        with self._lock:
            self._throttles.append([prefix, times, reset_in])

    def calls(self, fragment: str = "") -> list[str]:
        return [r for r in self.received if fragment in r]

    # -- answers ------------------------------------------------------------------------------------------------
    def _page(self, items: list, query: dict, base: str) -> tuple[int, dict, list]:
        per = int(query.get("per_page", 20))
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * per: page * per]
        more = page * per < len(items)
        headers = {"X-Page": str(page), "X-Per-Page": str(per), "X-Total": str(len(items)),
                   "X-Next-Page": str(page + 1) if more else ""}
        if more and self.link:
            nxt = urllib.parse.urlencode({**query, "page": page + 1})
            headers["Link"] = f'<{self.url}{base}?{nxt}>; rel="next"'
        return 200, headers, chunk

    def _sorted(self, items: list[dict], query: dict, inclusive: bool) -> list[dict]:
        if "updated_after" in query:
            after = _time(query["updated_after"])
            items = [i for i in items if (_time(i.get("updated_at") or i.get("created_at")) >= after if inclusive
                                          else _time(i.get("updated_at") or i.get("created_at")) > after)]
        if query.get("order_by") == "updated_at":
            items = sorted(items, key=lambda i: (_time(i.get("updated_at") or i.get("created_at")), i["id"]),
                           reverse=query.get("sort") == "desc")
        return items

    def answer(self, path: str, query: dict) -> tuple[int, dict, object]:
        pid = self.project["id"]
        enc = urllib.parse.quote(self.project["path_with_namespace"], safe="")
        if path in (f"/api/v4/projects/{enc}", f"/api/v4/projects/{pid}"):
            return 200, {}, self.project
        base = f"/api/v4/projects/{pid}"
        if path == f"{base}/merge_requests":
            return self._page(self._sorted(list(self.mrs.values()), query, inclusive=True), query, path)
        if path.startswith(f"{base}/merge_requests/"):
            iid, _, rest = path[len(f"{base}/merge_requests/"):].partition("/")
            if rest == "notes" and int(iid) in self.mrs:
                notes = sorted((n for n in self.notes if n["noteable_iid"] == int(iid)),
                               key=lambda n: (n["created_at"], n["id"]))
                return self._page(notes, query, path)
            return 404, {}, {"message": "404 Not found"}
        if path == f"{base}/pipelines":
            items = [{k: p.get(k) for k in LIST_FIELDS} for p in self.pipelines.values()]
            return self._page(self._sorted(items, query, inclusive=False), query, path)
        if path.startswith(f"{base}/pipelines/"):
            ident, _, rest = path[len(f"{base}/pipelines/"):].partition("/")
            ident = int(ident)
            if ident not in self.pipelines:
                return 404, {}, {"message": "404 Not found"}
            if rest == "jobs":
                return self._page([j for j in self.jobs if j["pipeline"]["id"] == ident], query, path)
            return 200, {}, self.details.get(ident, self.pipelines[ident])
        return 404, {}, {"message": "404 Not found"}

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, no delayed-ACK stalls (as github_replay)

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                with server._lock:
                    server.received.append(self.path)
                    throttle = next((t for t in server._throttles if parts.path.startswith(t[0]) and t[1] > 0), None)
                    if throttle is not None:
                        throttle[1] -= 1
                if throttle is not None:
                    reset = int(time.time()) + throttle[2]
                    status, headers, body = 429, {"RateLimit-Limit": "600", "RateLimit-Observed": "601",
                                                  "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset),
                                                  "RateLimit-ResetTime": time.strftime(
                                                      "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(reset))}, \
                        {"message": "Retry later"}
                else:
                    status, headers, body = server.answer(parts.path, query)
                data = json.dumps(body).encode()
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
