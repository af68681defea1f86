"""Secrets out of every text that leaves the process, and CSV cells that cannot run as formulas (SPEC §8, §9).

One function, `redact(text, secrets=())`, used by every message, log line, stored error and page:
- URLs: user-info (`scheme://user:password@host` -> `scheme://***@host`) and the values of query
  parameters that carry credentials (`password`, `passwd`, `pwd`, `token`, `access_token`, `key`, `api_key`,
  `apikey`, `secret`, `client_secret`, `signature`, `sig`, `auth`, `credentials`; any case, any URL scheme,
  e.g. `postgresql://h/db?password=x` -> `?password=***`);
- `Authorization:` header values, wherever written (`Authorization: Basic …`, JSON `"authorization": "…"`),
  and any `Basic <base64>` / `Bearer <token>` / `token <token>` pair;
- `key=value` / `key: value` pairs whose key names a credential (`token=`, `"password": "…"`);
- the exact values of known secrets: those passed in, and those registered by whoever read them from the
  environment (`register_secret`), with their base64 forms, and the base64 of `user:secret` (HTTP Basic).

`redact_url(url)` is the display form of a URL (DB URLs included) with credentials replaced.

CSV: `csv_cell(value)` neutralises a cell that a spreadsheet would run as a formula (OWASP "CSV injection":
a text starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`); `csv_frame(frame)` does
it to every text cell of a DataFrame (numbers stay numbers: a negative value is not a formula).
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable
from urllib.parse import urlsplit

MASK = "***"
CREDENTIAL_KEYS = ("password", "passwd", "pwd", "token", "access_token", "refresh_token", "id_token", "key",
                   "api_key", "apikey", "api-key", "secret", "client_secret", "signature", "sig", "auth",
                   "credentials", "private_token", "sslpassword")
# In `key=value` prose only unambiguous names: "key: …" or "auth: …" are often ordinary text (a config key).
PAIR_KEYS = tuple(k for k in CREDENTIAL_KEYS if k not in ("key", "sig", "auth", "signature"))
_KEYS = "|".join(re.escape(k) for k in sorted(CREDENTIAL_KEYS, key=len, reverse=True))
_PAIR_KEYS = "|".join(re.escape(k) for k in sorted(PAIR_KEYS, key=len, reverse=True))

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # scheme://user:password@host (the user name stays) and http(s)://token@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@?#'\"<>]*):[^/\s@'\"<>]+@"), r"\1:" + MASK + "@"),
    (re.compile(r"(?i)\b(https?://|ftps?://)[^/\s:@?#'\"<>]+@"), r"\1" + MASK + "@"),
    # query parameters (and form bodies): ?password=x&token=y
    (re.compile(rf"(?i)([?&;](?:{_KEYS})=)[^&#\s'\"<>]*"), r"\1" + MASK),
    # Authorization header values in any notation: `Authorization: Basic x`, "authorization": "Bearer x"
    (re.compile(r"""(?i)(\bauthorization["']?\s*[:=]\s*["']?)(?:(?:basic|bearer|token|digest)\s+)?[^\s"',}]+"""),
     r"\1" + MASK),
    # Basic / Bearer credentials anywhere else
    (re.compile(r"(?i)\b(basic|bearer)(\s+)[A-Za-z0-9+/=._~\-]{6,}"), r"\1\2" + MASK),
    # key=value / "key": "value" pairs naming a credential
    (re.compile(rf"""(?i)(\b(?:{_PAIR_KEYS})["']?\s*[:=]\s*["']?)(?!\*\*\*)[^\s"'&,;}}]+"""), r"\1" + MASK),
]

_registered: set[str] = set()
_lock = threading.Lock()


def _b64_forms(value: str) -> set[str]:
    raw = value.encode("utf-8")
    forms = {base64.b64encode(raw).decode("ascii"), base64.urlsafe_b64encode(raw).decode("ascii")}
    return forms | {f.rstrip("=") for f in forms if len(f.rstrip("=")) >= 8}


def secret_forms(secret: str, user: str | None = None) -> set[str]:
    """A secret as it may appear in text: itself, its base64, and the base64 of `user:secret` (HTTP Basic)."""
    if not secret or len(secret) < 4:  # too short to redact without mangling ordinary text
        return set()
    forms = {secret} | _b64_forms(secret)
    if user:
        forms |= _b64_forms(f"{user}:{secret}")
    return forms


def register_secret(secret: str | None, user: str | None = None) -> None:
    """Remember a secret read from the environment so every later `redact` removes it (and its base64)."""
    if secret:
        with _lock:
            _registered.update(secret_forms(secret, user))


def redact(text: object, secrets: Iterable[str | None] = ()) -> str:
    """The text with credentials and known secret values replaced by `***` (see the module docstring)."""
    out = "" if text is None else str(text)
    if not out:
        return out
    known = set(_registered)
    given = [s for s in secrets if s]
    for secret in given:
        known |= secret_forms(secret)
        for user in given:  # HTTP Basic of any two given values (email + token)
            if user != secret:
                known |= _b64_forms(f"{user}:{secret}") if len(secret) >= 4 else set()
    for value in sorted(known, key=len, reverse=True):  # longest first: a base64 form before its prefix
        out = out.replace(value, MASK)
    for pattern, replacement in _PATTERNS:
        out = pattern.sub(replacement, out)
    return out


def redact_url(url: str) -> str:
    """A URL for display: the password (or, for http(s), a bare token as user-info) and credential query
    parameters replaced by `***`; a database user name stays readable (`postgresql://baton:***@db/x`)."""
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        if ":" in user:
            netloc = f"{user.split(':', 1)[0]}:{MASK}@{host}"
        elif parts.scheme.lower() in ("http", "https", "ftp", "ftps"):
            netloc = f"{MASK}@{host}"
    rest = parts._replace(scheme="", netloc="").geturl()  # path?query#fragment
    head = f"{parts.scheme}:" + (f"//{netloc}" if netloc or str(url).startswith(f"{parts.scheme}://") else "")
    return head + redact(rest)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A CSV cell that no spreadsheet runs as a formula: texts starting with = + - @ tab or CR get a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_frame(frame):
    """A copy of a DataFrame with every text cell passed through `csv_cell` (column names too)."""
    out = frame.copy()
    for col in out.columns:
        if getattr(out[col].dtype, "kind", "O") not in "biufcmM":  # text of any dtype (object, str, string)
            out[col] = out[col].map(csv_cell)
    out.columns = [csv_cell(c) for c in out.columns]
    return out


def csv_record(record: dict) -> dict:
    """A dict row (csv.DictWriter) with its text cells neutralised."""
    return {k: csv_cell(v) for k, v in record.items()}
