"""The one kind of error a user sees as a line of text (never a traceback).

Every layer raises a subclass (`ConfigError`, `db.engine.DatabaseError`, `collectors.runs.CollectError`);
`engagement.cli.run_command` prints it and exits non-zero. Defined here, in the base layer, so that
the command-line helpers need not import the layers above.
"""

from __future__ import annotations

from engagement.redact import redact


class UserError(Exception):
    """A problem the user can fix; its message is one line per problem, naming the input.

    The message is redacted when the error is made (engagement.redact): wherever it is printed, stored or
    shown later, it carries no password, token or Authorization value."""

    exit_code = 2

    def __init__(self, *args):
        super().__init__(*(redact(a) if isinstance(a, str) else a for a in args))

    @property
    def lines(self) -> list[str]:
        return str(self).splitlines() or [type(self).__name__]
