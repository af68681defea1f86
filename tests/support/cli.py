"""Run a command line's main() in this process, as `python -m <package> ...` would run it, with what it printed.

A `python -m metrics ...` subprocess spends seconds importing pandas, SQLAlchemy and the project before it does
anything; the tests of what a command prints and returns call the same main() here instead. The `python -m`
entry itself (`sys.exit(main())`) stays covered by the tests that keep a subprocess (tests/metrics/test_cli.py
test_kpis_lists_the_registry, tests/collectors/test_demo_selfcontained.py)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from collections.abc import Callable


def run_main(main: Callable[[list[str]], int], *args: str, env: dict[str, str] | None = None,
             check: bool = False) -> subprocess.CompletedProcess:
    """main(args) with stdout and stderr captured (and `env` set meanwhile), as a CompletedProcess; argparse's
    SystemExit (exit code 2 and its usage message on stderr) becomes the return code, as for the process."""
    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in env or {}}
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    done = subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())
    if check:
        done.check_returncode()
    return done


def metrics_cli(*args: str, env: dict[str, str] | None = None, check: bool = False) -> subprocess.CompletedProcess:
    """`python -m metrics *args`, in this process."""
    from metrics.__main__ import main

    return run_main(main, *args, env=env, check=check)
