"""Where Baton keeps files it can always recompute: validated-config markers and computed metrics.

Standard library only: the collectors' no-change fast path (collectors/fastpath.py) reads it before
anything heavy is imported. `$BATON_CACHE_DIR`, else `.baton-cache/` beside the engagement file (like the
default database). Deleting the folder is always safe: everything in it is rebuilt on demand.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_ENV = "BATON_CACHE_DIR"


def cache_dir(config_file: str | Path | None) -> Path:
    """The cache folder for an engagement file (not created here)."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    folder = Path(config_file).expanduser().resolve().parent if config_file else Path.cwd()
    return folder / ".baton-cache"


COMPUTED = "metrics"  # computed metrics (metrics/cache.py) under the cache folder
OUTPUTS = "outputs"  # printed outputs of `python -m metrics` commands (metrics/outputcache.py)


def forget_computed(config_file: str | Path | None) -> None:
    """Delete the computed metrics and command outputs cached for an engagement file (a purge or [retention]
    changed stored rows: nothing computed before may be served again, nor stay on disk with what was removed)."""
    import shutil

    for name in (COMPUTED, OUTPUTS):
        shutil.rmtree(cache_dir(config_file) / name, ignore_errors=True)
