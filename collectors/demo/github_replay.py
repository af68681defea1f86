"""A local replay server for recorded HTTP exchanges (GitHub REST in GitHub's shapes), for tests and the demo.

`ReplayServer` listens on 127.0.0.1 on a free port and answers each request with the recorded
exchange matched by method + path + query (query parameters compared as a sorted multiset). Several
exchanges recorded for the same request are served in order, the last one repeating, so a test can
script "500, then 200" or "in progress, then completed". It behaves like GitHub where recordings
leave things out:
- every 200 carries an ETag (the recorded one, else a hash of the body) and a request whose
  `If-None-Match` equals it gets a 304 with an empty body;
- `X-RateLimit-*` headers are added when the recording has none;
- `https://api.github.com` in bodies and headers (Link, Location) is rewritten to this server.
Unmatched requests get GitHub's 404 body and are listed in `unmatched`, so a test can assert none.

Loaders read the three recording formats of shared/api-samples: PyGithub ReplayData (`load_pygithub`),
hub4j WireMock scenarios (`load_wiremock`) and octokit normalized fixtures (`load_octokit`).
"""

from __future__ import annotations

import ast
import hashlib
import json
import threading
import time
import urllib.parse
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

GITHUB = "https://api.github.com"


@dataclass
class Exchange:
    method: str
    target: str  # path?query as requested
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str | bytes = ""  # bytes: binary (zip logs), served as recorded
    delay: float = 0.0  # seconds to wait before answering (to kill a client mid-request)


def request_key(method: str, target: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    parts = urllib.parse.urlsplit(target)
    query = tuple(sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True)))
    return method.upper(), parts.path.rstrip("/") or "/", query


@dataclass
class Received:
    method: str
    target: str
    headers: dict[str, str]
    status: int


class ReplayServer:
    """Serve exchanges on http://127.0.0.1:<free port>; use as a context manager."""

    def __init__(self, exchanges: list[Exchange] | None = None, port: int = 0):
        self._queues: dict[tuple, deque[Exchange]] = defaultdict(deque)
        self.received: list[Received] = []
        self.unmatched: list[str] = []
        self.waiting: list[str] = []  # requests held by a delayed exchange
        self._lock = threading.Lock()
        for ex in exchanges or []:
            self.add_exchange(ex)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread: threading.Thread | None = None

    # --- scripting -------------------------------------------------------------------------------
    def add_exchange(self, ex: Exchange) -> None:
        with self._lock:
            self._queues[request_key(ex.method, ex.target)].append(ex)

    def add(self, method: str, target: str, body: Any = None, status: int = 200,
            headers: dict[str, str] | list[tuple[str, str]] | None = None, delay: float = 0.0) -> None:
        """Script one answer; `body` may be JSON-able data or a string."""
        text = body if isinstance(body, str) else ("" if body is None else json.dumps(body))
        hdrs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        if text and not any(k.lower() == "content-type" for k, _ in hdrs):
            hdrs.append(("Content-Type", "application/json; charset=utf-8"))
        self.add_exchange(Exchange(method.upper(), target, status, hdrs, text, delay))

    def replace(self, method: str, target: str, body: Any = None, status: int = 200,
                headers: dict[str, str] | None = None) -> None:
        """Drop whatever was scripted for this request and script a new answer."""
        with self._lock:
            self._queues.pop(request_key(method, target), None)
        self.add(method, target, body, status, headers)

    def calls(self, path_prefix: str = "") -> list[Received]:
        return [r for r in self.received if r.target.startswith(path_prefix)]

    # --- serving ---------------------------------------------------------------------------------
    def _next(self, method: str, target: str) -> Exchange | None:
        with self._lock:
            queue = self._queues.get(request_key(method, target))
            if not queue:
                return None
            return queue.popleft() if len(queue) > 1 else queue[0]

    def _rewrite(self, text: str) -> str:
        return text.replace(GITHUB, self.base_url)

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, no delayed-ACK stalls

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                ex = server._next(self.command, self.path)
                if ex is None:
                    server.unmatched.append(f"{self.command} {self.path}")
                    status, headers = 404, [("Content-Type", "application/json; charset=utf-8")]
                    body = json.dumps({"message": "Not Found",
                                       "documentation_url": "https://docs.github.com/rest"})
                else:
                    status, headers = ex.status, list(ex.headers)
                    body = server._rewrite(ex.body) if isinstance(ex.body, str) else ex.body
                    if ex.delay:
                        server.waiting.append(f"{self.command} {self.path}")
                        time.sleep(ex.delay)
                names = {k.lower() for k, _ in headers}
                defaults = [("X-RateLimit-Limit", "5000"), ("X-RateLimit-Remaining", "4999"),
                            ("X-RateLimit-Reset", str(int(time.time()) + 3600)), ("X-RateLimit-Used", "1"),
                            ("X-RateLimit-Resource", "core")]
                headers += [(k, v) for k, v in defaults if k.lower() not in names]
                etag = next((v for k, v in headers if k.lower() == "etag"), None)
                if status == 200 and etag is None:
                    digest = hashlib.sha1(body if isinstance(body, bytes) else body.encode()).hexdigest()
                    etag = f'W/"{digest}"'
                    headers.append(("ETag", etag))
                if status == 200 and etag and self.headers.get("If-None-Match") == etag:
                    status, body = 304, ""
                payload = body.encode() if isinstance(body, str) else body
                server.received.append(Received(self.command, self.path, dict(self.headers.items()), status))
                self.send_response(status)
                skip = {"content-length", "transfer-encoding", "connection", "content-encoding"}
                for k, v in headers:
                    if k.lower() not in skip:
                        self.send_header(k, server._rewrite(str(v)))
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload and self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

        return Handler

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --- loaders of shared/api-samples recordings --------------------------------------------------------
def load_pygithub(path: Path) -> list[Exchange]:
    """PyGithub ReplayData: 10 lines per exchange (protocol, verb, host, port, path?query, request headers,
    request body, status, response headers as a list of tuples, body), exchanges separated by a blank line."""
    lines = path.read_text(encoding="utf-8").split("\n")
    out, i = [], 0
    while i + 9 < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        _proto, verb, _host, _port, target = lines[i:i + 5]
        status, headers, body = lines[i + 7], lines[i + 8], lines[i + 9]
        hdrs = [(str(k), str(v)) for k, v in ast.literal_eval(headers)]
        out.append(Exchange(verb, target, int(status), hdrs, body))
        i += 10
    return out


def load_wiremock(scenario: Path) -> list[Exchange]:
    """hub4j WireMock scenario folder: mappings/N-*.json (+ __files bodies), in call order."""
    def order(p: Path) -> int:
        head = p.name.split("-", 1)[0]
        return int(head) if head.isdigit() else 0

    out = []
    for mapping in sorted((scenario / "mappings").glob("*.json"), key=order):
        m = json.loads(mapping.read_text(encoding="utf-8"))
        req, resp = m["request"], m["response"]
        target = req.get("url") or req.get("urlPath") or req.get("urlPattern", "")
        body = resp.get("body", "")
        if resp.get("bodyFileName"):
            raw = (scenario / "__files" / resp["bodyFileName"]).read_bytes()
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:
                body = raw
        hdrs = []
        for k, v in (resp.get("headers") or {}).items():
            hdrs.append((k, ", ".join(v) if isinstance(v, list) else str(v)))
        out.append(Exchange(req.get("method", "GET"), target, int(resp.get("status", 200)), hdrs, body))
    return out


def load_octokit(fixture: Path) -> list[Exchange]:
    """octokit normalized fixture: a JSON list of {method, path, status, response, headers}."""
    out = []
    for x in json.loads(fixture.read_text(encoding="utf-8")):
        resp = x.get("response")
        body = resp if isinstance(resp, str) else ("" if resp is None else json.dumps(resp))
        hdrs = [(k, str(v)) for k, v in (x.get("headers") or {}).items()]
        out.append(Exchange(x["method"].upper(), x["path"], int(x["status"]), hdrs, body))
    return out
