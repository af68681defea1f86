"""GitLab and MLflow in the frames every KPI already reads (SPEC §12), pure: frames in, frames out.

`with_other_sources(data, cfg)` returns the `SourceData` with GitLab and MLflow rows folded into the GitHub-shaped
frames, so the KPI modules never branch on a source:
- a **merge request** is a pull request (`number` = iid, `base_ref` = target branch, `html_url` = web_url); its
  changed files are PR files; an **approval** is an APPROVED review dated as the collector dated it
  (the approver's "approved this merge request" note, else the merge);
- a **pipeline** is a CI run (`run_attempt` 1, `event` = its `source`, so `schedule` is counted apart;
  `triggering_login` = the pipeline's `user`; `run_started_at` = started_at; `updated_at` = finished_at once
  finished); `[pipeline]` and `ci_workflows` entries match its name (workflow:name), or the name or stage of any
  of its jobs (`match_names`);
- an **MLflow run** is a CI run of the kind whose `[pipeline].<kind>.mlflow_experiments` names its experiment
  (by name or id; `*`/`?` globs) (`preset_kind`); its actor is the `mlflow.user` tag, else `user_id`; `event` is
  the source's trigger tag (e.g. `ci.trigger = "schedule"`), else `mlflow.source.type` (notebook, job, local…);
  `created_at` = `run_started_at` = start_time (a run belongs to the week it started, whatever its status),
  `updated_at` = end_time; FINISHED/FAILED/KILLED conclude as success/failure/cancelled; `run_id` is the MLflow
  run id (all run ids become text when MLflow runs are present). So `train_run_minutes` reads start -> end.
Rows carry `source_kind` (github, gitlab, mlflow) and `login_kind` (which roster identities the login is matched
against, metrics/identity.py).

`model_promotions(data, cfg)`: registry changes that put a version in production (a `production_aliases` alias or
a `production_stages` stage of its `[[sources.mlflow]]`), one row per (model, version, sweep), with its creator
(the version's `user_id`, else the actor of the run it came from), its promoter (a version tag naming one, else
unknown), `rollback` (the version is older than the one it replaced in production, with `replaced_at`, when that
one was promoted) and `two_key` (promoter known, another person than the creator, and internal; None when the
promoter is unknown).
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd

from engagement.config import EngagementConfig, MlflowSource
from metrics.identity import attribute, glob_regex
from metrics.pipeline import KINDS

GITLAB_BOT = re.compile(r"^(project|group)_\d+_bot(_[0-9a-f]+)?$", re.IGNORECASE)  # project/group access tokens
FINAL_PIPELINE = {"success": "success", "failed": "failure", "canceled": "cancelled", "skipped": "skipped"}
FINAL_MLFLOW = {"FINISHED": "success", "FAILED": "failure", "KILLED": "cancelled"}


def _empty(frame: pd.DataFrame | None) -> bool:
    return frame is None or len(frame) == 0


def _bot_type(usernames: pd.Series) -> pd.Series:
    return usernames.fillna("").astype(str).str.match(GITLAB_BOT).map({True: "Bot", False: "User"})


def gitlab_pull_requests(mrs: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "source_id": mrs["source_id"], "repo": mrs["repo"], "number": mrs["iid"], "title": mrs["title"],
        "state": mrs["state"], "html_url": mrs["web_url"], "author_login": mrs["author_username"],
        "author_id": mrs["author_id"], "author_type": _bot_type(mrs["author_username"]),
        "created_at": mrs["created_at"], "updated_at": mrs["updated_at"], "closed_at": mrs["closed_at"],
        "merged_at": mrs["merged_at"], "base_ref": mrs["target_branch"], "head_ref": mrs["source_branch"],
        "merge_commit_sha": mrs["merge_commit_sha"], "labels": mrs["labels"], "source_kind": "gitlab",
        "login_kind": "gitlab"})


def gitlab_reviews(approvals: pd.DataFrame, mrs: pd.DataFrame) -> pd.DataFrame:
    urls = approvals.merge(mrs[["source_id", "iid", "web_url"]], on=["source_id", "iid"], how="left")["web_url"]
    note = approvals["note_id"]
    synthetic = -(approvals["iid"].astype("int64") * 1_000_000_000 + approvals["user_id"].astype("int64"))
    review_id = note.where(note.notna(), synthetic).astype("int64")  # the approval note, else (MR, user)
    url = np.where(note.notna(), urls.to_numpy().astype(object) + "#note_" + note.fillna(0).astype("int64").astype(str),
                   urls.to_numpy())
    return pd.DataFrame({
        "source_id": approvals["source_id"], "number": approvals["iid"], "review_id": review_id.to_numpy(),
        "reviewer_login": approvals["username"], "reviewer_id": approvals["user_id"],
        "reviewer_type": _bot_type(approvals["username"]), "state": "APPROVED",
        "submitted_at": approvals["approved_at"], "commit_id": None, "html_url": url, "source_kind": "gitlab",
        "login_kind": "gitlab"}, index=approvals.index)


def gitlab_pr_files(files: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"source_id": files["source_id"], "number": files["iid"], "path": files["path"],
                         "previous_path": files["old_path"]})


def gitlab_runs(pipelines: pd.DataFrame, jobs: pd.DataFrame | None) -> pd.DataFrame:
    names = pd.Series("", index=pipelines.index, dtype=object)
    if not _empty(jobs):
        words = pd.concat([jobs[["source_id", "pipeline_id", "name"]],
                           jobs[["source_id", "pipeline_id", "stage"]].rename(columns={"stage": "name"})])
        words = words.dropna().drop_duplicates().sort_values("name")
        joined = words.groupby(["source_id", "pipeline_id"])["name"].agg("\n".join).rename("match_names")
        names = pipelines.merge(joined.reset_index(), on=["source_id", "pipeline_id"], how="left")["match_names"]
        names.index = pipelines.index
    final = pipelines["status"].isin(list(FINAL_PIPELINE))
    finished = pipelines["finished_at"].where(pipelines["finished_at"].notna(), pipelines["updated_at"])
    return pd.DataFrame({
        "source_id": pipelines["source_id"], "repo": pipelines["repo"], "run_id": pipelines["pipeline_id"],
        "run_attempt": 1, "workflow_path": ".gitlab-ci.yml", "name": pipelines["name"].fillna("pipeline"),
        "display_title": pipelines["ref"], "event": pipelines["source"].fillna("unknown"),
        "actor_login": pipelines["user_username"], "actor_type": _bot_type(pipelines["user_username"]),
        "triggering_login": pipelines["user_username"], "triggering_type": _bot_type(pipelines["user_username"]),
        "head_sha": pipelines["sha"], "head_branch": pipelines["ref"],
        "status": np.where(final, "completed", pipelines["status"]),
        "conclusion": pipelines["status"].map(FINAL_PIPELINE),
        "created_at": pipelines["created_at"], "run_started_at": pipelines["started_at"],
        "updated_at": finished.where(final, pipelines["updated_at"]), "html_url": pipelines["web_url"],
        "match_names": names.fillna(""), "source_kind": "gitlab", "login_kind": "gitlab"})


def mlflow_kinds(runs: pd.DataFrame, cfg: EngagementConfig) -> pd.Series:
    """The `[pipeline]` kind of each MLflow run: the first kind (data_cut, train, deploy, rollback) whose
    `mlflow_experiments` names the run's experiment (by name or id, globs); None when none does."""
    out = pd.Series(None, index=runs.index, dtype=object)
    for kind in reversed(KINDS):  # earlier kinds win
        regex = glob_regex(getattr(cfg.pipeline, kind).mlflow_experiments)
        if regex is None:
            continue
        hit = runs["experiment"].fillna("").astype(str).map(lambda n, r=regex: bool(r.match(n))) | \
            runs["experiment_id"].astype(str).map(lambda n, r=regex: bool(r.match(n)))
        out[hit.to_numpy()] = kind
    return out


def mlflow_runs(runs: pd.DataFrame, cfg: EngagementConfig) -> pd.DataFrame:
    user = runs["mlflow_user"].where(runs["mlflow_user"].notna() & runs["mlflow_user"].ne(""), runs["user_id"])
    event = runs["trigger"].where(runs["trigger"].notna(), runs["source_type"].str.lower()).fillna("mlflow")
    final = runs["status"].isin(list(FINAL_MLFLOW))
    return pd.DataFrame({
        "source_id": runs["source_id"], "repo": runs["repo"], "run_id": runs["run_id"].astype(str), "run_attempt": 1,
        "workflow_path": None, "name": runs["experiment"].fillna(runs["experiment_id"].astype(str)),
        "display_title": runs["run_name"], "event": event, "actor_login": user, "actor_type": None,
        "triggering_login": user, "triggering_type": None, "head_sha": runs["git_commit"], "head_branch": None,
        "status": np.where(final, "completed", np.where(runs["status"].eq("SCHEDULED"), "queued", "in_progress")),
        "conclusion": runs["status"].map(FINAL_MLFLOW), "created_at": runs["start_time"],
        "run_started_at": runs["start_time"], "updated_at": runs["end_time"], "html_url": runs["url"],
        "preset_kind": mlflow_kinds(runs, cfg), "source_kind": "mlflow", "login_kind": "mlflow",
        "email": user.where(user.fillna("").str.contains("@"), None)})


def _concat(base: pd.DataFrame, extra: list[pd.DataFrame], kind: str = "github") -> pd.DataFrame:
    extra = [e for e in extra if len(e)]
    if not extra:
        return base
    if len(base):
        base = base.assign(source_kind=kind, login_kind=kind)
        return pd.concat([base, *extra], ignore_index=True)
    return pd.concat(extra, ignore_index=True)


def with_other_sources(data, cfg: EngagementConfig):
    """`data` (a SourceData) with GitLab and MLflow rows folded into pull_requests, pr_files, reviews and
    workflow_runs (see the module docstring); `data` itself when it has none."""
    mrs, runs = data.gitlab_merge_requests, data.mlflow_runs
    pipelines = data.gitlab_pipelines
    if _empty(mrs) and _empty(runs) and _empty(pipelines):
        return data
    changes = {}
    if not _empty(mrs):
        changes["pull_requests"] = _concat(data.pull_requests, [gitlab_pull_requests(mrs)])
        if not _empty(data.gitlab_mr_files):
            changes["pr_files"] = _concat(data.pr_files, [gitlab_pr_files(data.gitlab_mr_files)])
        if not _empty(data.gitlab_approvals):
            changes["reviews"] = _concat(data.reviews, [gitlab_reviews(data.gitlab_approvals, mrs)])
    extra_runs = []
    if not _empty(pipelines):
        extra_runs.append(gitlab_runs(pipelines, data.gitlab_jobs))
    if not _empty(runs):
        extra_runs.append(mlflow_runs(runs, cfg))
    if extra_runs:
        base = data.workflow_runs
        if not _empty(runs) and len(base):  # MLflow run ids are text: one type for the column
            base = base.assign(run_id=base["run_id"].astype(str))
        combined = _concat(base, extra_runs)
        if not _empty(runs):
            combined["run_id"] = combined["run_id"].astype(str)
        changes["workflow_runs"] = combined
    for key in ("pull_requests", "pr_files", "reviews"):
        if key in changes:
            for col in ("merged_at", "created_at", "updated_at", "closed_at", "submitted_at"):
                if col in changes[key]:
                    changes[key][col] = pd.to_datetime(changes[key][col], utc=True)
    if "workflow_runs" in changes:
        for col in ("created_at", "run_started_at", "updated_at"):
            changes["workflow_runs"][col] = pd.to_datetime(changes["workflow_runs"][col], utc=True)
    return dataclasses.replace(data, **changes)


# --------------------------------------------------------------------------------------------------------
# Model promotions (MLflow registry)
# --------------------------------------------------------------------------------------------------------

PROMOTION_COLUMNS = ["source_id", "repo", "model", "version", "previous_version", "target", "at", "at_source",
                     "window_start", "window_end", "creator", "creator_person", "creator_side", "promoter",
                     "promoter_person", "promoter_side", "rollback", "replaced_at", "two_key", "url", "run_id",
                     "local_date", "week"]


def _production(source: MlflowSource, target: str) -> bool:
    kind, _, name = target.partition(":")
    if kind == "alias":
        return name.lower() in {a.lower() for a in source.production_aliases}
    return kind == "stage" and name.lower() in {s.lower() for s in source.production_stages}


def model_promotions(data, cfg: EngagementConfig) -> pd.DataFrame:
    """Production promotions of registered model versions (see the module docstring), oldest first."""
    events, versions = data.mlflow_registry_events, data.mlflow_model_versions
    if _empty(events) or _empty(versions):
        return pd.DataFrame(columns=PROMOTION_COLUMNS)
    by_name = {s.display_name: s for s in cfg.sources.mlflow}
    ev = events[events["version"].notna()].merge(
        versions[["source_id", "repo", "model", "version", "user_id", "run_id", "url", "created_at"]],
        on=["source_id", "model", "version"], how="left")
    ev = ev[[_production(by_name.get(r, MlflowSource(tracking_uri="-")), t)
             for r, t in zip(ev["repo"], ev["target"], strict=True)]]
    if ev.empty:
        return pd.DataFrame(columns=PROMOTION_COLUMNS)
    ev = ev.assign(version=ev["version"].astype("int64"),
                   at_rank=ev["at_source"].map({"tag": 0, "registry": 1}).fillna(2))
    # One promotion seen through an alias and a stage in the same sweep is one promotion.
    ev = ev.sort_values(["at_rank", "at"]).drop_duplicates(["source_id", "model", "version", "window_end"])
    ev = ev.sort_values(["at", "source_id", "model", "version"]).reset_index(drop=True)
    creator = ev["user_id"]
    if not _empty(data.mlflow_runs):
        r = data.mlflow_runs
        run_user = r["mlflow_user"].where(r["mlflow_user"].notna(), r["user_id"])
        users = pd.DataFrame({"source_id": r["source_id"], "run_id": r["run_id"], "run_user": run_user})
        ru = ev[["source_id", "run_id"]].merge(users, on=["source_id", "run_id"], how="left")["run_user"]
        creator = creator.where(creator.notna(), ru.to_numpy())
    ev["creator"] = creator
    ev["promoter"] = ev["actor"]
    # Rollback: a version older than the one production held before it (per model, in promotion order).
    ev["replaced_at"] = pd.NaT
    rollback = np.zeros(len(ev), dtype=bool)
    replaced = [pd.NaT] * len(ev)
    for _key, group in ev.groupby(["source_id", "model"], sort=False):  # few promotions per model
        current, since = None, pd.NaT
        for i in group.index:
            v = int(ev.at[i, "version"])
            if current is not None and v < current:
                rollback[i], replaced[i] = True, since
            current, since = v, ev.at[i, "at"]
    ev["rollback"] = rollback
    ev["replaced_at"] = pd.to_datetime(pd.Series(replaced, index=ev.index), utc=True)
    who = _attribute_user(ev, "creator", "at", cfg)
    ev["creator_person"], ev["creator_side"] = who["person"].to_numpy(), who["side"].to_numpy()
    who = _attribute_user(ev, "promoter", "at", cfg)
    ev["promoter_person"] = who["person"].to_numpy()
    ev["promoter_side"] = np.where(ev["promoter"].isna(), "unknown", who["side"].to_numpy())
    ev["local_date"], ev["week"] = who["local_date"].to_numpy(), who["week"].to_numpy()
    same = (ev["promoter_person"].fillna(ev["promoter"]).astype(str).str.lower()
            == ev["creator_person"].fillna(ev["creator"]).astype(str).str.lower())
    two_key = (~same) & ev["promoter_side"].eq("internal")
    ev["two_key"] = pd.Series(two_key.to_numpy(), dtype=object).where(ev["promoter"].notna().to_numpy(), None)
    return ev[PROMOTION_COLUMNS]


def _attribute_user(ev: pd.DataFrame, column: str, at: str, cfg: EngagementConfig) -> pd.DataFrame:
    user = ev[column]
    frame = pd.DataFrame({"at": pd.to_datetime(ev[at], utc=True), "login": user, "login_kind": "mlflow",
                          "email": user.where(user.fillna("").astype(str).str.contains("@"), None)})
    return attribute(frame, cfg)
