"""Surviving lines (SPEC §10 `internal_line_share`): whose lines the tracked branch is made of at each week's end.

The collector (collectors/git/blame.py) stores, for the branch at each week's end (the newest first-parent commit
committed before the week's last local instant), every text file's `git blame` summed per blamed commit with that
commit's recorded author and author date. Here, at metric time (SPEC §3), each blamed commit's author is attributed
on the commit's local author date (engagement timezone): a roster person's affiliation in force that day, else the
email domain, bots by pattern, else unattributed. A vendor engineer hired by the client keeps the lines he wrote
while at the vendor on the vendor side. Weeks 0 … the current week only.
"""

from __future__ import annotations

import pandas as pd

from engagement.config import EngagementConfig
from engagement.weeks import week_end
from metrics.capabilities import path_capabilities
from metrics.identity import attribute

LINE_COLUMNS = ["week", "source_id", "repo", "sha", "path", "commit", "name", "email", "at", "lines", "person",
                "side", "rule"]


def surviving_lines(cfg: EngagementConfig, blamed: pd.DataFrame | None, now_week: int) -> pd.DataFrame:
    """One row per (week, source, path, blamed commit): its lines at the week's end, with author, person, side."""
    if blamed is None or blamed.empty:
        return pd.DataFrame(columns=LINE_COLUMNS)
    e = cfg.engagement
    ends = pd.DataFrame({"week": range(0, max(now_week, 0) + 1)})
    ends["ends_at"] = pd.to_datetime([week_end(w, e.start, e.timezone) for w in ends["week"]], utc=True)
    rows = blamed.assign(ends_at=pd.to_datetime(blamed["ends_at"], utc=True)).merge(ends, on="ends_at")
    if rows.empty:
        return pd.DataFrame(columns=LINE_COLUMNS)
    authors = rows[["commit", "name", "email", "at"]].drop_duplicates("commit").reset_index(drop=True)
    authors = attribute(authors, cfg)[["commit", "person", "side", "rule"]]
    rows = rows.merge(authors, on="commit", how="left")
    rows["lines"] = rows["lines"].astype("int64")
    return rows[LINE_COLUMNS].sort_values(["week", "repo", "path", "commit"]).reset_index(drop=True)


def line_capabilities(lines: pd.DataFrame, cfg: EngagementConfig) -> pd.DataFrame:
    """`lines` once per capability whose `paths` match the file (a file may belong to several)."""
    if lines.empty:
        return lines.assign(capability=pd.Series(dtype=object))
    return lines.merge(path_capabilities(lines["path"], cfg.capabilities), on="path")
