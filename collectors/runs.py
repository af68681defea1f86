"""What every collector shares besides the driver: the one-line error and the redaction of secrets.

The run log, cursors and locks live in db/runs.py; the bookkeeping around a run in collectors/driver.py.
"""

from __future__ import annotations

import datetime as dt
import re

from engagement.errors import UserError


class CollectError(UserError):
    """A collection that cannot proceed; the message is one clear line for the user."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


_SECRET_PATTERNS = [
    re.compile(r"(?i)(authorization:\s*)(\S+\s+)?\S+"),
    re.compile(r"(?i)((?:token|password|secret|api[_-]?key)[=:]\s*)\S+"),
    re.compile(r"(https?://)[^/\s:@]+:[^/\s@]+@"),
]


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Remove known secret values and credential-looking fragments from error text."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "***", text)
    return text
