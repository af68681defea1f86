"""Handover readiness (SPEC §10): who did which operation on which capability, exit readiness and its bus factor,
RACI drift, takeover status. Pure: `metrics.facts.Facts` in, frames out; the KPI modules exit_readiness.py and
raci_drift.py and the Readiness page read these frames.

**Operation items** (`handover_items`): one row per (operation, capability, item) with its actor (person, or the raw
identity when not on the roster), side on the item's local date (SPEC §3), week, and whether it was done
**unassisted** (runbook: completed by an internal executor with no vendor intervention; drill: an internal pass;
everything else: an internal actor):
- `commit`: non-merge commits by author, on the capabilities their paths touch (SPEC §6);
- `pr_merge`: merged PRs by author (GitHub), on the capabilities their files touch (the merger is not recorded);
- `review`: approving reviews on merged PRs by reviewer, on the PR's capabilities;
- `train_run`, `data_cut`, `deploy`, `rollback`: CI runs of that `[pipeline]` kind by triggering actor (every
  attempt; `schedule` runs excluded: their actor only edited the cron), on the capabilities whose `ci_workflows`
  match; data cuts made by tag count too, by tagger;
- `mlflow_run`: MLflow runs (SPEC §12) by their actor (`mlflow.user`, else `user_id`; every status; runs whose
  trigger is `schedule` excluded), on the capabilities whose `ci_workflows` match the experiment's name; a run of
  a `[pipeline]` kind's `mlflow_experiments` is also that kind's run item (`train_run`, ...);
- `model_promotion`: versions put in production in the MLflow registry (metrics.other_sources.model_promotions) by
  their promoter; open-source MLflow records no promoter, so such a promotion is `unattributed` (never internal) unless
  a version tag names one; a promotion is on no capability (listed in `[readiness].operations`, it counts
  engagement-wide: it names a release step);
- `runbook`: completed runbook executions by executor (`runbook:<name>` = one runbook), `drill`: restored drills by
  primary responder; on the capabilities carrying one of their `ticket_labels` (a capability without
  ticket_labels: tickets labelled with its key).

**Exit readiness** of capability C in week W: its operations are `[readiness].operations.C`, by default every kind
with an item on C in the engagement so far. An operation explicitly listed whose items no capability mapping narrows
(a pipeline kind or `mlflow_run` when C has no `ci_workflows`; `model_promotion` always; `runbook`/`drill` when C
has no `ticket_labels`; `runbook:<name>` always) counts its items engagement-wide: it names a pipeline step. An
operation is **covered** when at least `min_people` distinct internal people did it unassisted in weeks
W-window_weeks+1 .. W. Value = covered / operations; `n` (the **bus factor**) = the fewest such people over the
operations. Side counts: the window's items of those operations by actor side (beside the value). Engagement-wide:
covered / operations over all capabilities, `n` the smallest bus factor.

**RACI drift** of capability C (with `[raci.C]`) in week W: planned responsible/accountable = the plan's value of the
latest week at or before W; actual **responsible** = the side (internal or vendor) with most authored items on C in W
(commits, merged PRs, runs triggered, runbook executions), actual **accountable** = the side with most approving
reviews, merges of others' branches (a merge commit whose author is not the merged tip's author, on the
capabilities of the PR it merges or of that tip), deploy triggers (on every capability when no capability's
`ci_workflows` claims the deploy workflow: a release ships them all) and standing milestone signatures (of
milestones tied to C; untied milestones count for every capability). A tie is "shared", matching neither side; a
role with no item, or not planned yet, is not compared. Value = matched / compared roles (1, 0.5, 0; null when none
is compared). Engagement-wide: matched / compared over the capabilities with a plan.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engagement.config import Capability, EngagementConfig
from metrics.facts import Facts
from metrics.identity import attribute

ITEM_COLUMNS = ["operation", "capability", "week", "at", "person", "who", "side", "unassisted", "kind", "id", "url",
                "title", "repo", "runbook", "conclusion", "workflow", "labels"]
RUN_OPERATIONS = {"train": "train_run", "data_cut": "data_cut", "deploy": "deploy", "rollback": "rollback"}
SIDES = ("internal", "vendor", "unattributed", "bot")


def _items(operation: str, frame: pd.DataFrame, **columns) -> pd.DataFrame:
    out = pd.DataFrame({c: columns.get(c) for c in ITEM_COLUMNS}, index=frame.index)
    out["operation"] = operation
    for c, v in columns.items():
        out[c] = v.to_numpy() if isinstance(v, pd.Series) else v
    return out


def empty_items() -> pd.DataFrame:
    return pd.DataFrame(columns=ITEM_COLUMNS).astype({"week": "int64", "unassisted": bool})


def ticket_capabilities(labels: pd.Series, capabilities: list[Capability]) -> pd.DataFrame:
    """Pairs (row index, capability) for tickets carrying one of a capability's `ticket_labels` (or, for a
    capability without ticket_labels, its key as a label)."""
    pairs = []
    for cap in capabilities:
        wanted = {x.lower() for x in (cap.ticket_labels or [cap.key])}
        hit = labels.map(lambda ls, w=wanted: bool(w & {x.lower() for x in ls}))
        pairs.append(pd.DataFrame({"row": labels.index[hit.to_numpy(dtype=bool)], "capability": cap.key}))
    return pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame(columns=["row", "capability"])


def _on_capabilities(items: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Items once per capability in `pairs` (row, capability); unpaired items once with capability None."""
    if items.empty:
        return items
    paired = items.loc[pairs["row"]].assign(capability=pairs["capability"].to_numpy()) if len(pairs) else items.iloc[:0]
    rest = items.drop(index=set(pairs["row"])) if len(pairs) else items
    return pd.concat([paired, rest.assign(capability=None)], ignore_index=True)


def handover_items(facts: Facts) -> pd.DataFrame:
    """Every operation item of the engagement (see the module docstring)."""
    from metrics.pipeline import run_capabilities, tag_kinds

    parts = []
    commits = facts.countable_commits.merge(facts.commit_caps[["source_id", "sha", "capability"]],
                                            on=["source_id", "sha"])
    if len(commits):
        parts.append(_items("commit", commits, capability=commits["capability"], week=commits["week"],
                            at=commits["at"], person=commits["person"],
                            who=commits["person"].fillna(commits["email"]), side=commits["side"], kind="commit",
                            id=commits["sha"], url=facts.commit_links(commits["repo"], commits["sha"]),
                            title=commits["subject"], repo=commits["repo"]))
    gh = facts.github
    if gh.pr_source == "github" and len(gh.merged) and len(gh.pr_caps):
        prs = gh.merged.merge(gh.pr_caps, on=["source_id", "number"])
        parts.append(_items("pr_merge", prs, capability=prs["capability"], week=prs["week"], at=prs["merged_at"],
                            person=prs["person"], who=prs["person"].fillna(prs["author_login"]), side=prs["side"],
                            kind="pr", id=prs["repo"].astype(str) + "#" + prs["number"].astype(str),
                            url=prs["html_url"], title=prs["title"], repo=prs["repo"]))
        if len(gh.approvals):
            reviews = gh.approvals.merge(gh.pr_caps, on=["source_id", "number"]).merge(
                gh.merged[["source_id", "number", "repo"]], on=["source_id", "number"])
            parts.append(_items("review", reviews, capability=reviews["capability"], week=reviews["week"],
                                at=reviews["submitted_at"], person=reviews["person"],
                                who=reviews["person"].fillna(reviews["reviewer_login"]), side=reviews["side"],
                                kind="review", id=reviews["review_id"].astype(str), url=reviews["html_url"],
                                title="approved " + reviews["repo"].astype(str) + "#" + reviews["number"].astype(str),
                                repo=reviews["repo"]))
    runs = gh.runs
    if len(runs):
        runs = runs[runs["kind"].isin(list(RUN_OPERATIONS)) & runs["event"].ne("schedule")].reset_index(drop=True)
    if len(runs):
        items = _items("run", runs, week=runs["week"], at=runs["created_at"], person=runs["person"],
                       who=runs["person"].fillna(runs["triggering_login"]), side=runs["side"], kind="run",
                       id=runs["run_id"].astype(str) + "/" + runs["run_attempt"].astype(str), url=runs["html_url"],
                       title=runs["name"].fillna(runs["workflow_path"]).astype(str) + " (" + runs["event"].astype(str)
                       + ", " + runs["conclusion"].fillna("running").astype(str) + ")",
                       repo=runs["repo"] if "repo" in runs else None,  # hand-made frames may have no repo
                       conclusion=runs["conclusion"], workflow=runs["workflow_path"].fillna(runs["name"]))
        items["operation"] = runs["kind"].map(RUN_OPERATIONS).to_numpy()
        parts.append(_on_capabilities(items, run_capabilities(runs, facts.cfg.capabilities)))
    ml = gh.runs
    if len(ml) and "source_kind" in ml:
        ml = ml[ml["source_kind"].eq("mlflow") & ml["event"].ne("schedule")].reset_index(drop=True)
        if len(ml):
            items = _items("mlflow_run", ml, week=ml["week"], at=ml["created_at"], person=ml["person"],
                           who=ml["person"].fillna(ml["triggering_login"]), side=ml["side"], kind="mlflow_run",
                           id=ml["repo"].astype(str) + ":" + ml["run_id"].astype(str), url=ml["html_url"],
                           title="MLflow run in " + ml["name"].astype(str) + " ("
                           + ml["conclusion"].fillna("running").astype(str) + ")", repo=ml["repo"],
                           conclusion=ml["conclusion"], workflow=ml["name"])
            parts.append(_on_capabilities(items, run_capabilities(ml, facts.cfg.capabilities)))
    promotions = facts.model_promotions
    if len(promotions):
        p = promotions[promotions["week"].notna()].reset_index(drop=True)
        side = p["promoter_side"].where(p["promoter_side"].isin(SIDES), "unattributed")
        version = p["model"].astype(str) + " v" + p["version"].astype(str)
        parts.append(_items("model_promotion", p, capability=None, week=p["week"], at=p["at"],
                            person=p["promoter_person"], who=p["promoter_person"].fillna(p["promoter"]).fillna(
                                "unknown"), side=side, kind="model_promotion",
                            id=p["repo"].astype(str) + ":" + p["model"].astype(str) + "/" + p["version"].astype(str)
                            + "@" + p["at"].astype(str), url=p["url"],
                            title="promoted " + version + " to " + p["target"].astype(str)
                            + np.where(p["rollback"].astype(bool), " (rollback)", ""), repo=p["repo"]))
    tags = facts.data.tags
    if tags is not None and len(tags):
        cut = tags[tag_kinds(tags, facts.cfg.pipeline).eq("data_cut").to_numpy() & tags["at"].notna().to_numpy()]
        if len(cut):
            cut = attribute(cut.assign(name=cut["tagger_name"], email=cut["tagger_email"]).reset_index(drop=True),
                            facts.cfg)
            parts.append(_items("data_cut", cut, week=cut["week"], at=cut["at"], person=cut["person"],
                                who=cut["person"].fillna(cut["email"]), side=cut["side"], kind="tag",
                                id="tag " + cut["name"], title="data cut tag " + cut["name"], conclusion="success",
                                workflow="tag"))
    executions = facts.runbook_executions
    if len(executions):
        done = executions[executions["completed_at"].notna()].reset_index(drop=True)
        items = _items("runbook", done, week=done["completed_week"], at=done["completed_at"],
                       person=done["executor_person"], who=done["executor_person"].fillna(done["executor"]),
                       side=done["executor_side"], unassisted=done["unprompted_internal"].astype(bool), kind="ticket",
                       id=done["key"], url=done["url"], title="runbook " + done["runbook"].astype(str) + ": "
                       + done["title"].fillna("").astype(str), repo=done["repo"], runbook=done["runbook"],
                       labels=done["labels"])
        parts.append(_on_capabilities(items, ticket_capabilities(done["labels"], facts.cfg.capabilities)))
    drills = facts.drills
    if len(drills):
        done = drills[drills["restored_at"].notna()].reset_index(drop=True)
        items = _items("drill", done, week=done["restored_week"], at=done["restored_at"],
                       person=done["responder_person"], who=done["responder_person"].fillna(done["responder"]),
                       side=done["responder_side"], unassisted=done["internal_pass"].astype(bool), kind="ticket",
                       id=done["key"], url=done["url"], title="drill: " + done["title"].fillna("").astype(str),
                       repo=done["repo"], labels=done["labels"])
        items["title"] = items["title"] + np.where(done["internal_pass"], " — internal pass",
                                                   np.where(done["passed"], " — pass", " — fail"))
        parts.append(_on_capabilities(items, ticket_capabilities(done["labels"], facts.cfg.capabilities)))
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_items()
    items = pd.concat(parts, ignore_index=True)
    items["week"] = items["week"].astype("int64")
    items["at"] = pd.to_datetime(items["at"], utc=True)
    items["side"] = items["side"].fillna("unattributed")
    items["who"] = items["who"].fillna("unknown")
    unassisted = items["unassisted"].astype(object)
    items["unassisted"] = np.where(unassisted.isna(), items["side"].eq("internal"), unassisted).astype(bool)
    items["unassisted"] &= items["side"].eq("internal")
    items = items[items["week"] <= facts.now_week]
    return items.sort_values(["at", "operation", "id"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------------------
# Exit readiness
# --------------------------------------------------------------------------------------------------------

def _capability(cfg: EngagementConfig, key: str) -> Capability:
    return next(c for c in cfg.capabilities if c.key == key)


def operations(facts: Facts, capability: str) -> tuple[list[str], bool]:
    """The capability's operations and whether `[readiness]` lists them (else: kinds with an item on it)."""
    listed = facts.cfg.readiness.operations.get(capability)
    if listed is not None:
        return list(dict.fromkeys(listed)), True
    items = facts.handover_items
    mine = items[items["capability"] == capability]
    order = ["commit", "pr_merge", "review", "train_run", "data_cut", "deploy", "rollback", "runbook", "drill",
             "mlflow_run", "model_promotion"]
    return [op for op in order if (mine["operation"] == op).any()], False


def operation_items(facts: Facts, capability: str, operation: str, explicit: bool) -> pd.DataFrame:
    """The items of one operation of a capability (see the module docstring), each item once."""
    items = facts.handover_items
    name = None
    if operation.startswith("runbook:"):
        operation, name = "runbook", operation.split(":", 1)[1]
    wanted = (items["operation"] == operation).to_numpy(copy=True)
    if name is not None:
        wanted &= (items["runbook"].astype(str).str.lower() == name.lower()).to_numpy()
    else:
        cap = _capability(facts.cfg, capability)
        engagement_wide = explicit and (
            (operation in (*RUN_OPERATIONS.values(), "mlflow_run") and not cap.ci_workflows)
            or operation == "model_promotion"
            or (operation in ("runbook", "drill") and not cap.ticket_labels))
        if not engagement_wide:
            wanted &= (items["capability"] == capability).to_numpy()
    keys = items.loc[wanted, ["kind", "id"]]  # the wide item frame is taken once, after every filter
    return items.loc[keys.index[~keys.duplicated().to_numpy()]].assign(capability=capability)


def capability_operations(facts: Facts) -> list[tuple[str, str, bool, pd.DataFrame]]:
    """(capability, operation, explicit, its items) for every capability's operations, in capability and operation
    order: what the operation table and the per-person evidence both read (`Facts.capability_operations` keeps it)."""
    out = []
    for cap in facts.cfg.capability_keys:
        ops, explicit = operations(facts, cap)
        out += [(cap, op, explicit, operation_items(facts, cap, op, explicit)) for op in ops]
    return out


OPERATION_COLUMNS = ["capability", "week", "operation", "explicit", "covered", "internal_people", "people",
                     "min_people", "internal", "vendor", "unattributed", "bots", "last_internal", "last_internal_at",
                     "last_vendor", "last_vendor_at"]


def _last_by(items: pd.DataFrame, side: str, keys: pd.DataFrame) -> pd.DataFrame:
    """For each (group, week) of `keys`: `who` and `at` of the last item (in item order, `position`) of `side` in
    the group up to the week's end."""
    mine = items[items["side"] == side]
    latest = mine.groupby(["group", "week"], as_index=False)["position"].max().sort_values(["group", "week"])
    latest["position"] = latest.groupby("group")["position"].cummax()
    grid = pd.merge_asof(keys.reset_index().sort_values("week", kind="stable"), latest.sort_values("week"),
                         on="week", by="group").set_index("index").sort_index()
    found = grid["position"].notna().to_numpy()
    who = pd.Series(None, index=keys.index, dtype=object)
    at = pd.Series(pd.NaT, index=keys.index, dtype=items["at"].dtype)
    picked = items.iloc[grid.loc[found, "position"].astype("int64").to_numpy()]
    who[found] = picked["who"].to_numpy()
    at[found] = picked["at"].to_numpy()
    if not found.any():  # the dtypes a table of Python rows gets (what the table was built from before)
        at = at.astype("datetime64[s]") if at.dt.tz is None else at.dt.tz_localize(None).astype("datetime64[s]")
    return pd.DataFrame({"who": who.infer_objects(), "at": at})


def operation_rows(ops: list[tuple[str, str, bool, pd.DataFrame]]) -> pd.DataFrame:
    """The items of `capability_operations` in one narrow frame: week, at, who, side, unassisted, id, `group` (the
    index of its (capability, operation) in `ops`) and `position` (item order within a group)."""
    columns = ["week", "at", "who", "side", "unassisted", "id"]
    parts = [items[columns].assign(group=g) for g, (_cap, _op, _explicit, items) in enumerate(ops) if len(items)]
    rows = (pd.concat(parts, ignore_index=True) if parts else
            pd.DataFrame({"week": pd.Series(dtype="int64"), "at": pd.Series(dtype="datetime64[ns, UTC]"),
                          "who": pd.Series(dtype=object), "side": pd.Series(dtype=object),
                          "unassisted": pd.Series(dtype=bool), "id": pd.Series(dtype=object),
                          "group": pd.Series(dtype="int64")}))
    rows["week"] = rows["week"].astype("int64")
    rows["position"] = np.arange(len(rows))
    return rows


def operation_table(facts: Facts) -> pd.DataFrame:
    """One row per (capability, week, operation): coverage in the trailing window, the internal people who did it
    unassisted, the window's items by side, the last internal and the last vendor to do it up to the week's end.
    Computed for every (capability, operation, week) at once: each item falls in the windows of the weeks
    item.week .. item.week + window_weeks - 1."""
    r = facts.cfg.readiness
    weeks = [w for w in facts.weeks if w <= facts.now_week]
    ops = facts.capability_operations
    if not ops or not weeks:
        return pd.DataFrame([], columns=OPERATION_COLUMNS)
    groups = pd.DataFrame([(cap, op, explicit) for cap, op, explicit, _items in ops],
                          columns=["capability", "operation", "explicit"])
    keys = pd.DataFrame({"group": np.repeat(np.arange(len(ops)), len(weeks)),
                         "week": np.tile(np.array(weeks, dtype="int64"), len(ops))})
    items = facts.operation_rows
    # Each item once per week whose window holds it; only the reported weeks are kept.
    offsets = np.arange(r.window_weeks)
    spread = items.loc[items.index.repeat(len(offsets))].assign(
        week=np.repeat(items["week"].to_numpy(), len(offsets)) + np.tile(offsets, len(items)))
    spread = spread[spread["week"].isin(weeks)]
    counts = (spread.groupby(["group", "week", "side"]).size().unstack("side", fill_value=0)
              .reindex(columns=list(SIDES), fill_value=0))
    counts.columns.name = None
    doers = spread[spread["unassisted"].astype(bool)].drop_duplicates(["group", "week", "who"])
    doers = doers.sort_values("who", kind="stable")
    people = doers.groupby(["group", "week"]).agg(people=("who", lambda s: ", ".join(s)),
                                                  internal_people=("who", "size"))
    table = keys.join(counts, on=["group", "week"]).join(people, on=["group", "week"])
    last_in, last_out = _last_by(items, "internal", keys), _last_by(items, "vendor", keys)
    out = pd.DataFrame({
        "capability": groups["capability"].to_numpy()[keys["group"]], "week": keys["week"],
        "operation": groups["operation"].to_numpy()[keys["group"]],
        "explicit": groups["explicit"].to_numpy(dtype=bool)[keys["group"]]})
    out["internal_people"] = table["internal_people"].fillna(0).astype("int64")
    out.insert(4, "covered", out["internal_people"] >= r.min_people)
    out["people"] = table["people"].fillna("").astype(object).infer_objects()
    out["min_people"] = r.min_people
    for col, side in (("internal", "internal"), ("vendor", "vendor"), ("unattributed", "unattributed"),
                      ("bots", "bot")):
        out[col] = table[side].fillna(0).astype("int64")
    out["last_internal"], out["last_internal_at"] = last_in["who"], last_in["at"]
    out["last_vendor"], out["last_vendor_at"] = last_out["who"], last_out["at"]
    return out[OPERATION_COLUMNS]


def exit_readiness_rows(facts: Facts) -> pd.DataFrame:
    """Weekly rows of exit_readiness: per capability and engagement-wide (see the module docstring)."""
    table = facts.operation_table
    cols = ["week", "capability", "internal", "vendor", "unattributed", "bots", "value", "n", "operations", "covered"]
    if table.empty or facts.handover_items.empty:  # nothing collected yet: no value, not 0% ready
        return pd.DataFrame(columns=cols)
    g = table.groupby(["capability", "week"], sort=False)
    per_cap = g.agg(internal=("internal", "sum"), vendor=("vendor", "sum"), unattributed=("unattributed", "sum"),
                    bots=("bots", "sum"), operations=("operation", "size"), covered=("covered", "sum"),
                    n=("internal_people", "min")).reset_index()
    overall = per_cap.groupby("week", sort=False).agg(
        internal=("internal", "sum"), vendor=("vendor", "sum"), unattributed=("unattributed", "sum"),
        bots=("bots", "sum"), operations=("operations", "sum"), covered=("covered", "sum"), n=("n", "min")
    ).reset_index().assign(capability=None)
    out = pd.concat([overall, per_cap], ignore_index=True)
    out["value"] = out["covered"] / out["operations"]
    for col in ("internal", "vendor", "unattributed", "bots", "operations", "covered"):
        out[col] = out[col].astype("int64")
    out["n"] = out["n"].astype("float64")
    return out[cols]


def person_rows(facts: Facts, week: int, capability: str | None) -> pd.DataFrame:
    """Who did each operation in the window ending with `week`: one row per (capability, operation, actor)."""
    r = facts.cfg.readiness
    caps = [capability] if capability is not None else facts.cfg.capability_keys
    ops = facts.capability_operations
    items = facts.operation_rows
    groups = pd.DataFrame([(cap, op) for cap, op, _explicit, _items in ops], columns=["capability", "operation"])
    in_scope = groups.index[groups["capability"].isin(caps)]
    window = items[items["group"].isin(in_scope) & (items["week"] <= week) & (items["week"] > week - r.window_weeks)]
    if window.empty:
        return pd.DataFrame(columns=["capability", "operation", "who", "side", "count", "unassisted", "at",
                                     "first_week", "last_week"])
    rows = window.groupby(["group", "who", "side"], dropna=False).agg(
        count=("id", "size"), unassisted=("unassisted", "sum"), at=("at", "max"), first_week=("week", "min"),
        last_week=("week", "max")).reset_index()
    group = rows.pop("group").to_numpy()
    return rows.assign(capability=groups["capability"].to_numpy()[group],
                       operation=groups["operation"].to_numpy()[group])


# --------------------------------------------------------------------------------------------------------
# Takeover status (SPEC §11 takeover_weeks, read from the ladder)
# --------------------------------------------------------------------------------------------------------

def takeover_status(ladder: pd.DataFrame, capability: str, week: int) -> str:
    """ "taken over in week 6 (4 weeks after its first activity)" once the measured stage reached 3 and stayed >= 3
    through `week`; else "not yet: stage 2 Internal leads, vendor reviews" (or "no activity yet")."""
    from metrics.ladder import STAGE_NAMES

    rows = ladder[(ladder["capability"] == capability) & (ladder["week"] <= week)].sort_values("week")
    measured = rows[rows["stage"].notna()]
    if measured.empty:
        return "no activity yet"
    below = measured[measured["stage"] < 3]
    since = measured[measured["week"] > below["week"].max()] if len(below) else measured
    if len(since) and since["stage"].iloc[-1] >= 3:
        first = int(since["week"].iloc[0])
        active = int(measured["week"].iloc[0])
        return f"taken over in week {first} ({first - active} weeks after its first activity)"
    stage = int(measured["stage"].iloc[-1])
    return f"not yet: stage {stage} {STAGE_NAMES[stage]}"


# --------------------------------------------------------------------------------------------------------
# RACI drift
# --------------------------------------------------------------------------------------------------------

RACI_COLUMNS = ["capability", "week", "role", "planned", "actual", "internal", "vendor", "matches"]


def planned_role(plan: dict[int, str], week: int) -> str | None:
    earlier = [w for w in plan if w <= week]
    return plan[max(earlier)] if earlier else None


def _merges_of_others(facts: Facts) -> pd.DataFrame:
    """Merge commits whose author is not the author of the merged tip, once per capability of the PR they merge
    (GitHub, by merge commit sha) or else of that tip commit."""
    commits = facts.commits
    merges = commits[commits["is_merge"].astype(bool)] if len(commits) else commits
    if merges.empty:
        return pd.DataFrame(columns=[*commits.columns, "capability"])
    tip = merges["parents"].str.split().str[1]
    by_sha = commits.drop_duplicates("sha").set_index("sha")
    known = tip.isin(by_sha.index).to_numpy()
    merges, tip = merges[known], tip[known]
    tip_who = by_sha.loc[tip, "person"].fillna(by_sha.loc[tip, "email"]).to_numpy()
    mine = merges["person"].fillna(merges["email"]).to_numpy()
    merges = merges[mine != tip_who].assign(tip=tip[mine != tip_who].to_numpy())
    caps = []
    gh = facts.github
    if gh.pr_source == "github" and len(gh.merged) and "merge_commit_sha" in gh.merged:
        prs = gh.merged[["source_id", "number", "merge_commit_sha"]].merge(gh.pr_caps, on=["source_id", "number"])
        caps.append(merges.merge(prs.rename(columns={"merge_commit_sha": "sha"})[["sha", "capability"]], on="sha"))
    from_tip = merges.merge(facts.commit_caps[["sha", "capability"]].rename(columns={"sha": "tip"}), on="tip")
    if caps and len(caps[0]):
        from_tip = from_tip[~from_tip["sha"].isin(caps[0]["sha"])]
    caps.append(from_tip)
    return pd.concat(caps, ignore_index=True).drop_duplicates(["sha", "capability"])


def raci_items(facts: Facts) -> pd.DataFrame:
    """Responsible and accountable items per capability (see the module docstring), with a `role` column."""
    items = facts.handover_items
    keys = facts.cfg.capability_keys
    authored = items[items["operation"].isin(["commit", "pr_merge", "train_run", "data_cut", "deploy", "rollback",
                                              "runbook"]) & items["capability"].notna()]
    parts = [authored.assign(role="responsible")]
    reviews = items[(items["operation"] == "review") & items["capability"].notna()]
    parts.append(reviews.assign(role="accountable"))
    deploys = items[items["operation"] == "deploy"]
    claimed = deploys[deploys["capability"].notna()]
    unclaimed = deploys[deploys["capability"].isna() & ~deploys["id"].isin(claimed["id"])]
    parts.append(claimed.assign(role="accountable", operation="deploy trigger"))
    parts += [unclaimed.assign(role="accountable", capability=k, operation="deploy trigger") for k in keys]
    merges = _merges_of_others(facts)
    if len(merges):
        parts.append(_items("merge", merges, capability=merges["capability"], week=merges["week"], at=merges["at"],
                            person=merges["person"], who=merges["person"].fillna(merges["email"]),
                            side=merges["side"], kind="commit", id=merges["sha"],
                            url=facts.commit_links(merges["repo"], merges["sha"]), title=merges["subject"],
                            repo=merges["repo"]).assign(role="accountable", unassisted=False))
    signatures = getattr(facts.data, "signatures", None)
    if signatures is not None and len(signatures):
        mine = signatures[signatures["engagement"] == facts.cfg.engagement.id]
        revoked = set(mine.loc[mine["action"] == "revoke", "revokes_id"].dropna().astype(int))
        standing = mine[(mine["action"] == "sign") & ~mine["id"].isin(revoked)]  # as metrics.acceptance says
        tied = {m.id: m.capability for m in facts.cfg.milestones}
        standing = standing[standing["milestone"].isin(list(tied))]
        if len(standing):
            signed = attribute(standing.reset_index(drop=True), facts.cfg)
            claimed_side = signed["claimed_side"].where(signed["claimed_side"].isin(["internal", "vendor"]))
            signed["side"] = np.where(signed["side"] == "unattributed", claimed_side.fillna("unattributed"),
                                      signed["side"])
            for k in keys:
                rows = signed[signed["milestone"].map(lambda ms, k=k: tied[ms] in (None, k))]
                if len(rows):
                    parts.append(_items("signature", rows, capability=k, week=rows["week"], at=rows["at"],
                                        person=rows["person"], who=rows["person"].fillna(rows["name"]),
                                        side=rows["side"], kind="signature", id="signature " + rows["id"].astype(str),
                                        title="signed milestone " + rows["milestone"].astype(str))
                                 .assign(role="accountable"))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=[*ITEM_COLUMNS, "role"])
    out = pd.concat(parts, ignore_index=True)
    out["week"] = out["week"].astype("int64")
    out["at"] = pd.to_datetime(out["at"], utc=True)
    return out[out["week"] <= facts.now_week].drop_duplicates(["capability", "role", "kind", "id"])


def _actual(internal: int, vendor: int) -> str | None:
    if internal == vendor:
        return None if internal == 0 else "shared"
    return "internal" if internal > vendor else "vendor"


def raci_table(facts: Facts) -> pd.DataFrame:
    """One row per (capability with a plan, week, role): planned side, actual side, item counts, whether they match
    (None when not compared). The items are counted per (capability, week, role, side) in one pass."""
    items = facts.raci_items
    weeks = [w for w in facts.weeks if w <= facts.now_week]
    plans = list(facts.cfg.raci.items())
    roles = ("responsible", "accountable")
    if not plans or not weeks:
        return pd.DataFrame([], columns=RACI_COLUMNS)
    grid = pd.MultiIndex.from_product([[cap for cap, _plan in plans], weeks, list(roles)],
                                      names=["capability", "week", "role"])
    sided = items[items["side"].isin(["internal", "vendor"])]
    counts = pd.DataFrame(0, index=grid, columns=["internal", "vendor"])
    if len(sided):
        found = (sided.groupby(["capability", "week", "role", "side"]).size().unstack("side", fill_value=0)
                 .reindex(columns=["internal", "vendor"], fill_value=0))
        counts = found.reindex(grid, fill_value=0)
    internal, vendor = counts["internal"].astype("int64").tolist(), counts["vendor"].astype("int64").tolist()
    # One value per grid cell (plans x weeks x roles: configuration-sized, not data-sized).
    planned = [planned_role(getattr(plan, role), week) for _cap, plan in plans for week in weeks for role in roles]
    actual = [_actual(i, v) for i, v in zip(internal, vendor, strict=True)]
    matches = [None if p is None or a is None else p == a for p, a in zip(planned, actual, strict=True)]
    return pd.DataFrame({"capability": grid.get_level_values("capability").tolist(),
                         "week": grid.get_level_values("week").tolist(),
                         "role": grid.get_level_values("role").tolist(), "planned": planned, "actual": actual,
                         "internal": internal, "vendor": vendor, "matches": matches}, columns=RACI_COLUMNS)


def raci_rows(facts: Facts) -> pd.DataFrame:
    """Weekly rows of raci_drift per capability with a plan and engagement-wide (see the module docstring)."""
    table = facts.raci_table
    cols = ["week", "capability", "internal", "vendor", "unattributed", "bots", "value", "responsible_match",
            "accountable_match"]
    if table.empty or facts.raci_items.empty:
        return pd.DataFrame(columns=cols)
    items = facts.raci_items
    counts = (items.groupby(["capability", "week", "side"]).size().unstack("side", fill_value=0)
              .reindex(columns=list(SIDES), fill_value=0).rename(columns={"bot": "bots"}).reset_index()
              if len(items) else pd.DataFrame(columns=["capability", "week", "internal", "vendor", "unattributed",
                                                       "bots"]))
    counts.columns.name = None
    t = table.assign(compared=table["matches"].notna(), matched=table["matches"].eq(True))
    per_cap = t.groupby(["capability", "week"], sort=False).agg(compared=("compared", "sum"),
                                                                 matched=("matched", "sum")).reset_index()
    for role in ("responsible", "accountable"):
        r = t[t["role"] == role][["capability", "week", "matches"]].rename(columns={"matches": f"{role}_match"})
        r[f"{role}_match"] = r[f"{role}_match"].map({True: 1.0, False: 0.0})
        per_cap = per_cap.merge(r, on=["capability", "week"], how="left")
    per_cap = per_cap.merge(counts, on=["capability", "week"], how="left")
    overall = per_cap.groupby("week", sort=False)[["compared", "matched", "internal", "vendor", "unattributed",
                                                   "bots"]].sum().reset_index().assign(capability=None)
    out = pd.concat([overall, per_cap], ignore_index=True)
    for col in ("internal", "vendor", "unattributed", "bots"):
        out[col] = out[col].fillna(0).astype("int64")
    out["value"] = (out["matched"] / out["compared"].where(out["compared"] > 0)).astype("float64")
    for col in ("responsible_match", "accountable_match"):
        if col not in out:
            out[col] = np.nan
    return out[cols]


# --------------------------------------------------------------------------------------------------------
# The Readiness section (page, weekly review, steering pack)
# --------------------------------------------------------------------------------------------------------

BOARD_COLUMNS = ["capability", "exit_readiness", "covered", "operations", "bus_factor", "line_share", "internal_lines",
                 "vendor_lines", "takeover"]
BOARD_LABELS = {"capability": "Capability", "exit_readiness": "Exit readiness", "covered": "Operations covered",
                "operations": "Operations", "bus_factor": "Bus factor", "line_share": "Internal line share",
                "internal_lines": "Internal lines", "vendor_lines": "Vendor lines", "takeover": "Takeover"}
UNCOVERED_COLUMNS = ["capability", "operation", "internal_people", "people", "min_people", "last_vendor",
                     "last_vendor_at", "last_internal", "last_internal_at"]
UNCOVERED_LABELS = {"capability": "Capability", "operation": "Operation", "internal_people": "Internal people",
                    "people": "Who (internal)", "min_people": "Needed", "last_vendor": "Last vendor to do it",
                    "last_vendor_at": "On", "last_internal": "Last internal", "last_internal_at": "On (internal)"}
RACI_BOARD_COLUMNS = ["capability", "role", "planned", "actual", "internal", "vendor", "status"]
RACI_LABELS = {"capability": "Capability", "role": "Role", "planned": "Planned", "actual": "Actual",
               "internal": "Internal items", "vendor": "Vendor items", "status": "Status"}


def _row_value(m, kpi: str, week: int, capability: str | None, column: str = "value"):
    row = m.kpi_row(kpi, week, capability)
    if row is None or column not in row or pd.isna(row[column]):
        return None
    return row[column]


def readiness_board(m, week: int) -> pd.DataFrame:
    """Per capability in the week: exit readiness (covered / operations), bus factor, internal line share (and its
    lines), takeover status. `m` is an EngagementMetrics."""
    rows = []
    for cap in m.cfg.capability_keys:
        value = _row_value(m, "exit_readiness", week, cap)
        rows.append({
            "capability": cap, "exit_readiness": value,
            "covered": _row_value(m, "exit_readiness", week, cap, "covered"),
            "operations": _row_value(m, "exit_readiness", week, cap, "operations"),
            "bus_factor": _row_value(m, "exit_readiness", week, cap, "n"),
            "line_share": _row_value(m, "internal_line_share", week, cap),
            "internal_lines": _row_value(m, "internal_line_share", week, cap, "internal"),
            "vendor_lines": _row_value(m, "internal_line_share", week, cap, "vendor"),
            "takeover": takeover_status(m.ladder, cap, week) if len(m.ladder) else "no activity yet"})
    board = pd.DataFrame(rows, columns=BOARD_COLUMNS)
    for col in ("covered", "operations", "bus_factor", "internal_lines", "vendor_lines"):
        board[col] = board[col].astype("Int64")
    return board


def uncovered_operations(m, week: int) -> pd.DataFrame:
    """The operations no `min_people` internal people did unassisted in the window ending with the week, with the
    last vendor (and the last internal person) to do them."""
    table = m.facts.operation_table if m.facts is not None else pd.DataFrame()
    if table.empty:
        return pd.DataFrame(columns=UNCOVERED_COLUMNS)
    rows = table[(table["week"] == week) & ~table["covered"].astype(bool)]
    out = rows[UNCOVERED_COLUMNS].reset_index(drop=True).copy()
    for col in ("last_vendor_at", "last_internal_at"):
        out[col] = pd.to_datetime(out[col], utc=True).dt.strftime("%Y-%m-%d").astype(object).where(
            out[col].notna(), None)
    return out


def raci_board(m, week: int) -> pd.DataFrame:
    """Planned vs actual side per capability with a plan and role in the week; status: as planned, DRIFT, or not
    compared (no plan yet, or no item)."""
    table = m.facts.raci_table if m.facts is not None else pd.DataFrame()
    if table.empty:
        return pd.DataFrame(columns=RACI_BOARD_COLUMNS)
    rows = table[table["week"] == week].reset_index(drop=True)
    status = np.where(rows["matches"].isna(), "not compared",
                      np.where(rows["matches"].eq(True), "as planned", "DRIFT"))
    planned = rows["planned"].astype(object).where(rows["planned"].notna(), "no plan yet")
    actual = rows["actual"].astype(object).where(rows["actual"].notna(), "no items")
    out = rows.assign(status=status, planned=planned, actual=actual)
    return out[RACI_BOARD_COLUMNS]
