"""The competency matrix (SPEC §10): one row per (person, capability, week) with the level reached on a seed-style
rubric — 0 none yet, 1 beginner, 2 intermediate, 3 independent — from evidence in the trailing
`[readiness].window_weeks` weeks ending with the week, never from attendance. `python -m metrics competency`.

A rubric gives each level a list of alternatives, any one of which suffices; an alternative is one evidence kind or
several joined by "+" (all of them in the window). The level reached is the highest level with a satisfied
alternative (a lower level need not be met separately: a drill pass shows more than an acknowledgement).
`evidence_count` = the items in the window of the kinds that satisfy that level. `[competency.<capability>]` in the
engagement file replaces the default rubric of that capability; capabilities with neither have no rows.

Evidence kinds (all by the person, in the window; "on C" = mapped to the capability as in metrics/readiness.py):
- `commit` — authored a non-merge commit on C; `merged_change` — authored a PR merged on C, or a commit on C of the
  tracked branch (it is merged, however it got there: squash, rebase or push); `review` — approved a merged PR on C;
- `data_cut`, `train_run`, `deploy`, `rollback` — triggered a run of that pipeline kind (any capability: the rubric
  names the step); `fixed_<kind>` — triggered the next successful run of a workflow after a failed one of it;
- `runbook` — executed a runbook of C (its labels, or named after C) to completion; `runbook:<name>` — that runbook;
- `drill_ack` — moved a drill or alert ticket (labelled `[drills].label` or "alert") of C, or was its primary
  responder; `drill_pass` — primary responder of an internal drill pass (within SLA, postmortem present) of C;
- `contract_change` — a commit changing a file under the rubric's `contract_paths` (default `**/schema*`,
  `**/*contract*`);
- `change_then_train` — triggered a train run after merging a change on C within the previous window;
- `rehearsal` — triggered the train run of an internal rehearsal retrain (SPEC §11: a data cut, a successful train, an
  evaluation run and a successful staging deploy, each triggered by an internal person in that order, with no
  vendor-triggered run of those kinds between the cut and the deploy).

Default rubric (the consulting framework's, SPEC §10): data — beginner `data_cut` or `runbook`, intermediate
`merged_change`, independent `contract_change + fixed_data_cut`; training — beginner `runbook`, intermediate
`change_then_train`, independent `rehearsal`; operations (and monitoring) — beginner `drill_ack`, intermediate
`commit` (alert thresholds live under its paths), independent `drill_pass`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pathspec

from engagement.config import CompetencyRubric
from metrics.facts import Facts
from metrics.identity import affiliation_table, attribute

LEVELS = ("beginner", "intermediate", "independent")
LEVEL_NAMES = {0: "none yet", 1: "beginner", 2: "intermediate", 3: "independent"}
_OPS = {"beginner": ["drill_ack"], "intermediate": ["commit"], "independent": ["drill_pass"]}
DEFAULT_RUBRICS: dict[str, dict[str, list[str]]] = {
    "data": {"beginner": ["data_cut", "runbook"], "intermediate": ["merged_change"],
             "independent": ["contract_change + fixed_data_cut"]},
    "training": {"beginner": ["runbook"], "intermediate": ["change_then_train"], "independent": ["rehearsal"]},
    "operations": _OPS,
    "monitoring": _OPS,
}
ROW_COLUMNS = ["person", "side", "capability", "week", "level", "level_name", "evidence_count"]
ITEM_COLUMNS = ["who", "capability", "evidence", "week", "at", "kind", "id", "url", "title"]


def rubrics(facts: Facts) -> dict[str, CompetencyRubric]:
    """The rubric of each capability that has one: `[competency]`, else the default of its key."""
    out = {}
    for key in facts.cfg.capability_keys:
        if key in facts.cfg.competency:
            out[key] = facts.cfg.competency[key]
        elif key in DEFAULT_RUBRICS:
            out[key] = CompetencyRubric(**DEFAULT_RUBRICS[key])
    return out


def alternatives(rubric: CompetencyRubric, level: str) -> list[list[str]]:
    return [[k.strip() for k in alt.split("+") if k.strip()] for alt in getattr(rubric, level)]


def _as_items(frame: pd.DataFrame, evidence: str, capability) -> pd.DataFrame:
    out = frame.reindex(columns=["who", "week", "at", "kind", "id", "url", "title"]).copy()
    out["capability"] = capability if not isinstance(capability, pd.Series) else capability.to_numpy()
    out["evidence"] = evidence
    return out[ITEM_COLUMNS]


def _fixed_runs(items: pd.DataFrame) -> pd.DataFrame:
    """Successful runs that are the next success of their workflow after a failed run of it."""
    runs = items[items["kind"] == "run"].drop_duplicates("id").sort_values("at", kind="stable")
    runs = runs[runs["conclusion"].isin(["success", "failure"])]
    if runs.empty:
        return runs
    previous = runs.groupby("workflow")["conclusion"].shift()
    return runs[(runs["conclusion"] == "success") & (previous == "failure")]


def _ticket_acks(facts: Facts, capability: str) -> pd.DataFrame:
    """Status changes by anyone on drill/alert tickets of the capability (and their primary responders)."""
    from metrics.readiness import ticket_capabilities
    from metrics.tickets import label_lists

    if not facts.has_tickets:
        return pd.DataFrame(columns=["who", "week", "at", "kind", "id", "url", "title"])
    tickets = facts.data.tickets.assign(labels=label_lists(facts.data.tickets))
    wanted = {facts.cfg.drills.label.lower(), "alert"}
    alerting = tickets[tickets["labels"].map(lambda ls: bool(wanted & {x.lower() for x in ls}))].reset_index(drop=True)
    pairs = ticket_capabilities(alerting["labels"], facts.cfg.capabilities)
    mine = alerting.loc[pairs.loc[pairs["capability"] == capability, "row"]]
    if mine.empty:
        return pd.DataFrame(columns=["who", "week", "at", "kind", "id", "url", "title"])
    events = facts.ticket_events
    moves = events[(events["kind"] == "status")].merge(mine[["source_id", "key", "url", "title"]].rename(
        columns={"key": "ticket_key"}), on=["source_id", "ticket_key"])
    parts = []
    if len(moves):
        moves = attribute(moves.reset_index(drop=True), facts.cfg)
        parts.append(pd.DataFrame({
            "who": moves["person"].fillna(moves["name"]).fillna(moves["login"]).to_numpy(),
            "week": moves["week"].to_numpy(), "at": moves["at"].to_numpy(), "kind": "ticket",
            "id": moves["ticket_key"].to_numpy(), "url": moves["url"].to_numpy(),
            "title": ("moved to " + moves["to_name"].fillna("?") + ": " + moves["title"].fillna("")).to_numpy()}))
    drills = facts.drills
    if len(drills):
        mine_drills = drills.merge(mine[["source_id", "key"]], on=["source_id", "key"])
        mine_drills = mine_drills[mine_drills["responder"].notna()]
        if len(mine_drills):
            at = mine_drills["restored_at"].fillna(mine_drills["created_at"])
            parts.append(pd.DataFrame({
                "who": mine_drills["responder_person"].fillna(mine_drills["responder"]).to_numpy(),
                "week": facts.week_series(at).to_numpy(), "at": at.to_numpy(), "kind": "ticket",
                "id": mine_drills["key"].to_numpy(), "url": mine_drills["url"].to_numpy(),
                "title": ("primary responder: " + mine_drills["title"].fillna("")).to_numpy()}))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["who", "week", "at", "kind", "id", "url", "title"])
    out = pd.concat(parts, ignore_index=True)
    return out[out["week"].notna()].drop_duplicates(["who", "id"])


def _contract_commits(facts: Facts, globs: list[str]) -> pd.DataFrame:
    files = facts.data.commit_files
    if files is None or files.empty or not globs:
        return facts.countable_commits.iloc[:0]
    spec = pathspec.GitIgnoreSpec.from_lines(globs)
    paths = pd.Series(files["path"].unique())
    hit = set(paths[paths.map(spec.match_file).to_numpy(dtype=bool)])
    shas = files.loc[files["path"].isin(hit), ["source_id", "sha"]].drop_duplicates()
    return facts.countable_commits.merge(shas, on=["source_id", "sha"])


def rehearsal_cycles(facts: Facts) -> pd.DataFrame:
    """Internal rehearsal retrains (SPEC §11), one row per cycle: the train run that closes it (who, at, id, url),
    the cut, the evaluation and the staging deploy."""
    items = facts.handover_items
    runs = items[items["kind"].isin(["run", "tag"])].drop_duplicates("id").sort_values("at", kind="stable")
    gh_runs = facts.github.runs
    evals = pd.DataFrame(columns=["at", "who", "side", "id"])
    if len(gh_runs):
        name = (gh_runs["workflow_path"].fillna("") + " " + gh_runs["name"].fillna("")).str.lower()
        e = gh_runs[name.str.contains("eval") & gh_runs["conclusion"].eq("success")]
        evals = pd.DataFrame({"at": pd.to_datetime(e["updated_at"], utc=True),
                              "who": e["person"].fillna(e["triggering_login"]), "side": e["side"],
                              "id": e["run_id"].astype(str) + "/" + e["run_attempt"].astype(str)})
    cols = ["who", "week", "at", "kind", "id", "url", "title"]
    if runs.empty or evals.empty:
        return pd.DataFrame(columns=cols)
    ok = runs["conclusion"].eq("success")
    cuts = runs[(runs["operation"] == "data_cut") & ok]
    trains = runs[(runs["operation"] == "train_run") & ok]
    staging = runs[(runs["operation"] == "deploy") & ok & runs["workflow"].fillna("").str.lower().str.contains(
        "staging")]
    vendor = pd.concat([runs[runs["side"] == "vendor"], evals[evals["side"] == "vendor"]])
    rows = []
    for cut in cuts.itertuples():  # cuts are few: a plain loop is clear
        if cut.side != "internal":
            continue
        train = trains[trains["at"] > cut.at].head(1)
        if train.empty or train["side"].iloc[0] != "internal":
            continue
        ev = evals[evals["at"] > train["at"].iloc[0]].head(1)
        if ev.empty or ev["side"].iloc[0] != "internal":
            continue
        deploy = staging[staging["at"] > ev["at"].iloc[0]].head(1)
        if deploy.empty or deploy["side"].iloc[0] != "internal":
            continue
        between = vendor[(vendor["at"] > cut.at) & (vendor["at"] <= deploy["at"].iloc[0])]
        if len(between):
            continue
        t = train.iloc[0]
        rows.append({"who": t["who"], "week": t["week"], "at": t["at"], "kind": "run", "id": t["id"], "url": t["url"],
                     "title": f"rehearsal retrain: cut {cut.id}, train {t['id']}, evaluation {ev['id'].iloc[0]}, "
                              f"staging deploy {deploy['id'].iloc[0]}"})
    return pd.DataFrame(rows, columns=cols).drop_duplicates("id")


def competency_items(facts: Facts) -> pd.DataFrame:
    """Every evidence item of every rubric kind, per capability with a rubric (see the module docstring)."""
    items = facts.handover_items
    window = facts.cfg.readiness.window_weeks
    parts = []
    runs = items[items["kind"].isin(["run", "tag"])].drop_duplicates("id")
    fixed = _fixed_runs(items)
    rehearsals = None
    merged = ["pr_merge", "commit"]  # a PR merged, or a commit on the tracked branch (merged, however it got there)
    for cap, rubric in rubrics(facts).items():
        wanted = {k for level in LEVELS for alt in alternatives(rubric, level) for k in alt}
        on_cap = items[items["capability"] == cap]
        for kind in wanted:
            if kind in ("commit", "review"):
                frame = on_cap[on_cap["operation"] == kind]
            elif kind == "merged_change":
                frame = on_cap[on_cap["operation"].isin(merged)]
            elif kind in ("data_cut", "train_run", "deploy", "rollback"):
                frame = runs[runs["operation"] == kind]
            elif kind.startswith("fixed_"):
                frame = fixed[fixed["operation"] == kind.removeprefix("fixed_")]
            elif kind == "runbook":
                frame = on_cap[on_cap["operation"] == "runbook"]
                named = items[(items["operation"] == "runbook") & (items["runbook"].astype(str).str.lower() == cap)]
                frame = pd.concat([frame, named]).drop_duplicates("id")
            elif kind.startswith("runbook:"):
                name = kind.split(":", 1)[1].lower()
                frame = items[(items["operation"] == "runbook") & (items["runbook"].astype(str).str.lower() == name)]
                frame = frame.drop_duplicates("id")
            elif kind == "drill_ack":
                frame = _ticket_acks(facts, cap)
            elif kind == "drill_pass":
                frame = on_cap[(on_cap["operation"] == "drill") & on_cap["unassisted"].astype(bool)]
            elif kind == "contract_change":
                c = _contract_commits(facts, rubric.contract_paths)
                frame = pd.DataFrame({"who": c["person"].fillna(c["email"]), "week": c["week"], "at": c["at"],
                                      "kind": "commit", "id": c["sha"],
                                      "url": facts.commit_links(c["repo"], c["sha"]), "title": c["subject"]})
            elif kind == "change_then_train":
                changes = on_cap[on_cap["operation"].isin(merged)][["who", "at", "week"]]
                trains = runs[runs["operation"] == "train_run"]
                pairs = trains.merge(changes, on="who", suffixes=("", "_change"))
                pairs = pairs[(pairs["at_change"] < pairs["at"]) & (pairs["week_change"] > pairs["week"] - window)]
                frame = pairs.drop_duplicates("id")
            elif kind == "rehearsal":
                if rehearsals is None:
                    rehearsals = rehearsal_cycles(facts)
                frame = rehearsals
            else:  # unknown kinds are refused by the engagement file's validation
                continue
            if len(frame):
                parts.append(_as_items(frame, kind, cap))
    if not parts:
        return pd.DataFrame(columns=ITEM_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["week"] = out["week"].astype("int64")
    out["at"] = pd.to_datetime(out["at"], utc=True)
    return out[out["week"] <= facts.now_week].sort_values(["at", "evidence", "id"], kind="stable").reset_index(
        drop=True)


def _people(facts: Facts, items: pd.DataFrame) -> list[str]:
    """Roster people, then the other identities with evidence (by name), without bots and nobody."""
    roster = [p.name for p in facts.cfg.people]
    others = sorted(set(items["who"].dropna()) - set(roster)) if len(items) else []
    handover = facts.handover_items
    sides = handover.drop_duplicates("who", keep="last").set_index("who")["side"] if len(handover) else pd.Series()
    return roster + [o for o in others if sides.get(o) in ("internal", "vendor")]


def _sides(facts: Facts, people: list[str], weeks: list[int]) -> dict[tuple[str, int], str | None]:
    """The person's side on the last day of each week (roster affiliation), else the side of their latest item."""
    table = affiliation_table(facts.cfg)
    handover = facts.handover_items
    out = {}
    for week in weeks:
        last_day = pd.Timestamp(facts.cfg.engagement.start + dt.timedelta(days=7 * week - 1))
        now = table[(table["aff_from"] <= last_day) & (last_day < table["aff_until"])].set_index("person")["aff_side"]
        for who in people:
            if who in now.index:
                out[(who, week)] = now[who]
            else:
                mine = handover[(handover["who"] == who) & (handover["week"] <= week)] if len(handover) else handover
                out[(who, week)] = mine["side"].iloc[-1] if len(mine) else None
    return out


def competency(facts: Facts) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows, evidence): the matrix rows (ROW_COLUMNS) for weeks 1 .. now, and per row the window's items with
    `counts` true for the items behind the level reached."""
    items = facts.competency_items
    weeks = [w for w in facts.weeks if 1 <= w <= facts.now_week]
    if facts.handover_items.empty:  # nothing collected yet: no matrix rather than everybody at "none yet"
        weeks = []
    window = facts.cfg.readiness.window_weeks
    people = _people(facts, items)
    sides = _sides(facts, people, weeks)
    rows, evidence = [], []
    for cap, rubric in rubrics(facts).items():
        levels = [alternatives(rubric, level) for level in LEVELS]
        mine = items[items["capability"] == cap]
        for week in weeks:
            inside = mine[(mine["week"] <= week) & (mine["week"] > week - window)]
            by_who = {who: g for who, g in inside.groupby("who")}
            for who in people:
                got = by_who.get(who, inside.iloc[:0])
                kinds = set(got["evidence"])
                level, used = 0, set()
                for number, alts in enumerate(levels, start=1):
                    satisfied = [alt for alt in alts if alt and set(alt) <= kinds]
                    if satisfied:
                        level, used = number, {k for alt in satisfied for k in alt}
                counts = got["evidence"].isin(used).to_numpy(dtype=bool)
                rows.append({"person": who, "side": sides[(who, week)], "capability": cap, "week": week,
                             "level": level, "level_name": LEVEL_NAMES[level],
                             "evidence_count": int(got.loc[counts, ["evidence", "id"]].drop_duplicates().shape[0])})
                if len(got):
                    evidence.append(got.assign(person=who, week_of_row=week, counts=counts))
    matrix = pd.DataFrame(rows, columns=ROW_COLUMNS)
    ev = pd.concat(evidence, ignore_index=True) if evidence else pd.DataFrame(
        columns=[*ITEM_COLUMNS, "person", "week_of_row", "counts"])
    return matrix, ev


def cell_evidence(facts: Facts, person: str, capability: str, week: int) -> pd.DataFrame:
    """The window's evidence items of one matrix cell, those behind its level first."""
    ev = facts.competency[1]
    rows = ev[(ev["person"] == person) & (ev["capability"] == capability) & (ev["week_of_row"] == week)]
    return rows.sort_values(["counts", "at"], ascending=[False, True]).drop(columns=["week_of_row"]).reset_index(
        drop=True)


def progression(matrix: pd.DataFrame, person: str) -> pd.DataFrame:
    """One person's level per (capability, week): the rows of the matrix, pivoted (weeks as columns)."""
    rows = matrix[matrix["person"] == person]
    if rows.empty:
        return pd.DataFrame()
    return rows.pivot(index="capability", columns="week", values="level").astype("Int64")

