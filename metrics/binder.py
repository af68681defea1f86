"""The handover binder (SPEC §11 `artifact_completeness`): which artifacts the client holds at each week's end.

Input: the week-end commit of each (git source, week) and the files of its tree matching a binder glob, each with
the commits that last changed it, newest first (collectors/git/week_ends.py); the attributed commits (SPEC §3).

Per (week, artifact of `cfg.binder`):
- **present**: a file matching one of its `paths` exists in a week-end tree (any git source);
- **fresh**: one such file's newest change (author date) is at most `max_age_weeks` × 7 days before the week's end
  (local midnight ending the week, engagement timezone);
- **owned**: its last change by a person was by an internal author: over its files, the newest change whose
  author is not a bot (bots are excluded from every share, SPEC §3: a dependabot bump keeps a lock file fresh
  but does not make it the client's; a file only bots ever changed keeps the bot as owner, which is not
  internal). Its side is that author's side on the change's local author date.
Attribution happens here, at metric time: editing the roster re-attributes the binder too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pathspec

from engagement.binder import Artifact
from engagement.config import EngagementConfig

ARTIFACT_COLUMNS = ["week", "artifact", "title", "capability", "max_age_weeks", "paths", "present", "fresh", "owned",
                    "files", "latest_path", "latest_sha", "latest_at", "latest_person", "latest_side", "owner_path",
                    "owner_sha", "owner_at", "owner_person", "owner_side", "owner_repo", "age_days", "missing", "repo"]
FILE_COLUMNS = ["week", "artifact", "source_id", "repo", "path", "sha", "at", "person", "side", "owner_sha",
                "owner_at", "owner_person", "owner_side", "changes"]


@dataclass(frozen=True)
class Binder:
    artifacts: pd.DataFrame  # one row per (week, artifact): ARTIFACT_COLUMNS
    files: pd.DataFrame  # one row per (week, artifact, source, path) matching it: FILE_COLUMNS

    @property
    def empty(self) -> bool:
        return self.artifacts.empty


def week_end(week: int, cfg: EngagementConfig) -> pd.Timestamp:
    """The instant week `week` ends (local midnight starting week + 1), in UTC."""
    local = dt.datetime.combine(cfg.engagement.start + dt.timedelta(days=7 * week), dt.time(0),
                                tzinfo=ZoneInfo(cfg.engagement.timezone))
    return pd.Timestamp(local).tz_convert("UTC")


def _matches(artifacts: list[Artifact], paths: pd.Series) -> pd.DataFrame:
    """(path, artifact) pairs: which distinct path matches which artifact's globs."""
    distinct = pd.Series(paths.unique(), dtype=object)
    pairs = []
    for a in artifacts:
        spec = pathspec.GitIgnoreSpec.from_lines(a.paths)
        hit = distinct[distinct.map(spec.match_file).astype(bool)]
        pairs.append(pd.DataFrame({"path": hit.to_numpy(), "artifact": a.key}))
    return pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame(columns=["path", "artifact"])


def _changes(files: pd.DataFrame, commits: pd.DataFrame) -> pd.DataFrame:
    """One row per (source, week, path, rank) stored change, with the commit's author date, person and side."""
    shas = files["changes"].fillna("").str.split()
    long = files[["source_id", "week", "path"]].assign(sha=shas).explode("sha").dropna(subset=["sha"])
    long = long[long["sha"] != ""]
    long["rank"] = long.groupby(["source_id", "week", "path"]).cumcount()
    authors = commits[["source_id", "sha", "at", "person", "name", "side"]].drop_duplicates(["source_id", "sha"])
    long = long.merge(authors, on=["source_id", "sha"], how="left")
    long["at"] = pd.to_datetime(long["at"], utc=True)
    long["person"] = long["person"].fillna(long["name"])
    long["side"] = long["side"].fillna("unattributed")  # a commit no longer on the branch (force-push)
    return long.drop(columns="name")


def binder(cfg: EngagementConfig, week_ends: pd.DataFrame, artifact_files: pd.DataFrame, commits: pd.DataFrame,
           weeks: list[int]) -> Binder:
    """The binder per week (see the module docstring); empty when no week end was collected."""
    if week_ends is None or week_ends.empty:
        return Binder(pd.DataFrame(columns=ARTIFACT_COLUMNS), pd.DataFrame(columns=FILE_COLUMNS))
    artifacts = cfg.binder
    collected = sorted({int(w) for w in week_ends["week"]} & {int(w) for w in weeks})
    files = artifact_files if artifact_files is not None and len(artifact_files) else pd.DataFrame(
        columns=["source_id", "week", "path", "changes"])
    files = files[files["week"].isin(collected)]
    repos = week_ends.drop_duplicates("source_id").set_index("source_id")["repo"]

    # per file: its newest change, and its newest change by a person (the owner)
    changes = _changes(files, commits)
    newest = changes[changes["rank"] == 0].set_index(["source_id", "week", "path"])
    person = changes[changes["side"] != "bot"].sort_values("rank").drop_duplicates(["source_id", "week", "path"])
    person = person.set_index(["source_id", "week", "path"])
    per_file = files[["source_id", "week", "path", "changes"]].set_index(["source_id", "week", "path"])
    per_file = per_file.join(newest[["sha", "at", "person", "side"]])
    owner = person[["sha", "at", "person", "side"]].add_prefix("owner_")
    per_file = per_file.join(owner)
    by_person = per_file["owner_sha"].notna()
    for col in ("sha", "at", "person", "side"):  # only bots changed it: the newest change owns it
        per_file[f"owner_{col}"] = per_file[f"owner_{col}"].where(by_person, per_file[col])
    per_file = per_file.reset_index()
    per_file["repo"] = per_file["source_id"].map(repos)
    pairs = _matches(artifacts, per_file["path"]) if len(per_file) else pd.DataFrame(columns=["path", "artifact"])
    matched = per_file.merge(pairs, on="path")[FILE_COLUMNS] if len(per_file) else pd.DataFrame(columns=FILE_COLUMNS)
    matched = matched.sort_values(["week", "artifact", "repo", "path"]).reset_index(drop=True)

    grid = pd.DataFrame([(w, a.key, a.label, a.capability, a.max_age_weeks, ", ".join(a.paths))
                         for w in collected for a in artifacts],
                        columns=["week", "artifact", "title", "capability", "max_age_weeks", "paths"])
    latest = (matched.sort_values(["at", "path"], na_position="first").drop_duplicates(["week", "artifact"],
                                                                                      keep="last")
              .set_index(["week", "artifact"]))
    owners = (matched.sort_values(["owner_at", "path"], na_position="first")
              .drop_duplicates(["week", "artifact"], keep="last").set_index(["week", "artifact"]))
    count = matched.groupby(["week", "artifact"]).size().rename("files")
    out = grid.set_index(["week", "artifact"]).join(count)
    out = out.join(latest[["path", "sha", "at", "person", "side", "repo"]].rename(
        columns={"path": "latest_path", "sha": "latest_sha", "at": "latest_at", "person": "latest_person",
                 "side": "latest_side"}))
    out = out.join(owners[["path", "repo", "owner_sha", "owner_at", "owner_person", "owner_side"]].rename(
        columns={"path": "owner_path", "repo": "owner_repo"}))
    out = out.reset_index()
    out["files"] = out["files"].fillna(0).astype("int64")
    ends = out["week"].map(lambda w: week_end(int(w), cfg))
    out["latest_at"] = pd.to_datetime(out["latest_at"], utc=True)
    age = (pd.to_datetime(ends, utc=True) - out["latest_at"]) / pd.Timedelta(days=1)
    out["age_days"] = age.astype("float64")
    out["present"] = out["files"] > 0
    out["fresh"] = out["present"] & (out["age_days"] <= out["max_age_weeks"] * 7).fillna(False).astype(bool)
    out["owned"] = out["present"] & out["owner_side"].eq("internal")
    out["missing"] = _missing_text(out)
    return Binder(out[ARTIFACT_COLUMNS], matched)


def _missing_text(rows: pd.DataFrame) -> pd.Series:
    """What a consultant reads beside a ✗: no file / stale since / last changed by whom."""
    text = np.full(len(rows), "", dtype=object)
    absent = ~rows["present"].to_numpy(dtype=bool)
    text[absent] = "no file matches " + rows.loc[absent, "paths"].astype(str)
    stale = rows["present"].to_numpy(dtype=bool) & ~rows["fresh"].to_numpy(dtype=bool)
    if stale.any():
        weeks = (rows.loc[stale, "age_days"] / 7).map(lambda w: f"{w:.1f}")
        text[stale] = ("stale: last changed " + weeks + " weeks before the week's end (max "
                       + rows.loc[stale, "max_age_weeks"].astype(str) + ")")
    unowned = rows["present"].to_numpy(dtype=bool) & ~rows["owned"].to_numpy(dtype=bool)
    if unowned.any():
        who = ("last changed by " + rows.loc[unowned, "owner_person"].fillna("an unknown author").astype(str)
               + " (" + rows.loc[unowned, "owner_side"].fillna("unattributed").astype(str) + ")")
        text[unowned] = [f"{t}; {w}" if t else w for t, w in zip(text[unowned], who, strict=True)]
    return pd.Series(text, index=rows.index, dtype=object)


CHECKLIST_COLUMNS = ["artifact", "capability", "present", "fresh", "owned", "files", "last change", "owner",
                     "what is missing", "key"]


def _mark(flag: bool) -> str:
    return "✓" if flag else "✗"


def checklist(b: Binder, week: int) -> pd.DataFrame:
    """The binder of `week` as a consultant walks it in a review: one row per artifact (in binder order) with ✓/✗
    for present, fresh and owned, the files, the last change (date and who), the owner (the last person who
    changed it, with their side) and, for a ✗, what is missing. Empty when the week has no week-end commit."""
    rows = b.artifacts[b.artifacts["week"] == week]
    if rows.empty:
        return pd.DataFrame(columns=CHECKLIST_COLUMNS)
    when = pd.to_datetime(rows["latest_at"], utc=True).dt.strftime("%Y-%m-%d")
    last = (when + " by " + rows["latest_person"].fillna("an unknown author").astype(str)).where(rows["present"], "–")
    owner = (rows["owner_person"].fillna("an unknown author").astype(str) + " ("
             + rows["owner_side"].fillna("unattributed").astype(str) + ")").where(rows["present"], "–")
    return pd.DataFrame({
        "artifact": rows["title"].to_numpy(), "capability": rows["capability"].fillna("—").to_numpy(),
        "present": rows["present"].map(_mark).to_numpy(), "fresh": rows["fresh"].map(_mark).to_numpy(),
        "owned": rows["owned"].map(_mark).to_numpy(), "files": rows["files"].to_numpy(),
        "last change": last.to_numpy(), "owner": owner.to_numpy(),
        "what is missing": rows["missing"].replace("", "—").to_numpy(), "key": rows["artifact"].to_numpy(),
    }, columns=CHECKLIST_COLUMNS)


def capability_summary(b: Binder, week: int) -> pd.DataFrame:
    """Per capability (and "—" for artifacts tied to none): artifacts, present, fresh, owned in `week`."""
    rows = b.artifacts[b.artifacts["week"] == week]
    if rows.empty:
        return pd.DataFrame(columns=["capability", "artifacts", "present", "fresh", "owned"])
    g = rows.assign(capability=rows["capability"].fillna("—")).groupby("capability", sort=False)
    return pd.DataFrame({"artifacts": g.size(), "present": g["present"].sum(), "fresh": g["fresh"].sum(),
                         "owned": g["owned"].sum()}).reset_index()
