"""`internal_train_share` (SPEC §5): runs of the `train` kind whose triggering actor is internal / internal or
vendor, each re-run attempt counted, `schedule` runs counted apart (`scheduled`; their actor is whoever last
edited the cron). `n` = train runs in the side counts. CI runs of a capability's `ci_workflows` are ladder
activity (SPEC §6; the run source's KPI declares them). docs/metrics.md."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.facts import Facts, no_rows
from metrics.kpis.base import KpiSpec, empty_evidence, evidence_frame, iso


def compute(facts: Facts) -> pd.DataFrame:
    gh = facts.github
    return no_rows() if gh.runs.empty else facts.grid(gh.train_share, capabilities=False)


def run_evidence(runs: pd.DataFrame, counted=True) -> pd.DataFrame:
    if runs.empty:
        return empty_evidence("event", "conclusion")
    conclusion = runs["conclusion"].fillna("not concluded").astype(str)
    # An MLflow run (SPEC §12) is its own evidence kind, named by its run id and run name; CI runs by id/attempt.
    mlflow = runs["source_kind"].eq("mlflow").to_numpy() if "source_kind" in runs else np.zeros(len(runs), bool)
    ci_id = runs["run_id"].astype(str) + "/" + runs["run_attempt"].astype(str)
    ci_title = (runs["name"].astype(str) + " (" + runs["event"].astype(str) + ", attempt " +
                runs["run_attempt"].astype(str) + ", " + conclusion + ")")
    run_title = (runs["name"].astype(str) + ": " + runs.get("display_title", runs["name"]).fillna("").astype(str) +
                 " (" + runs["event"].astype(str) + ", " + conclusion + ")")
    return evidence_frame(
        kind=np.where(mlflow, "mlflow_run", "run"), id=np.where(mlflow, runs["run_id"].astype(str), ci_id),
        url=runs["html_url"], at=iso(runs["created_at"]), person=runs["person"].fillna(runs["triggering_login"]),
        side=runs["side"], counted=counted, title=np.where(mlflow, run_title, ci_title),
        repo=runs["repo"] if "repo" in runs else None, event=runs["event"], conclusion=runs["conclusion"])


def evidence(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    runs = facts.github.runs
    if capability is not None or runs.empty:
        return empty_evidence("event", "conclusion")
    train = runs[runs["kind"].eq("train") & (runs["week"] == week)].sort_values(["created_at", "run_id",
                                                                                  "run_attempt"])
    return run_evidence(train, counted=train["event"].ne("schedule").to_numpy())


def activity(facts: Facts) -> pd.DataFrame:
    """Ladder items: CI runs of each capability's `ci_workflows` (any pipeline kind), by triggering actor, week
    created; scheduled runs are left out (their actor is whoever edited the cron)."""
    from metrics.pipeline import run_capabilities

    runs = facts.github.runs
    if runs.empty:
        return empty_evidence()
    runs = runs[runs["event"].ne("schedule")]
    pairs = run_capabilities(runs, facts.cfg.capabilities)
    if pairs.empty:
        return empty_evidence()
    hit = runs.loc[pairs["row"].to_numpy()]
    ev = run_evidence(hit)
    ev["id"] = hit["source_id"].astype(str).to_numpy() + ":" + ev["id"].to_numpy()  # unique across repositories
    return ev.assign(capability=pairs["capability"].to_numpy(), week=hit["week"].to_numpy())


SPEC = KpiSpec(
    key="internal_train_share", label="Internal train share", unit="share", direction="higher",
    definition="Runs of train workflows whose triggering actor (who started that attempt) is internal / internal "
               "or vendor; re-runs count, scheduled runs are counted apart.",
    compute=compute, evidence=evidence, activity=activity, default_target=0.7, capabilities=False,
    page="retraining")
