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
FILE_COLUMNS = ["week", "source_id", "repo", "sha", "path", "blamed_at"]
BLAME_COLUMNS = ["source_id", "blamed_at", "path", "commit", "name", "email", "at", "lines", "person", "side", "rule"]
FILE_KEY = ["source_id", "blamed_at", "path"]


def week_files(cfg: EngagementConfig, files: pd.DataFrame | None, now_week: int) -> pd.DataFrame:
    """One row per (week, source, path) of the tree at each week's end (weeks 0 … now), with the commit holding the
    file's blame (`blamed_at`)."""
    if files is None or files.empty:
        return pd.DataFrame(columns=FILE_COLUMNS)
    e = cfg.engagement
    ends = pd.DataFrame({"week": range(0, max(now_week, 0) + 1)})
    ends["ends_at"] = pd.to_datetime([week_end(w, e.start, e.timezone) for w in ends["week"]], utc=True)
    rows = files.assign(ends_at=pd.to_datetime(files["ends_at"], utc=True)).merge(ends, on="ends_at")
    return rows[FILE_COLUMNS].reset_index(drop=True)


def attributed_blame(cfg: EngagementConfig, blame: pd.DataFrame | None, files: pd.DataFrame) -> pd.DataFrame:
    """The stored blame rows that `files` use, each with its commit's author attributed (person, side, rule)."""
    if blame is None or blame.empty or files.empty:
        return pd.DataFrame(columns=BLAME_COLUMNS)
    used = blame.merge(files[FILE_KEY].drop_duplicates(), on=FILE_KEY)
    if used.empty:
        return pd.DataFrame(columns=BLAME_COLUMNS)
    authors = used[["commit", "name", "email", "at"]].drop_duplicates("commit").reset_index(drop=True)
    authors = attribute(authors, cfg)[["commit", "person", "side", "rule"]]
    used = used.merge(authors, on="commit", how="left")
    used["lines"] = used["lines"].astype("int64")
    return used[BLAME_COLUMNS].reset_index(drop=True)


def lines_of_files(files: pd.DataFrame, blame: pd.DataFrame) -> pd.DataFrame:
    """One row per (week, source, path, blamed commit) of `files` (some weeks' trees): its lines at the week's end,
    with author, person and side. Expand only the weeks needed: all weeks at once is many times the stored rows."""
    if files.empty or blame.empty:
        return pd.DataFrame(columns=LINE_COLUMNS)
    rows = files.merge(blame, on=FILE_KEY)
    return rows[LINE_COLUMNS].sort_values(["week", "repo", "path", "commit"]).reset_index(drop=True)


def file_side_lines(files: pd.DataFrame, blame: pd.DataFrame) -> pd.DataFrame:
    """Per (week, source, path, side): the file's surviving lines by side at the week's end (the KPI's sums, without
    one row per blamed commit and week)."""
    if files.empty or blame.empty:
        return pd.DataFrame(columns=["week", "source_id", "path", "side", "lines"])
    per_file = blame.groupby([*FILE_KEY, "side"], as_index=False)["lines"].sum()
    return files[["week", *FILE_KEY]].merge(per_file, on=FILE_KEY)


def path_capability_pairs(files: pd.DataFrame, cfg: EngagementConfig) -> pd.DataFrame:
    """(path, capability) for every path of the trees that a capability's `paths` match (matched once)."""
    if files.empty:
        return pd.DataFrame(columns=["path", "capability"])
    return path_capabilities(files["path"], cfg.capabilities)
