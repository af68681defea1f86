"""What every collector shares besides the driver: the one-line error and the redaction of secrets.

The run log, cursors and locks live in db/runs.py; the bookkeeping around a run in collectors/driver.py.
"""

from __future__ import annotations

import datetime as dt

from engagement.errors import UserError
from engagement.redact import redact as _redact


class CollectError(UserError):
    """A collection that cannot proceed; the message is one clear line for the user."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# The one redaction function (URLs, Authorization/Basic/Bearer and their base64, known and registered secrets)
# lives in the base layer so db, metrics and pages use the same; collectors import it from here as before.
redact = _redact
