"""The system KPIs of SPEC §11 from CI runs, tags and JUnit reports: pure frames in, frames out.

Every run attempt is one row of `runs` (metrics.retraining.attributed_runs: pipeline `kind`, triggering actor's
`person`/`side`, `week` of `created_at`). Timing on real GitHub payloads (tests check them on recorded ones):
- an attempt **started** at `run_started_at` (GitHub resets it on a re-run; `created_at` keeps the first attempt's
  creation, sometimes days earlier); a first attempt without `run_started_at` (payloads before 2021) started at
  `created_at`; a later attempt without it has no known start;
- an attempt **completed** when it has a conclusion (GitHub sets one only then), at `updated_at`.

- `train_durations`: each completed `train` attempt's minutes, start → `updated_at` (`train_run_minutes`).
- `rollback_cycles`: per rollback run, its first attempt's creation → the completion of its first successful attempt
  (`rollback_time`); a run with no successful attempt is an open cycle.
- `evaluations`: JUnit runs with a readable report (passing: no failed testcase) and `eval` runs (passing:
  conclusion success); `silent_releases`: successful non-staging `deploy` runs whose commit has no passing
  evaluation completed before the deploy started (`eval_pass_rate`).
- `rebuild_runs` (`environment_rebuild`), `rehearsal_cycles` (`rehearsal_retrain`), `takeover` (`takeover_weeks`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engagement.config import EngagementConfig
from engagement.weeks import local_dates, week_of
from metrics.identity import glob_regex

REHEARSAL_KINDS = ("data_cut", "train", "eval", "deploy")  # vendor runs of these kinds break a rehearsal
OPTIONAL_RUN_COLUMNS = ("head_sha", "head_branch", "repo", "html_url", "name", "workflow_path", "run_started_at",
                        "triggering_login", "person")


def weeks_of(times: pd.Series, cfg: EngagementConfig) -> pd.Series:
    """Engagement week of UTC instants (SPEC §4); -1 where the instant is missing."""
    times = pd.to_datetime(times, utc=True)
    out = pd.Series(-1, index=times.index, dtype="int64")
    known = times.notna()
    if known.any():
        out[known] = week_of(local_dates(times[known], cfg.engagement.timezone), cfg.engagement.start)
    return out


def _utc(values) -> pd.Series:
    return pd.to_datetime(values, utc=True)


def timed(runs: pd.DataFrame) -> pd.DataFrame:
    """`runs` with `started` (run_started_at; created_at for a first attempt without it), `completed` (updated_at
    once the attempt has a conclusion) and `done` (has a conclusion)."""
    out = runs.copy()
    for col in OPTIONAL_RUN_COLUMNS:  # frames built by hand (or by an older loader) may leave some out
        if col not in out:
            out[col] = None
    conclusion = out["conclusion"].astype(object)
    out["done"] = conclusion.notna().to_numpy() & (conclusion.astype(str).str.strip() != "").to_numpy()
    started = _utc(out["run_started_at"]) if "run_started_at" in out else pd.Series(pd.NaT, index=out.index)
    created = _utc(out["created_at"])
    first = out["run_attempt"].fillna(1).astype("int64") <= 1
    out["started"] = started.where(started.notna(), created.where(first))
    out["completed"] = _utc(out["updated_at"]).where(out["done"])
    return out


# --------------------------------------------------------------------------------------------------------
# train_run_minutes
# --------------------------------------------------------------------------------------------------------

def train_durations(runs: pd.DataFrame, cfg: EngagementConfig) -> pd.DataFrame:
    """Every completed `train` attempt with `minutes` (start → updated_at) and the `week` of its start; `timed`
    false (no known start, or an end before the start) keeps it out of the value, shown beside."""
    if runs.empty:
        return pd.DataFrame(columns=[*runs.columns, "started", "completed", "done", "minutes", "timed"])
    train = timed(runs[runs["kind"].eq("train")])
    train = train[train["done"]].copy()
    train["minutes"] = (train["completed"] - train["started"]).dt.total_seconds() / 60
    train["timed"] = train["minutes"].notna() & (train["minutes"] >= 0)
    train["week"] = weeks_of(train["started"].where(train["started"].notna(), _utc(train["created_at"])), cfg)
    return train.sort_values(["started", "run_id", "run_attempt"], na_position="last").reset_index(drop=True)


def train_minutes(durations: pd.DataFrame, per_minute: float | None) -> pd.DataFrame:
    """Weekly median minutes (`value`), `p90`, `n` timed runs, `total_minutes`, `cost` (total × per_minute when
    set); side counts = timed runs by triggering side."""
    cols = ["week", "capability", "internal", "vendor", "unattributed", "bots", "value", "p90", "n", "total_minutes",
            "cost"]
    ok = durations[durations["timed"]] if len(durations) else durations
    if ok.empty:
        return pd.DataFrame(columns=cols)
    g = ok.groupby("week")
    out = pd.DataFrame({"value": g["minutes"].median(), "p90": g["minutes"].quantile(0.9), "n": g.size(),
                        "total_minutes": g["minutes"].sum()})
    sides = pd.crosstab(ok["week"], ok["side"]).reindex(columns=["internal", "vendor", "unattributed", "bot"],
                                                       fill_value=0).rename(columns={"bot": "bots"})
    out = out.join(sides).reset_index()
    out["cost"] = out["total_minutes"] * per_minute if per_minute is not None else np.nan
    out["capability"] = None
    return out[cols]


# --------------------------------------------------------------------------------------------------------
# rollback_time
# --------------------------------------------------------------------------------------------------------

ROLLBACK_COLUMNS = ["source_id", "repo", "run_id", "attempts", "opened_at", "closed_at", "minutes", "open", "person",
                    "side", "login", "week", "html_url", "name", "conclusion"]


def rollback_cycles(runs: pd.DataFrame, cfg: EngagementConfig) -> pd.DataFrame:
    """One cycle per rollback run: opened at the earliest `created_at` of its attempts, closed at the completion
    of its first successful attempt (minutes between), open when no attempt succeeded. Its side is the triggering
    actor of the successful attempt (who restored service), else of the latest attempt. Week: of the opening."""
    if runs.empty or not runs["kind"].eq("rollback").any():
        return pd.DataFrame(columns=ROLLBACK_COLUMNS)
    rb = timed(runs[runs["kind"].eq("rollback")]).sort_values(["source_id", "run_id", "run_attempt"])
    rb["created"] = _utc(rb["created_at"])
    key = ["source_id", "run_id"]
    opened = rb.groupby(key)["created"].min().rename("opened_at")
    attempts = rb.groupby(key).size().rename("attempts")
    ok = rb[rb["conclusion"].eq("success")].drop_duplicates(key, keep="first").set_index(key)
    last = rb.drop_duplicates(key, keep="last").set_index(key)
    who = pd.concat([ok, last[~last.index.isin(ok.index)]]).reindex(opened.index)
    out = pd.concat([opened, attempts], axis=1)
    out["closed_at"] = ok["completed"].reindex(opened.index)
    for col, src in (("person", "person"), ("side", "side"), ("login", "triggering_login"), ("repo", "repo"),
                     ("html_url", "html_url"), ("name", "name"), ("conclusion", "conclusion")):
        out[col] = who[src] if src in who else None
    out = out.reset_index()
    out["minutes"] = (out["closed_at"] - out["opened_at"]).dt.total_seconds() / 60
    out["open"] = out["closed_at"].isna()
    out["week"] = weeks_of(out["opened_at"], cfg)
    return out.sort_values(["opened_at", "run_id"]).reset_index(drop=True)[ROLLBACK_COLUMNS]


def rollback_time(cycles: pd.DataFrame) -> pd.DataFrame:
    """Weekly median minutes of the closed cycles (`value`), `n` = cycles opened that week (open ones included),
    `open`; side counts = cycles by side."""
    cols = ["week", "capability", "internal", "vendor", "unattributed", "bots", "value", "n", "open"]
    if cycles.empty:
        return pd.DataFrame(columns=cols)
    g = cycles.groupby("week")
    out = pd.DataFrame({"value": g["minutes"].median(), "n": g.size(), "open": g["open"].sum().astype("int64")})
    sides = pd.crosstab(cycles["week"], cycles["side"].fillna("unattributed")).reindex(
        columns=["internal", "vendor", "unattributed", "bot"], fill_value=0).rename(columns={"bot": "bots"})
    out = out.join(sides).reset_index()
    out["capability"] = None
    return out[cols]


# --------------------------------------------------------------------------------------------------------
# Evaluations, eval_pass_rate and silent releases
# --------------------------------------------------------------------------------------------------------

EVAL_COLUMNS = ["source_id", "repo", "run_id", "run_attempt", "source", "head_sha", "head_branch", "started",
                "completed", "passing", "tests", "failures", "skipped", "person", "side", "login", "html_url", "week",
                "workflow_path"]


def evaluations(runs: pd.DataFrame, junit_runs: pd.DataFrame | None, cfg: EngagementConfig) -> pd.DataFrame:
    """Evaluation runs: JUnit runs with at least one readable report (their run's commit, branch and triggering
    actor joined from `runs`; passing = testcases and none failed) and completed runs of the `eval` kind
    (passing = conclusion success). A run in both counts once, by its JUnit report."""
    parts = []
    if junit_runs is not None and len(junit_runs):
        j = junit_runs[(junit_runs["reports"] > 0) & junit_runs["completed_at"].notna()]
        j = j.drop(columns=[c for c in ("html_url", "repo") if c in j])
        cols = ["source_id", "run_id", "run_attempt", "repo", "head_sha", "head_branch", "person", "side",
                "triggering_login", "html_url", "run_started_at", "created_at"]
        have = runs.reindex(columns=cols) if len(runs) else pd.DataFrame(columns=cols)
        if len(have) and not pd.api.types.is_numeric_dtype(have["run_id"]):  # MLflow runs: run ids are text
            j = j.assign(run_id=j["run_id"].astype(str))
        j = j.merge(have, on=["source_id", "run_id", "run_attempt"], how="left")
        started = _utc(j["run_started_at"])
        parts.append(pd.DataFrame({
            "source_id": j["source_id"], "repo": j["repo"], "run_id": j["run_id"], "run_attempt": j["run_attempt"],
            "source": "junit", "head_sha": j["head_sha"], "head_branch": j["head_branch"],
            "started": started.where(started.notna(), _utc(j["created_at"])), "completed": _utc(j["completed_at"]),
            "passing": (j["tests"] > 0) & (j["failures"] == 0), "tests": j["tests"], "failures": j["failures"],
            "skipped": j["skipped"], "person": j["person"], "side": j["side"].fillna("unattributed"),
            "login": j["triggering_login"], "html_url": j["html_url"], "workflow_path": j["workflow_path"]}))
    if len(runs) and runs["kind"].eq("eval").any():
        e = timed(runs[runs["kind"].eq("eval")])
        e = e[e["done"]]
        if len(parts):
            seen = set(zip(parts[0]["source_id"], parts[0]["run_id"], strict=True))
            e = e[[(s, r) not in seen for s, r in zip(e["source_id"], e["run_id"], strict=True)]]
        parts.append(pd.DataFrame({
            "source_id": e["source_id"], "repo": e["repo"], "run_id": e["run_id"], "run_attempt": e["run_attempt"],
            "source": "eval run", "head_sha": e["head_sha"], "head_branch": e["head_branch"], "started": e["started"],
            "completed": e["completed"], "passing": e["conclusion"].eq("success"), "tests": np.nan,
            "failures": np.nan, "skipped": np.nan, "person": e["person"], "side": e["side"],
            "login": e["triggering_login"], "html_url": e["html_url"], "workflow_path": e["workflow_path"]}))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=EVAL_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["week"] = weeks_of(out["completed"], cfg)
    return out.sort_values(["completed", "run_id"]).reset_index(drop=True)[EVAL_COLUMNS]


def week_junit(evals: pd.DataFrame, branches: set[str]) -> pd.DataFrame:
    """The JUnit run each (repository, week) counts for eval_pass_rate: its latest completed one on a tracked
    branch, with `passed` = testcases neither failed nor skipped."""
    j = evals[evals["source"].eq("junit") & evals["head_branch"].isin(branches)] if len(evals) else evals
    if j.empty:
        return pd.DataFrame(columns=[*EVAL_COLUMNS, "passed"])
    latest = j.sort_values(["completed", "run_id"]).drop_duplicates(["source_id", "week"], keep="last")
    latest = latest.assign(passed=latest["tests"] - latest["failures"] - latest["skipped"])
    return latest.sort_values(["week", "source_id"]).reset_index(drop=True)


def staging_flags(runs: pd.DataFrame, cfg: EngagementConfig) -> pd.Series:
    """Deploy runs to staging: `deploy` runs whose workflow (path, file name or display name) also matches
    `[pipeline].deploy_staging` (default `*staging*`)."""
    regex = glob_regex(cfg.pipeline.deploy_staging.workflows)
    if runs.empty or regex is None:
        return pd.Series(False, index=runs.index, dtype=bool)
    path = runs["workflow_path"].fillna("").astype(str)
    names = [path, path.str.rsplit("/", n=1).str[-1], runs["name"].fillna("").astype(str)]
    hit = np.zeros(len(runs), dtype=bool)
    for column in names:
        hit |= column.map(lambda v: bool(v) and bool(regex.match(v))).to_numpy(dtype=bool)
    return pd.Series(hit & runs["kind"].eq("deploy").to_numpy(), index=runs.index, dtype=bool)


RELEASE_COLUMNS = ["source_id", "repo", "run_id", "run_attempt", "head_sha", "started", "completed", "person",
                   "side", "login", "html_url", "name", "week", "silent", "evaluation"]


def releases(runs: pd.DataFrame, evals: pd.DataFrame, cfg: EngagementConfig) -> pd.DataFrame:
    """Successful non-staging `deploy` runs (one per run: its first successful attempt), each `silent` unless a
    passing evaluation of the same commit (same repository) completed before the deploy started; `evaluation`
    names the newest such one. Week: of the run's `created_at`, as every run."""
    if runs.empty or not runs["kind"].eq("deploy").any():
        return pd.DataFrame(columns=RELEASE_COLUMNS)
    deploys = timed(runs[runs["kind"].eq("deploy") & ~staging_flags(runs, cfg)])
    deploys = deploys[deploys["conclusion"].eq("success")].sort_values(["source_id", "run_id", "run_attempt"])
    deploys = deploys.drop_duplicates(["source_id", "run_id"], keep="first")
    if deploys.empty:
        return pd.DataFrame(columns=RELEASE_COLUMNS)
    ok = evals[evals["passing"].astype(bool)] if len(evals) else evals
    passing = ok[["source_id", "head_sha", "completed", "run_id"]].rename(
        columns={"run_id": "eval_run", "completed": "eval_at"})
    pairs = deploys[["source_id", "run_id", "head_sha", "started", "created_at"]].merge(
        passing, on=["source_id", "head_sha"], how="inner") if len(ok) else pd.DataFrame(
        columns=["source_id", "run_id", "eval_run", "eval_at", "started", "created_at"])
    if len(pairs):
        gate = pairs["started"].where(pairs["started"].notna(), _utc(pairs["created_at"]))
        pairs = pairs[pairs["eval_at"] <= gate].sort_values("eval_at")
    gated = pairs.drop_duplicates(["source_id", "run_id"], keep="last").set_index(["source_id", "run_id"])["eval_run"]
    out = deploys.set_index(["source_id", "run_id"])
    out["evaluation"] = gated.reindex(out.index)
    out["silent"] = out["evaluation"].isna()
    out = out.reset_index()
    out["login"] = out["triggering_login"]
    return out.sort_values(["created_at", "run_id"]).reset_index(drop=True)[RELEASE_COLUMNS]


def eval_pass_rate(junit: pd.DataFrame, released: pd.DataFrame) -> pd.DataFrame:
    """Per week: passed / testcases of the week's latest tracked-branch JUnit run (summed over repositories),
    `n` = testcases, `passed`, `failed`, `skipped`, and `silent_releases` = silent releases of the week."""
    cols = ["week", "capability", "internal", "vendor", "unattributed", "bots", "value", "n", "passed", "failed",
            "skipped", "silent_releases"]
    weeks = sorted(set(junit["week"]) | set(released["week"]))
    if not weeks:
        return pd.DataFrame(columns=cols)
    per = junit.groupby("week")[["tests", "passed", "failures", "skipped"]].sum() if len(junit) else pd.DataFrame(
        columns=["tests", "passed", "failures", "skipped"])
    silent = released[released["silent"].astype(bool)].groupby("week").size() if len(released) else pd.Series(
        dtype="int64")
    out = pd.DataFrame({"week": weeks})
    out["n"] = out["week"].map(per["tests"]).astype("float64")
    out["passed"] = out["week"].map(per["passed"]).astype("float64")
    out["failed"] = out["week"].map(per["failures"]).astype("float64")
    out["skipped"] = out["week"].map(per["skipped"]).astype("float64")
    out["value"] = (out["passed"] / out["n"].where(out["n"] > 0)).astype("float64")
    out["silent_releases"] = out["week"].map(silent).fillna(0).astype("int64")
    for col in ("internal", "vendor", "unattributed", "bots"):
        out[col] = 0
    out["capability"] = None
    return out[cols]


# --------------------------------------------------------------------------------------------------------
# environment_rebuild
# --------------------------------------------------------------------------------------------------------

def rebuild_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Every attempt of a `rebuild` workflow with `done` (has a conclusion) and `started`/`completed`."""
    if runs.empty or not runs["kind"].eq("rebuild").any():
        return pd.DataFrame(columns=[*runs.columns, "started", "completed", "done"])
    return timed(runs[runs["kind"].eq("rebuild")]).sort_values(["created_at", "run_id", "run_attempt"]).reset_index(
        drop=True)


def environment_rebuild(rebuilds: pd.DataFrame) -> pd.DataFrame:
    """Per week of `created_at`: successful / completed rebuild attempts (`value`), `n` = completed, `successful`;
    side counts = completed attempts by triggering side."""
    cols = ["week", "capability", "internal", "vendor", "unattributed", "bots", "value", "n", "successful"]
    done = rebuilds[rebuilds["done"]] if len(rebuilds) else rebuilds
    if done.empty:
        return pd.DataFrame(columns=cols)
    g = done.groupby("week")
    out = pd.DataFrame({"n": g.size(), "successful": g["conclusion"].apply(lambda s: int(s.eq("success").sum()))})
    sides = pd.crosstab(done["week"], done["side"]).reindex(columns=["internal", "vendor", "unattributed", "bot"],
                                                          fill_value=0).rename(columns={"bot": "bots"})
    out = out.join(sides).reset_index()
    out["value"] = out["successful"] / out["n"]
    out["capability"] = None
    return out[cols]


# --------------------------------------------------------------------------------------------------------
# rehearsal_retrain
# --------------------------------------------------------------------------------------------------------

REHEARSAL_COLUMNS = ["cut_ref", "cut_at", "cut_url", "train_run", "train_started", "train_completed", "train_url",
                     "eval_run", "eval_source", "eval_started", "eval_completed", "eval_url", "deploy_run",
                     "deploy_started", "deploy_completed", "deploy_url", "deploy_person", "hours", "week"]


@dataclass(frozen=True)
class Rehearsals:
    cycles: pd.DataFrame  # complete internal cycles (REHEARSAL_COLUMNS), one per data cut
    attempts: pd.DataFrame  # every successful staging deploy with `cycle` (bool) and `reason` when it closes none


def _latest_before(frame: pd.DataFrame, column: str, limit) -> pd.Series | None:
    """The row of `frame` with the largest `column` at or before `limit` (None when there is none)."""
    if pd.isna(limit):
        return None
    hit = frame[frame[column] <= limit]
    return None if hit.empty else hit.sort_values(column).iloc[-1]


def rehearsal_cycles(runs: pd.DataFrame, cuts: pd.DataFrame, evals: pd.DataFrame, cfg: EngagementConfig) -> Rehearsals:
    """Complete internal rehearsal cycles (SPEC §11): for each successful staging deploy triggered by an internal
    person, the newest internal passing evaluation completed before it started, the newest internal successful
    train completed before that evaluation started, and the newest internal data cut before that train started;
    a cycle when all three exist and no vendor-triggered run of the data_cut / train / eval / deploy kinds (nor a
    vendor data-cut tag, nor a vendor JUnit run) was created between the cut and the deploy's completion. Each
    cut closes at most one cycle (its first deploy). `hours` = cut → deploy completion; week of that completion."""
    empty = Rehearsals(pd.DataFrame(columns=REHEARSAL_COLUMNS),
                       pd.DataFrame(columns=["run_id", "run_attempt", "repo", "person", "side", "login", "completed",
                                             "html_url", "week", "cycle", "reason"]))
    if runs.empty:
        return empty
    t = timed(runs)
    deploys = t[t["kind"].eq("deploy") & staging_flags(runs, cfg).to_numpy() & t["conclusion"].eq("success")]
    if deploys.empty:
        return empty
    internal = t["side"].eq("internal")
    trains = t[t["kind"].eq("train") & t["conclusion"].eq("success") & internal & t["started"].notna()]
    ok_evals = evals[evals["passing"].astype(bool) & evals["side"].eq("internal")] if len(evals) else evals
    in_cuts = cuts[cuts["side"].eq("internal")] if len(cuts) else cuts
    vendor_times = [_utc(t.loc[t["kind"].isin(REHEARSAL_KINDS) & t["side"].eq("vendor"), "created_at"])]
    if len(cuts):
        vendor_times.append(_utc(cuts.loc[cuts["side"].eq("vendor"), "at"]))
    if len(evals):
        vendor_times.append(evals.loc[evals["side"].eq("vendor"), "started"])
    vendor = pd.concat([v for v in vendor_times if len(v)], ignore_index=True) if any(
        len(v) for v in vendor_times) else pd.Series([], dtype="datetime64[ns, UTC]")
    rows, attempts = [], []
    for _, d in deploys.sort_values(["completed", "run_id"]).iterrows():  # staging deploys are few
        reason = None
        e = tr = c = None
        if d["side"] != "internal":
            reason = f"deployed by {d['side']} ({d['person'] or d['triggering_login']})"
        else:
            e = _latest_before(ok_evals, "completed", d["started"]) if len(ok_evals) else None
            tr = _latest_before(trains, "completed", e["started"]) if e is not None and len(trains) else None
            c = _latest_before(in_cuts, "at", tr["started"] - pd.Timedelta(microseconds=1)) if (
                tr is not None and len(in_cuts)) else None
            if e is None:
                reason = "no passing internal evaluation before it"
            elif tr is None:
                reason = "no successful internal train run before its evaluation"
            elif c is None:
                reason = "no internal data cut before its train run"
            else:
                hits = vendor[(vendor >= c["at"]) & (vendor <= d["completed"])]
                if len(hits):
                    reason = f"{len(hits)} vendor-triggered run(s) or cut(s) between the cut and the deploy"
                elif any(r["cut_ref"] == c["ref"] for r in rows):
                    reason = f"its cycle ({c['ref']}) was closed by an earlier staging deploy"
        if reason is None:
            rows.append({"cut_ref": c["ref"], "cut_at": c["at"], "cut_url": c["url"],
                         "train_run": f"{tr['run_id']}/{tr['run_attempt']}", "train_started": tr["started"],
                         "train_completed": tr["completed"], "train_url": tr["html_url"],
                         "eval_run": f"{e['run_id']}/{e['run_attempt']}", "eval_source": e["source"],
                         "eval_started": e["started"], "eval_completed": e["completed"], "eval_url": e["html_url"],
                         "deploy_run": f"{d['run_id']}/{d['run_attempt']}", "deploy_started": d["started"],
                         "deploy_completed": d["completed"], "deploy_url": d["html_url"],
                         "deploy_person": d["person"] or d["triggering_login"],
                         "hours": (d["completed"] - c["at"]).total_seconds() / 3600})
        attempts.append({"run_id": d["run_id"], "run_attempt": d["run_attempt"], "repo": d.get("repo"),
                         "person": d["person"], "side": d["side"], "login": d["triggering_login"],
                         "completed": d["completed"], "html_url": d["html_url"], "cycle": reason is None,
                         "reason": reason})
    cycles = pd.DataFrame(rows, columns=[c for c in REHEARSAL_COLUMNS if c != "week"])
    cycles["week"] = weeks_of(cycles["deploy_completed"], cfg) if len(cycles) else pd.Series(dtype="int64")
    tried = pd.DataFrame(attempts)
    tried["week"] = weeks_of(tried["completed"], cfg)
    return Rehearsals(cycles[REHEARSAL_COLUMNS], tried)


def rehearsal_retrain(cycles: pd.DataFrame) -> pd.DataFrame:
    """Per week of deploy completion: hours of the fastest complete cycle (`value`), `n` = cycles; every cycle is
    internal by definition (`internal` = n)."""
    cols = ["week", "capability", "internal", "vendor", "unattributed", "bots", "value", "n"]
    if cycles.empty:
        return pd.DataFrame(columns=cols)
    g = cycles.groupby("week")
    out = pd.DataFrame({"value": g["hours"].min(), "n": g.size()}).reset_index()
    out["internal"] = out["n"].astype("int64")
    out[["vendor", "unattributed", "bots"]] = 0
    out["capability"] = None
    return out[cols]


# --------------------------------------------------------------------------------------------------------
# takeover_weeks
# --------------------------------------------------------------------------------------------------------

def takeover(ladder: pd.DataFrame) -> pd.DataFrame:
    """Per (capability, week) of the ladder: `first_active` (first week with any activity, bots and unattributed
    items included), `taken_over` (the first week of the latest unbroken run of measured stage ≥ 3 reaching this
    week; weeks without a measured stage neither break nor start it; None while the latest measured stage is
    below 3) and `value` = taken_over − first_active."""
    cols = ["capability", "week", "stage", "first_active", "taken_over", "value", "items"]
    if ladder.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for cap, cells in ladder.sort_values("week", kind="stable").groupby("capability", sort=False):  # ladder order
        items = cells[["internal", "vendor", "unattributed", "bots"]].sum(axis=1).to_numpy()
        first_active, run_start = None, None
        for (week, stage), count in zip(cells[["week", "stage"]].itertuples(index=False, name=None), items,
                                        strict=True):
            if first_active is None and count > 0:
                first_active = int(week)
            if not pd.isna(stage):
                if stage >= 3:
                    run_start = int(week) if run_start is None else run_start
                else:
                    run_start = None
            value = run_start - first_active if run_start is not None and first_active is not None else np.nan
            rows.append((cap, int(week), stage, first_active, run_start, value, int(count)))
    return pd.DataFrame(rows, columns=cols)


def takeover_table(cells: pd.DataFrame, week: int) -> pd.DataFrame:
    """Per capability in `week`: the measured stage, first active week, the week its current run at stage ≥ 3
    began (None while not taken over) and `takeover_weeks` (the difference)."""
    rows = cells[cells["week"] == week]
    as_int = {c: rows[c].astype("Int64") for c in ("stage", "first_active", "taken_over", "value")}
    return pd.DataFrame({"capability": rows["capability"].to_numpy(), "stage": as_int["stage"].to_numpy(),
                         "first active week": as_int["first_active"].to_numpy(),
                         "taken over in week": as_int["taken_over"].to_numpy(),
                         "weeks to takeover": as_int["value"].to_numpy()})
