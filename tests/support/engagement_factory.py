"""A tiny, hand-countable engagement for milestone, acceptance and review tests (no git, no DB).

Start Monday 2026-09-07, UTC, 4 weeks; Ann is internal (client.com), Vic is vendor (acme.com).
Non-merge commits per week (capability from the path: data/** or train/**):

week | data (internal, vendor) | training (internal, vendor) | all internal
  1  | 0, 2                    | 0, 1                        | 0
  2  | 1, 1                    | 0, 1                        | 1
  3  | 2, 0                    | 1, 1                        | 3
  4  | 1, 0                    | -                           | 1
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from metrics.engagement import SourceData, compute
from metrics.engagement_file import parse_engagement

START = dt.date(2026, 9, 7)
TODAY = dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC)  # week 4
ANN = ("Ann Client", "ann@client.com")
VIC = ("Vic Vendor", "vic@acme.com")

# (week, author, path)
COMMITS = [
    (1, VIC, "data/a.py"), (1, VIC, "data/b.py"), (1, VIC, "train/a.py"),
    (2, ANN, "data/c.py"), (2, VIC, "data/d.py"), (2, VIC, "train/b.py"),
    (3, ANN, "data/e.py"), (3, ANN, "data/f.py"), (3, ANN, "train/c.py"), (3, VIC, "train/d.py"),
    (4, ANN, "data/g.py"),
]


def config(milestones: list[dict] | None = None, **extra):
    return parse_engagement({
        "engagement": {"name": "Tiny", "start": START, "weeks": 4, "timezone": "UTC"},
        "classify": {"internal_email_domains": ["client.com"], "vendor_email_domains": ["acme.com"]},
        "capabilities": [{"key": "data", "paths": ["data/**"]}, {"key": "training", "paths": ["train/**"]}],
        "milestones": milestones or [],
        **extra,
    })


def source_data(commits=COMMITS, renames: dict[str, tuple[str, str]] | None = None) -> SourceData:
    """Commits on Tuesdays 10:00 UTC of their week; `renames` maps a path's commit to another author."""
    rows, files = [], []
    for i, (week, (name, email), path) in enumerate(commits):
        name, email = (renames or {}).get(path, (name, email))
        at = pd.Timestamp(START + dt.timedelta(days=7 * (week - 1) + 1), tz="UTC") + pd.Timedelta(hours=10, minutes=i)
        sha = f"{i:02d}" + "ab" * 19
        rows.append({"source_id": 1, "repo": "model", "sha": sha, "parents": "", "is_merge": False, "name": name,
                     "email": email, "at": at, "author_tz_minutes": 0, "committer_name": name,
                     "committer_email": email, "committed_at": at, "subject": f"change {path}", "co_authors": "",
                     "files_changed": 1, "lines_added": 1, "lines_deleted": 0})
        files.append({"source_id": 1, "sha": sha, "path": path, "old_path": None, "added": 1, "deleted": 0,
                      "binary": False})
    return SourceData(pd.DataFrame(rows), pd.DataFrame(files))


def sha_of(path: str, commits=COMMITS) -> str:
    i = next(i for i, c in enumerate(commits) if c[2] == path)
    return f"{i:02d}" + "ab" * 19


def metrics(milestones: list[dict] | None = None, accepted=(), data: SourceData | None = None, **extra):
    return compute(config(milestones, **extra), data or source_data(), accepted_milestones=accepted, today=TODAY)
