"""The one HTTP client of every REST source (GitHub PRs/reviews/runs/JUnit artifacts, GitHub Issues, Jira), SPEC §8.

One `HttpClient` per source, on `requests` with an urllib3 `Retry`, in the manner of Perceval's client
(one client reused by every backend, an archive to store or serve every exchange):

- **Transport retries** (urllib3 `Retry`): connection errors and every 5xx are retried `retries` times with
  exponential backoff (`backoff_factor`), `Retry-After` honoured (a 503 often carries it); each wait is a
  visible countdown ("… HTTP 502: retrying in 4 s").
- **Rate limits** (403/429, read here because they need the headers and the body): GitHub's primary limit
  (`X-RateLimit-Remaining: 0`) waits until `X-RateLimit-Reset` (epoch seconds, +1 s); Jira's 429 until its
  ISO `X-RateLimit-Reset`; `Retry-After` (seconds or an HTTP date) is waited as told; a secondary limit
  ("You have exceeded a secondary rate limit", "abuse detection") without one waits `secondary_wait`; a
  bare 429 backs off exponentially. A wait longer than `max_wait` raises `RateLimitStop` (the source has
  committed every page so far, so the rerun resumes). Waits are counted down on stderr in one-second steps
  and listed in `waits`.
- **Errors** are one line (`HttpError`, a `CollectError`): service, URL, status, the server's message and a
  hint; every message passes through `redact` with the token, the e-mail, the Basic credential and its
  base64 form. A 200 that is not JSON (an HTML proxy or single-sign-on page) is named as such.
- **Paging**: `iter_link_pages` follows `Link: rel="next"` (by path, so `/repositories/{id}/…` links and
  GitHub Enterprise's `/api/v3` prefix work); `iter_token_pages` follows a body token (`nextPageToken`
  until `isLast`). Conditional requests: `etag=` sends `If-None-Match`; a 304 comes back as `None` pages
  and is counted in `not_modified`.
- **Record and replay** (the product feature behind `collect --record DIR` and `base_url = "replay:DIR"`):
  a `Recorder` appends every final exchange of the run to `DIR/<name>.jsonl` (Authorization, cookies and
  secret values stripped); `replay=DIR` mounts a `ReplayAdapter` on the session, so the same client code
  (paging, ETags, errors) is served from the recording with no server process. Recording format: see
  `Recorder`.

`calls` counts HTTP requests made (transport retries included), `not_modified` the 304s.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import json
import re
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.util.retry import Retry

from collectors.runs import CollectError, redact
from collectors.times import epoch_or_iso

REPLAY_PREFIX = "replay:"
RECORDING_SUFFIX = ".jsonl"
RECORDING_VERSION = 1
# Response headers a recording never keeps (credentials or per-connection details).
_UNRECORDED_HEADERS = {"set-cookie", "authorization", "proxy-authorization", "content-length", "content-encoding",
                       "transfer-encoding", "connection", "keep-alive"}
_SECONDARY = re.compile(r"secondary rate limit|abuse detection|too many requests", re.IGNORECASE)
_HTML = re.compile(rb"^\s*(<!doctype html|<html|<head|<body|<\?xml[^>]*>\s*<html)", re.IGNORECASE)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class HttpError(CollectError):
    """A server answered an error status; `status` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class RateLimitStop(HttpError):
    """The rate limit resets later than `max_wait` allows: the collection stops cleanly, cursor saved."""

    def __init__(self, message: str, status: int = 429):
        super().__init__(message, status)


def is_replay(base_url: str | None) -> bool:
    return bool(base_url) and base_url.startswith(REPLAY_PREFIX)


def check_base_url(service: str, base_url: str) -> str:
    """`base_url` without a trailing slash, or CollectError naming it: an http(s) URL or replay:DIR."""
    value = (base_url or "").strip()
    if is_replay(value):
        return value
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CollectError(f"{service} base_url {base_url!r}: expected an http(s) URL (like https://api.github.com) "
                           "or replay:DIR (a recording made with `collect --record DIR`)")
    return value.rstrip("/")


def request_key(method: str, target: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """How a request is matched in a recording: method, path (no trailing slash), sorted query parameters."""
    parts = urllib.parse.urlsplit(target)
    query = tuple(sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True)))
    path = parts.path.rstrip("/") or "/"
    if parts.scheme and parts.netloc:  # a URL outside the base (a signed download): the host is part of the key
        path = f"{parts.scheme}://{parts.netloc}{path}"
    return method.upper(), path, query


# --- waiting ----------------------------------------------------------------------------------------------------
class _Waiter:
    """Counts a wait down on stderr in one-second steps through an injectable `sleep` (tests never wait)."""

    def __init__(self, service: str, sleep: Callable[[float], None], out: TextIO | None, max_wait: float):
        self.service, self.sleep, self.out, self.max_wait = service, sleep, out, max_wait
        self.waits: list[float] = []

    def __call__(self, seconds: float, reason: str, why: str = "") -> None:
        seconds = max(0.0, float(seconds))
        self.waits.append(seconds)
        out = self.out or sys.stderr
        remaining = seconds
        while remaining > 0:
            print(f"\r{self.service} {reason}: waiting {remaining:5.0f} s{why} ", end="", file=out, flush=True)
            step = min(1.0, remaining)
            self.sleep(step)
            remaining -= step
        if seconds > 0:
            print(f"\r{self.service} {reason}: waited {seconds:.0f} s, resuming      ", file=out, flush=True)


class _Retry(Retry):
    """urllib3's Retry for connection errors and 5xx, waiting through the client's countdown and counting
    every retried attempt (so `calls` includes them). Only a 503's Retry-After is urllib3's to honour: 403
    and 429 come back to `HttpClient`, which knows the rate-limit headers and `max_wait`."""

    RETRY_AFTER_STATUS_CODES = frozenset({503})

    def __init__(self, *args: Any, waiter: _Waiter | None = None, counter: list[int] | None = None, **kwargs: Any):
        self.waiter = waiter
        self.counter = counter if counter is not None else [0]
        super().__init__(*args, **kwargs)

    def new(self, **kw: Any) -> _Retry:
        kw.setdefault("waiter", self.waiter)
        kw.setdefault("counter", self.counter)
        return super().new(**kw)

    def increment(self, *args: Any, **kwargs: Any) -> _Retry:
        retry = super().increment(*args, **kwargs)  # raises when exhausted: that attempt is not retried
        self.counter[0] += 1
        return retry

    def sleep(self, response: Any = None) -> None:
        seconds = self.get_retry_after(response) if (response is not None and self.respect_retry_after_header) else None
        if seconds is None:
            seconds = self.get_backoff_time()
        reason = f"HTTP {response.status}" if response is not None else "connection error"
        if self.waiter is not None and seconds > self.waiter.max_wait:
            raise RateLimitStop(f"{self.waiter.service}: {reason} asks to retry in {seconds:.0f} s, more than "
                                f"--max-wait {self.waiter.max_wait:.0f} s; stopped with the cursor saved, rerun "
                                "later to resume", getattr(response, "status", 503))
        if seconds > 0 and self.waiter is not None:
            self.waiter(seconds, "retry", f" ({reason})")


# --- recording --------------------------------------------------------------------------------------------------
class Recorder:
    """Appends every final HTTP exchange of a run to `DIR/<name>.jsonl` (`collect --record DIR`).

    Format (JSON lines, UTF-8): a first line `{"baton_recording": 1, "service": "GitHub", "base_url":
    "https://api.github.com"}`, then one line per exchange: `{"method", "url", "request_headers", "status",
    "headers", "body" | "body_base64"[, "request_json"]}` where `url` is the path and query relative to `base_url`
    (a full URL for a download outside it), `request_headers` only `If-None-Match`, `request_json` the JSON body a
    POST sent (replay prefers the answer recorded for the same body), and `headers` the response headers
    without cookies or credentials. Token values (and the Basic credential's base64) are replaced by `***`
    wherever they appear. A later run appends: a recording of several runs replays them run after run.
    """

    def __init__(self, directory: Path, name: str, *, service: str, base_url: str):
        self.directory = Path(directory)
        self.path = self.directory / f"{_slug(name)}{RECORDING_SUFFIX}"
        self.service, self.base_url = service, base_url
        self.secrets: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self.exchanges = 0

    def _write(self, doc: dict) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            new = not self.path.exists() or self.path.stat().st_size == 0
            with self.path.open("a", encoding="utf-8") as fh:
                if new:
                    fh.write(json.dumps({"baton_recording": RECORDING_VERSION, "service": self.service,
                                         "base_url": self.base_url}) + "\n")
                fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise CollectError(f"cannot write the recording {self.path}: {exc.strerror or exc}") from None

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def add(self, method: str, url: str, request_headers: dict[str, str], response: requests.Response,
            json_body: Any = None) -> None:
        headers = {k: self._clean(v) for k, v in response.headers.items() if k.lower() not in _UNRECORDED_HEADERS}
        doc: dict[str, Any] = {"method": method.upper(), "url": url,
                               "request_headers": {k: v for k, v in request_headers.items()
                                                   if k.lower() == "if-none-match"},
                               "status": response.status_code, "headers": headers}
        if json_body is not None:  # a POST search (MLflow runs/search) is told apart by its body
            doc["request_json"] = json.loads(self._clean(json.dumps(json_body)))
        content = response.content or b""
        try:
            doc["body"] = self._clean(content.decode("utf-8"))
        except UnicodeDecodeError:
            doc["body_base64"] = base64.b64encode(content).decode("ascii")
        with self._lock:
            self._write(doc)
            self.exchanges += 1


def _request_json(request: requests.PreparedRequest) -> Any:
    """The JSON body a request sends (None without one)."""
    body = request.body
    if not body:
        return None
    try:
        return json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except (ValueError, UnicodeDecodeError):
        return None


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "source"


class Recording:
    """Every exchange of the `*.jsonl` recordings in one directory, indexed by `request_key`."""

    _cache: dict[tuple[str, float], Recording] = {}

    def __init__(self, directory: Path):
        self.directory = directory
        self.by_key: dict[tuple, list[dict]] = defaultdict(list)
        self.origins: dict[str, str] = {}  # service -> recorded base_url
        files = sorted(directory.glob(f"*{RECORDING_SUFFIX}")) if directory.is_dir() else []
        if not files:
            raise CollectError(f"replay {directory}: expected a directory of *{RECORDING_SUFFIX} recordings made with "
                               "`python -m collectors collect --record DIR`")
        for path in files:
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise CollectError(f"replay {path}: cannot read the recording ({exc})") from None
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except ValueError:
                raise CollectError(f"replay {path} line {n}: expected a JSON exchange, got {line[:60]!r}") from None
            if "baton_recording" in doc:
                self.origins.setdefault(doc.get("service", ""), doc.get("base_url", ""))
                continue
            try:
                self.by_key[request_key(doc["method"], doc["url"])].append(doc)
            except (KeyError, TypeError, AttributeError):
                raise CollectError(f"replay {path} line {n}: expected method, url, status, headers and body") from None

    @classmethod
    def open(cls, directory: Path) -> Recording:
        """The recording of `directory`, read once per process (and again when a file changed)."""
        directory = Path(directory)
        stamp = max((p.stat().st_mtime for p in directory.glob(f"*{RECORDING_SUFFIX}")), default=0.0) \
            if directory.is_dir() else 0.0
        key = (str(directory.resolve()), stamp)
        if key not in cls._cache:
            cls._cache[key] = cls(directory)
        return cls._cache[key]


class ReplayAdapter(BaseAdapter):
    """Serves a session's requests from a `Recording` (no network, no server process).

    Each request gets the recorded exchanges of its key in recorded order, the last one repeating. A
    request whose `If-None-Match` equals the served answer's ETag gets a 304 with an empty body, as the
    server would. A request never recorded gets a 404 naming the recording (and is listed in `unmatched`).
    """

    def __init__(self, recording: Recording, base_url: str):
        super().__init__()
        self.recording, self.base_url = recording, base_url.rstrip("/")
        self.served: dict[tuple, int] = defaultdict(int)
        self.unmatched: list[str] = []

    def _relative(self, url: str) -> str:
        if url.startswith(self.base_url + "/") or url == self.base_url:
            return url[len(self.base_url):] or "/"
        return url

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        target = self._relative(request.url or "")
        key = request_key(request.method or "GET", target)
        answers = self.recording.by_key.get(key)
        inm = request.headers.get("If-None-Match")
        if not answers:
            self.unmatched.append(f"{request.method} {target}")
            body = json.dumps({"message": f"Not Found: no recorded answer in the replay {self.recording.directory}"})
            return self._response(request, 404, {"Content-Type": "application/json"}, body.encode())
        sent_json = _request_json(request)
        same_body = [d for d in answers if "request_json" in d and d["request_json"] == sent_json]
        if sent_json is not None and same_body:  # recorded with this very body: that answer
            answers, key = same_body, (*key, json.dumps(sent_json, sort_keys=True))
        n = self.served[key]
        self.served[key] += 1
        doc = answers[min(n, len(answers) - 1)]
        if doc["status"] == 304 and not inm:  # a conditional answer to an unconditional request: the last full one
            doc = next((d for d in reversed(answers) if d["status"] != 304), doc)
        headers = dict(doc.get("headers") or {})
        etag = next((v for k, v in headers.items() if k.lower() == "etag"), None)
        if doc["status"] == 304 or (inm and etag and inm == etag and 200 <= doc["status"] < 300):
            return self._response(request, 304, {k: v for k, v in headers.items() if k.lower() != "content-type"},
                                  b"")
        body = base64.b64decode(doc["body_base64"]) if "body_base64" in doc else (doc.get("body") or "").encode()
        return self._response(request, int(doc["status"]), headers, body)

    @staticmethod
    def _response(request: requests.PreparedRequest, status: int, headers: dict, body: bytes) -> requests.Response:
        resp = requests.Response()
        resp.status_code = status
        resp.headers = CaseInsensitiveDict(headers)
        resp._content = body
        resp.url = request.url or ""
        resp.request = request
        resp.reason = "replayed"
        resp.encoding = "utf-8"
        return resp

    def close(self) -> None:
        pass


# --- the client -------------------------------------------------------------------------------------------------
class HttpClient:
    """One REST service at `base_url` (see the module docstring). `service` names it in messages ("GitHub",
    "Jira"); `hints` adds a sentence per error status; `replay` serves everything from a recording directory
    (or pass `base_url="replay:DIR"`); `recorder` records every exchange."""

    def __init__(self, base_url: str, *, service: str = "HTTP", token: str | None = None,
                 auth_scheme: str = "Bearer", basic: tuple[str, str] | None = None,
                 headers: dict[str, str] | None = None, retries: int = 5, backoff_factor: float = 1.0,
                 max_wait: float = 900.0, secondary_wait: float = 60.0, timeout: float = 60.0,
                 min_interval: float = 0.0, sleep: Callable[[float], None] = time.sleep,
                 hints: dict[int, str] | None = None, recorder: Recorder | None = None,
                 replay: str | Path | None = None, out: TextIO | None = None):
        self.service = service
        base_url = check_base_url(service, base_url)
        if is_replay(base_url):  # replay:DIR (the caller may pass DIR resolved against the engagement file)
            replay, base_url = replay if replay is not None else base_url[len(REPLAY_PREFIX):], ""
        self.replaying = replay is not None
        self.max_wait, self.secondary_wait, self.timeout = max_wait, secondary_wait, timeout
        self.min_interval = 0.0 if self.replaying else min_interval
        self.hints = dict(hints or {})
        self._sleep = sleep
        self._waiter = _Waiter(service, sleep, out, max_wait)
        self._retried = [0]
        self.requests_made = 0
        self.not_modified = 0
        self.requested: list[str] = []  # path?query of every request, in order (for the run log and tests)
        self.rate_remaining: int | None = None
        self._last_request = 0.0
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": "baton-collector", **(headers or {})})
        self._anonymous = requests.Session()  # signed download links: their signature is the credential
        self._anonymous.headers["User-Agent"] = "baton-collector"
        self.replay_adapter: ReplayAdapter | None = None
        if self.replaying:
            recording = Recording.open(Path(replay))
            base_url = base_url or recording.origins.get(service) or next(iter(recording.origins.values()), "") \
                or f"{REPLAY_PREFIX}{replay}"
            self.base_url = base_url.rstrip("/")
            self.replay_adapter = ReplayAdapter(recording, self._transport_base())
            for prefix in ("http://", "https://", REPLAY_PREFIX):
                self.session.mount(prefix, self.replay_adapter)
            token, basic = None, None  # nothing secret is ever sent to a recording
        else:
            self.base_url = base_url
            retry = _Retry(total=retries, connect=retries, read=retries, status=retries, other=0,
                           allowed_methods=frozenset({"GET", "HEAD", "POST"}),
                           status_forcelist=frozenset(range(500, 600)), backoff_factor=backoff_factor,
                           raise_on_status=False, raise_on_redirect=False, respect_retry_after_header=True,
                           waiter=self._waiter, counter=self._retried)
            adapter = HTTPAdapter(max_retries=retry)
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)
            self._anonymous.mount("http://", adapter)
            self._anonymous.mount("https://", adapter)
        secrets: list[str] = []
        if token:
            self.session.headers["Authorization"] = f"{auth_scheme} {token}"
            secrets += [token]
        if basic:
            self.session.auth = basic
            pair = f"{basic[0]}:{basic[1]}"
            secrets += [basic[1], pair, base64.b64encode(pair.encode()).decode()]
        self.secrets = tuple(s for s in secrets if s)
        self.recorder = recorder
        if recorder is not None:
            recorder.secrets = self.secrets
            if not recorder.base_url:
                recorder.base_url = self.base_url

    def _transport_base(self) -> str:
        return self.base_url if self.base_url.startswith(("http://", "https://")) else "https://replay.invalid"

    # --- bookkeeping ------------------------------------------------------------------------------------------
    @property
    def calls(self) -> int:
        """HTTP requests made so far, retried attempts included."""
        return self.requests_made + self._retried[0]

    @property
    def waits(self) -> list[float]:
        """Every wait (seconds) this client counted down: rate limits and retry backoffs."""
        return self._waiter.waits

    @property
    def unmatched(self) -> list[str]:
        """Replay only: requests the recording had no answer for."""
        return self.replay_adapter.unmatched if self.replay_adapter else []

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def close(self) -> None:
        self.session.close()
        self._anonymous.close()

    # --- URLs -------------------------------------------------------------------------------------------------
    def url_for(self, path_or_url: str) -> str:
        """An absolute URL at this service. Absolute URLs (Link headers, body `url`s) are followed by their
        path, so a link naming another host (a proxy, `/repositories/{id}` paths) reaches the same service."""
        base = self._transport_base()
        if not path_or_url.startswith(("http://", "https://")):
            return base + ("" if path_or_url.startswith("/") else "/") + path_or_url
        parts = urllib.parse.urlsplit(path_or_url)
        if path_or_url.startswith(base + "/"):
            return path_or_url
        prefix = urllib.parse.urlsplit(base).path.rstrip("/")
        path = parts.path[len(prefix):] if prefix and parts.path.startswith(prefix + "/") else parts.path
        return base + path + (f"?{parts.query}" if parts.query else "")

    def describe(self, url: str) -> str:
        """A URL for messages: without its query (which can be long), at the configured base."""
        base = self._transport_base()
        shown = self.base_url + url[len(base):] if url.startswith(base) else url
        return self.redact(shown.split("?")[0])

    # --- requests ---------------------------------------------------------------------------------------------
    def _pace(self) -> None:
        if self.min_interval > 0:
            gap = self.min_interval - (time.monotonic() - self._last_request)
            if gap > 0:
                time.sleep(gap)
        self._last_request = time.monotonic()

    def _send_once(self, method: str, url: str, params: dict | None, headers: dict[str, str],
                   allow_redirects: bool, json_body: Any, authenticated: bool) -> requests.Response:
        self._pace()
        self.requests_made += 1
        session = self.session if authenticated or self.replaying else self._anonymous
        try:
            return session.request(method, url, params=params, headers=headers, json=json_body,
                                   timeout=self.timeout, allow_redirects=allow_redirects)
        except requests.exceptions.RetryError as exc:
            raise HttpError(f"{self.service} {self.describe(url)}: still failing after retries "
                            f"({self._reason(exc)}); rerun to resume", 0) from None
        except requests.exceptions.InvalidURL as exc:
            raise HttpError(f"{self.service} {self.describe(url)}: not a valid URL ({self._reason(exc)})", 0) from None
        except requests.exceptions.RequestException as exc:
            raise HttpError(f"{self.service} {self.describe(url)}: cannot connect ({self._reason(exc)}); "
                            "check base_url and the network, then rerun to resume", 0) from None

    def _reason(self, exc: BaseException) -> str:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        inner = re.search(r"\(Caused by (\w+)\(", text)
        if inner:
            text = inner.group(1)
        return self.redact(text[:200])

    def request(self, method: str, path_or_url: str, *, params: dict | None = None, etag: str | None = None,
                headers: dict[str, str] | None = None, json_body: Any = None, allow_redirects: bool = True,
                authenticated: bool = True, accept_status: tuple[int, ...] = ()) -> requests.Response:
        """One logical request: transport retries and rate-limit waits included; an error status raises
        `HttpError` unless listed in `accept_status`. A 304 (for `etag`) is returned, never raised."""
        url = self.url_for(path_or_url) if authenticated else path_or_url
        sent = dict(headers or {})
        if etag:
            sent["If-None-Match"] = etag
        for attempt in range(12):
            response = self._send_once(method, url, params, sent, allow_redirects, json_body, authenticated)
            remaining = response.headers.get("X-RateLimit-Remaining")
            if remaining is not None and str(remaining).isdigit():
                self.rate_remaining = int(remaining)
            wait = self._limit_wait(response, attempt)
            if wait is None:
                break
            self._wait_or_stop(wait, url, response)
        else:
            raise HttpError(f"{self.service} {self.describe(url)}: still rate limited after 12 waits; "
                            "rerun later to resume", response.status_code)
        self.requested.append(self._relative(response.request.url if response.request else url))
        if self.recorder is not None and not self.replaying:
            self.recorder.add(method, self._relative(response.request.url or url), sent, response, json_body)
        if response.status_code == 304:
            self.not_modified += 1
            return response
        if response.status_code >= 400 and response.status_code not in accept_status:
            raise HttpError(self._describe_error(url, response), response.status_code)
        return response

    def _relative(self, url: str) -> str:
        base = self._transport_base()
        return url[len(base):] if url.startswith(base + "/") else url

    def _limit_wait(self, response: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before asking again, or None when the answer is not a rate limit."""
        status, headers = response.status_code, response.headers
        if status not in (403, 429):
            return None
        # GitHub and Jira say X-RateLimit-*, GitLab RateLimit-* (epoch seconds).
        remaining = str(headers.get("X-RateLimit-Remaining", headers.get("RateLimit-Remaining", ""))).strip()
        retry_after = headers.get("Retry-After")
        if retry_after:  # a secondary limit or Jira's 429: as told
            seconds = _retry_after_seconds(retry_after)
            if seconds is not None:
                return seconds
        reset = headers.get("X-RateLimit-Reset") or headers.get("RateLimit-Reset")
        if reset and (remaining == "0" or (status == 429 and not remaining)):
            when = epoch_or_iso(reset)
            if when is not None:
                epoch = re.fullmatch(r"\s*\d+\s*", reset) is not None  # whole seconds: wait past the boundary
                return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds()) + (1.0 if epoch else 0.0)
        if remaining == "0":
            return self.max_wait + 1  # used up, reset unknown: stop with the cursor saved
        if _SECONDARY.search(response.text[:2000] if response.content else ""):
            return self.secondary_wait
        if status == 429:
            return float(min(60, 2 ** attempt))
        return None

    def _wait_or_stop(self, seconds: float, url: str, response: requests.Response) -> None:
        if seconds > self.max_wait:
            resume = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
            raise RateLimitStop(
                f"{self.service} {self.describe(url)}: rate limited for {seconds:.0f} s (resets at {resume:%H:%M:%S} "
                f"UTC), more than --max-wait {self.max_wait:.0f} s; stopped with the cursor saved, rerun after the "
                "reset to resume", response.status_code)
        self._waiter(seconds, "rate limit", f" for the reset (HTTP {response.status_code})")

    def _describe_error(self, url: str, response: requests.Response) -> str:
        status = response.status_code
        message = _server_message(response)
        hint = self.hints.get(status, "")
        if self.replaying and status == 404:
            hint = "record the source again with `python -m collectors collect --record DIR`"
        text = f"{self.service} {self.describe(url)}: HTTP {status}"
        text += f": {message}" if message else ""
        text += f" — {hint}" if hint else ""
        if status >= 500:
            text += " — still failing after retries; rerun to resume"
        return self.redact(text)

    # --- JSON -------------------------------------------------------------------------------------------------
    def json(self, response: requests.Response) -> Any:
        """The JSON body, or one line saying what came instead (an HTML sign-in or proxy page, other text)."""
        content = response.content or b""
        try:
            return json.loads(content.decode("utf-8-sig")) if content.strip() else None
        except (ValueError, UnicodeDecodeError):
            pass
        where = f"{self.service} {self.describe(response.url or '')}"
        kind = response.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
        if _HTML.search(content[:500]) or kind == "text/html":
            title = _TITLE.search(content[:5000])
            named = f" titled {title.group(1).decode('utf-8', 'replace').strip()[:80]!r}" if title else ""
            raise CollectError(self.redact(
                f"{where}: expected JSON, got an HTML page{named} (HTTP {response.status_code}): a proxy or "
                "single-sign-on page? check base_url and the network"))
        sample = content[:60].decode("utf-8", "replace")
        raise CollectError(self.redact(f"{where}: expected JSON, got {kind} starting {sample!r} "
                                       f"(HTTP {response.status_code})"))

    def get(self, path: str, params: dict | None = None, *, etag: str | None = None,
            accept_status: tuple[int, ...] = ()) -> requests.Response:
        return self.request("GET", path, params=params, etag=etag, accept_status=accept_status)

    def get_json(self, path: str, params: dict | None = None) -> Any:
        return self.json(self.get(path, params))

    # --- paging -----------------------------------------------------------------------------------------------
    def iter_link_pages(self, path: str, params: dict | None = None, *,
                        etag: str | None = None) -> Iterator[requests.Response | None]:
        """Each page of a list, following `Link: rel="next"`; the first is None when `etag` still matches (304)."""
        response = self.get(path, params, etag=etag)
        if response.status_code == 304:
            yield None
            return
        yield response
        while next_url := next_link(response):
            response = self.get(next_url)
            yield response

    def iter_token_pages(self, path: str, params: dict, *, token_param: str = "nextPageToken",
                         token_key: str = "nextPageToken", last_key: str = "isLast") -> Iterator[Any]:
        """Each JSON page of a list paged by a body token (Jira Cloud's `nextPageToken` until `isLast`)."""
        params = dict(params)
        while True:
            doc = self.get_json(path, params)
            yield doc
            token = doc.get(token_key) if isinstance(doc, dict) else None
            if not token or (isinstance(doc, dict) and doc.get(last_key) is True):
                return
            params[token_param] = token

    def download(self, path: str) -> bytes:
        """A binary download that answers a redirect to a signed URL (GitHub artifacts): the redirect target
        is fetched without our credentials (its signature is the credential). Both requests are counted."""
        response = self.request("GET", path, allow_redirects=False)
        location = response.headers.get("Location")
        if response.status_code in (301, 302, 303, 307, 308) and location:
            target = self.request("GET", location, authenticated=False)
            return target.content
        if response.status_code < 300:
            return response.content
        raise HttpError(f"{self.service} {self.describe(self.url_for(path))}: expected a redirect to the download, "
                        f"got HTTP {response.status_code}", response.status_code)


def next_link(response: requests.Response) -> str | None:
    return (response.links.get("next") or {}).get("url")


def _retry_after_seconds(value: str) -> float | None:
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _server_message(response: requests.Response) -> str:
    """The server's own explanation: GitHub `message`, Jira `errorMessages`/`errors`, else the text's start."""
    try:
        doc = json.loads(response.content or b"null")
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        parts = []
        if isinstance(doc.get("message"), str):
            parts.append(doc["message"])
        if isinstance(doc.get("errorMessages"), list):
            parts += [str(m) for m in doc["errorMessages"]]
        if isinstance(doc.get("errors"), dict):
            parts += [f"{k}: {v}" for k, v in doc["errors"].items()]
        if parts:
            return "; ".join(parts)[:300]
    text = (response.text or "").strip()
    if _HTML.search((response.content or b"")[:500]):
        title = _TITLE.search((response.content or b"")[:5000])
        named = f" titled {title.group(1).decode('utf-8', 'replace').strip()[:80]!r}" if title else ""
        return f"an HTML page{named}"
    return " ".join(text.split())[:300]
