"""The demo engagement's handover readiness (SPEC §10): its `[readiness]`, `[competency]` and `[raci]` tables and the
values they are meant to give, written out by hand from the demo's git history (build.py), GitHub data
(github_data.py) and tickets (tickets.py); tests/metrics/test_demo_readiness.py checks the pipeline reproduces them.

The story, week 8 (trailing window: weeks 5-8, at least 2 internal people per operation):
- data and training are covered (Ines, Ivan and Priya cut data; four people trained);
- operations has a **bus factor of 1**: only Priya passed a drill (MLOPS-13), the vendor's last was Marco (MLOPS-10);
  deployment is covered: besides Priya's production deploy (run 803), the binder's staging deploys (SPEC §11) are
  deploy runs too (`[pipeline].deploy` lists deploy-staging.yml): Tom's 706 (week 7) and Ines's rehearsal 805
  (week 8), so three internal people deployed in the window; the vendor's last deploy was Marco's (run 303, week 3);
- Ivan Kowalski **climbs** on data: beginner in week 4 (data cuts 401/402), intermediate in week 6 (a data pipeline
  change), independent in week 8 (he changes the data contract `data/schema.yaml` — the week-8 data commit that was
  Ines's in earlier demos — with a data cut of his, run 601, in the window). The demo's data rubric asks for
  "contract change + data cut" where the framework asks for "contract change + fixed failed data run": the demo's
  CI has no failed data cut to fix;
- RACI: data is handed over as planned; **deployment is behind**: internal should be responsible from week 4, but
  the vendor still authors most deployment work in weeks 4 and 5 (and accountability is shared in weeks 3 and 5).
  The deploy workflows belong to no capability, so a deploy trigger is accountability in every capability: Tom's
  staging deploy 706 makes week 7 accountable internal for data and deployment alike.
"""

from __future__ import annotations

OPERATIONS = {
    "data": ["commit", "data_cut"],
    "training": ["commit", "train_run", "runbook:training"],
    "evaluation": ["commit", "review"],
    "deployment": ["commit", "deploy"],
    "operations": ["commit", "drill"],
}
RACI = {
    "data": {"responsible": {1: "vendor", 3: "internal"}, "accountable": {1: "vendor", 4: "internal"}},
    "deployment": {"responsible": {1: "vendor", 4: "internal"}, "accountable": {1: "vendor", 6: "internal"}},
}
# week -> capability -> (covered operations, operations, bus factor), by hand from the demo's tables (window of 4 weeks,
# 2 people needed; "unassisted": a runbook without vendor intervention, a drill passed, else an internal actor):
# week 4 (weeks 1-4): data: commits Ines, Priya; cuts Ines (301), Ivan (401/402) -> 2/2, n 2. training: commits Ivan
#   only; trains Ines (202 re-run, 302), Ivan (403); the training runbooks were Ines prompted by Marco (MLOPS-1) and
#   Marco (MLOPS-3) -> 1/3, n 0. evaluation: commits Priya only; approvals of eval PRs: Ines (PR 10) -> 0/2, n 1.
#   deployment: commits Priya; deploys Marco (303) -> 0/2, n 0. operations: no internal commit; Ivan's drill
#   (MLOPS-12) failed -> 0/2, n 0.
# week 6 (weeks 3-6): data 2/2, n 2 (cuts: Ines, Ivan). training: commits Ivan, Tom (hired), Ines; trains Ines, Ivan,
#   Priya, Tom; runbook: Priya (MLOPS-4) only -> 2/3, n 1. evaluation: commits Priya, Ivan; approvals Ines -> 1/2,
#   n 1. deployment: commits Priya, Tom; deploys none internal -> 1/2, n 0. operations: commits Ivan, Tom; no drill
#   pass -> 1/2, n 0.
# week 8 (weeks 5-8): data: commits Ines, Ivan, Priya; cuts Ines, Ivan, Priya -> 2/2, n 3. training: commits Ivan,
#   Tom, Ines; trains Priya, Ivan, Tom, Ines; runbooks Priya, Ines -> 3/3, n 2. evaluation: commits Priya, Ivan;
#   approvals Ivan, Ines (PR 16) -> 2/2, n 2. deployment: commits Tom, Priya; deploys Priya (803), and the staging
#   deploys (deploy-staging.yml is a `deploy` workflow) of Tom (706, week 7) and Ines (805, week 8, the rehearsal)
#   -> 2/2, n 2 (commit has 2 people, deploy 3).
#   operations: commits Ivan, Tom, Priya; drill passes Priya (MLOPS-13) -> 1/2, n 1.
INTENDED_EXIT = {
    4: {"data": (2, 2, 2), "training": (1, 3, 0), "evaluation": (0, 2, 1), "deployment": (0, 2, 0),
        "operations": (0, 2, 0)},
    6: {"data": (2, 2, 2), "training": (2, 3, 1), "evaluation": (1, 2, 1), "deployment": (1, 2, 0),
        "operations": (1, 2, 0)},
    8: {"data": (2, 2, 3), "training": (3, 3, 2), "evaluation": (2, 2, 2), "deployment": (2, 2, 2),
        "operations": (1, 2, 1)},
}
# week 8: the operations no internal person did in the window, with the last vendor who did them. Deploy is no longer
# among them: Tom's staging deploy 706 and Ines's 805 join Priya's 803 (see week 8 above).
INTENDED_UNCOVERED_WEEK8 = {("operations", "drill"): "Marco Bianchi"}
# capability -> week -> (actual responsible, actual accountable, value); None = no item (role not compared).
# responsible: commits + merged PRs + runbook executions on the capability; accountable: approvals of its PRs,
# deploy triggers (the demo's deploy workflow belongs to no capability: every one), merges of others (none here).
# data: vendor leads weeks 1-2 ((0,6)+PR 2, (2,5)), internal from week 3; approvals: Marco (PR 2), week 3 Marco +
#   Priya (PR 6) + Marco's deploy 303 -> vendor, week 5 Ivan + Priya (PR 12), week 7 Tom's staging deploy 706,
#   week 8 Tom + Ivan (PR 17) + Priya's deploy 803 + Ines's staging deploy 805 -> internal: as planned every week.
# deployment: commits (0,3) (0,4) (0,3)+PR 7 vendor+Ivan's runbook, (1,4), (2,4)+PR 13 Tom, (3,2)+Tom's runbook, (4,2),
#   (5,1); accountable: week 3 Ivan approves PR 7 vs Marco deploys -> shared, week 5 Ines vs Sofia (PR 13) ->
#   shared, week 7 Tom's staging deploy 706 -> internal, week 8 Priya (803) and Ines (staging 805) deploy -> internal.
#   Planned internal responsible from week 4: weeks 4-5 behind.
INTENDED_RACI = {
    "data": {1: ("vendor", "vendor", 1.0), 2: ("vendor", None, 1.0), 3: ("internal", "vendor", 1.0),
             4: ("internal", None, 1.0), 5: ("internal", "internal", 1.0), 6: ("internal", None, 1.0),
             7: ("internal", "internal", 1.0), 8: ("internal", "internal", 1.0)},
    "deployment": {1: ("vendor", None, 1.0), 2: ("vendor", None, 1.0), 3: ("vendor", "shared", 0.5),
                   4: ("vendor", None, 0.0), 5: ("vendor", "shared", 0.0), 6: ("internal", None, 1.0),
                   7: ("internal", "internal", 1.0), 8: ("internal", "internal", 1.0)},
}
# (person, capability) -> level in weeks 1..8. Ivan on data: cuts 401/402 in week 4 (beginner), a data pipeline
# commit in week 6 (intermediate), the data contract in week 8 with his cut 601 (week 6) still in the window.
# Priya on operations (the default rubric): nothing until her internal drill pass with a postmortem in week 7.
INTENDED_LEVELS = {
    ("Ivan Kowalski", "data"): [0, 0, 0, 1, 1, 2, 2, 3],
    ("Priya Nair", "operations"): [0, 0, 0, 0, 0, 0, 3, 3],
}
# week 8, data (window weeks 5-8): person -> (level, evidence_count). Ines: contract changes (weeks 5, 6) + cuts 501,
# 603, 801 = 5; Ivan: contract (week 8) + cut 601 = 2; Priya: one data commit (week 7) = intermediate; the vendor
# and Tom: nothing on data in the window.
INTENDED_DATA_WEEK8 = {"Marco Bianchi": (0, 0), "Sofia Lindqvist": (0, 0), "Tom Becker": (0, 0),
                       "Ines Ortiz": (3, 5), "Ivan Kowalski": (3, 2), "Priya Nair": (2, 1)}
COMPETENCY_DATA = {"beginner": ["data_cut", "runbook"], "intermediate": ["merged_change"],
                   "independent": ["contract_change + data_cut"]}


def toml_section() -> str:
    """The demo engagement file's [readiness], [competency] and [raci] tables."""
    lines = ["", "# Handover readiness (SPEC §10): collectors/demo/readiness.py", "[readiness]", "min_people = 2",
             "window_weeks = 4", "", "[readiness.operations]"]
    lines += [f"{cap} = [" + ", ".join(f'"{op}"' for op in ops) + "]" for cap, ops in OPERATIONS.items()]
    lines += ["", "[competency.data]  # the framework's, but the demo's CI has no failed data cut to fix"]
    lines += [f"{level} = [" + ", ".join(f'"{k}"' for k in kinds) + "]" for level, kinds in COMPETENCY_DATA.items()]
    for cap, roles in RACI.items():
        lines += ["", f"[raci.{cap}]"]
        lines += [f"{role} = {{ " + ", ".join(f'{w} = "{s}"' for w, s in plan.items()) + " }"
                  for role, plan in roles.items()]
    return "\n".join(lines) + "\n"
