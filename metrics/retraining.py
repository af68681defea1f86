"""Retraining KPIs (SPEC §5) from CI runs and tags: internal_train_share and time_to_retrain.

Runs are attributed to their `triggering_actor` (who started this attempt), never to `actor` (who
started the first attempt, or who last edited the cron of a scheduled run). Each stored attempt is
one run event; a run belongs to the week of its `created_at`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engagement.config import EngagementConfig
from engagement.weeks import local_dates, week_of
from metrics.identity import attribute, side_counts
from metrics.pipeline import run_kinds, tag_kinds

CYCLE_COLUMNS = ["cut_at", "cut_ref", "cut_side", "train_run_id", "train_attempt", "train_started_at",
                 "train_completed_at", "train_side", "hours", "owner", "week", "cut_url", "train_url"]


def attributed_runs(runs: pd.DataFrame, cfg: EngagementConfig) -> pd.DataFrame:
    """Every run attempt with its pipeline `kind`, attributed to its triggering actor at `created_at`."""
    if runs.empty:
        return pd.DataFrame(columns=[*runs.columns, "kind", "at", "login", "source_bot", "person", "side", "rule",
                                     "org", "local_date", "week"])
    kind = run_kinds(runs, cfg.pipeline)
    if "preset_kind" in runs:  # MLflow runs: the kind their experiment is listed under (metrics/other_sources.py)
        kind = kind.where(runs["source_kind"].ne("mlflow"), runs["preset_kind"])
    events = runs.assign(kind=kind, at=runs["created_at"], login=runs["triggering_login"],
                         source_bot=runs["triggering_type"].eq("Bot"))
    return attribute(events.reset_index(drop=True), cfg)


def internal_train_share(runs: pd.DataFrame) -> pd.DataFrame:
    """internal_train_share: per week of `created_at`, runs of the `train` kind whose triggering actor is
    internal / train runs whose triggering actor is internal or vendor. Every event counts (push,
    pull_request, workflow_dispatch, each re-run attempt) except `schedule`: scheduled runs are counted
    apart in `scheduled` (their actor is whoever last edited the cron). Bots and unattributed
    triggering actors are counted beside the share. Rows: week, capability None, counts, value, n
    (train runs counted in the share's counts), scheduled."""
    cols = ["week", "capability", "internal", "vendor", "unattributed", "bots", "value", "n", "scheduled"]
    train = runs[runs["kind"].eq("train")] if len(runs) else runs
    if train.empty:
        return pd.DataFrame(columns=cols)
    counted = train[train["event"].ne("schedule")]
    scheduled = train[train["event"].eq("schedule")].groupby("week").size().rename("scheduled")
    counts = side_counts(counted, ["week"]) if len(counted) else pd.DataFrame(
        columns=["week", "internal", "vendor", "unattributed", "bots", "value"])
    weeks = pd.DataFrame({"week": sorted(set(train["week"]))})
    out = weeks.merge(counts, on="week", how="left").merge(scheduled.reset_index(), on="week", how="left")
    for col in ("internal", "vendor", "unattributed", "bots", "scheduled"):
        out[col] = out[col].fillna(0).astype("int64")
    out["n"] = out["internal"] + out["vendor"] + out["unattributed"] + out["bots"]
    out["capability"] = None
    return out[cols]


def data_cuts(runs: pd.DataFrame, tags: pd.DataFrame, cfg: EngagementConfig) -> pd.DataFrame:
    """Data cuts: successful `data_cut` runs at their completion (`updated_at`), attributed to their
    triggering actor, and tags matching `[pipeline].data_cut.tags` at their tag time, attributed to the
    tagger. Columns: at, ref, side, url."""
    parts = []
    if len(runs):
        ok = runs[runs["kind"].eq("data_cut") & runs["conclusion"].eq("success")]
        parts.append(pd.DataFrame({"at": pd.to_datetime(ok["updated_at"], utc=True), "ref": "run " +
                                   ok["run_id"].astype(str), "side": ok["side"], "url": ok["html_url"]}))
    if len(tags):
        cut_tags = tags[tag_kinds(tags, cfg.pipeline).eq("data_cut").to_numpy() & tags["at"].notna().to_numpy()]
        if len(cut_tags):
            events = attribute(cut_tags.assign(name=cut_tags["tagger_name"], email=cut_tags["tagger_email"])
                               .reset_index(drop=True), cfg)
            parts.append(pd.DataFrame({"at": pd.to_datetime(events["at"], utc=True),
                                       "ref": "tag " + cut_tags["name"].to_numpy(), "side": events["side"],
                                       "url": None}))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["at", "ref", "side", "url"])
    return pd.concat(parts, ignore_index=True).sort_values("at", kind="stable").reset_index(drop=True)


def retrain_cycles(runs: pd.DataFrame, cuts: pd.DataFrame, cfg: EngagementConfig) -> pd.DataFrame:
    """Pair data cuts with trains (the time_to_retrain cycles).

    A cycle runs from a data cut to the completion (`updated_at`) of the first successful `train` run
    attempt that STARTED (`run_started_at`) after the cut. Each cut opens at most one cycle; a newer cut
    made before that train started replaces the older one (the older cut has no cycle); each train
    closes at most one cycle. Failed, cancelled or unfinished trains close nothing; a train started
    before the cut does not count even if it completes after it. A cycle belongs to the week of its
    completion; its owner is internal when both ends were triggered by internal actors, vendor when
    either end was vendor, else unattributed."""
    if cuts.empty or runs.empty:
        return pd.DataFrame(columns=CYCLE_COLUMNS)
    trains = runs[runs["kind"].eq("train") & runs["conclusion"].eq("success") & runs["run_started_at"].notna()]
    trains = trains.assign(started=pd.to_datetime(trains["run_started_at"], utc=True),
                           completed=pd.to_datetime(trains["updated_at"], utc=True)).sort_values("started")
    train_starts = trains["started"].to_numpy()
    cut_times = cuts["at"].to_numpy()
    rows, used = [], set()
    for i in range(len(cuts)):  # cuts are few (one per data refresh): a plain loop is clear
        j = int(np.searchsorted(train_starts, cut_times[i], side="right"))  # first train started after
        if j >= len(trains):
            continue
        if i + 1 < len(cuts) and cut_times[i + 1] < train_starts[j]:
            continue  # superseded by a newer cut before the candidate started
        if j in used:
            continue
        used.add(j)
        t, c = trains.iloc[j], cuts.iloc[i]
        sides = {c["side"], t["side"]}
        owner = "internal" if sides == {"internal"} else "vendor" if "vendor" in sides else "unattributed"
        rows.append({"cut_at": c["at"], "cut_ref": c["ref"], "cut_side": c["side"], "train_run_id": t["run_id"],
                     "train_attempt": t["run_attempt"], "train_started_at": t["started"],
                     "train_completed_at": t["completed"], "train_side": t["side"],
                     "hours": (t["completed"] - c["at"]).total_seconds() / 3600, "owner": owner,
                     "cut_url": c["url"], "train_url": t["html_url"]})
    cycles = pd.DataFrame(rows, columns=[c for c in CYCLE_COLUMNS if c != "week"])
    if cycles.empty:
        return pd.DataFrame(columns=CYCLE_COLUMNS)
    cycles["week"] = week_of(local_dates(cycles["train_completed_at"], cfg.engagement.timezone),
                             cfg.engagement.start)
    return cycles[CYCLE_COLUMNS]


def time_to_retrain(cycles: pd.DataFrame) -> pd.DataFrame:
    """time_to_retrain: per week of cycle completion, the median (`value`) and 90th percentile (`p90`,
    linear interpolation) of cycle durations in hours, `n` = cycles completed that week;
    internal/vendor/unattributed count the cycles by owner."""
    cols = ["week", "capability", "internal", "vendor", "unattributed", "bots", "value", "p90", "n"]
    if cycles.empty:
        return pd.DataFrame(columns=cols)
    g = cycles.groupby("week")
    out = pd.DataFrame({
        "value": g["hours"].median(), "p90": g["hours"].quantile(0.9), "n": g.size(),
        "internal": g["owner"].apply(lambda s: int((s == "internal").sum())),
        "vendor": g["owner"].apply(lambda s: int((s == "vendor").sum())),
        "unattributed": g["owner"].apply(lambda s: int((s == "unattributed").sum())),
    }).reset_index()
    out["bots"] = 0
    out["capability"] = None
    return out[cols]
