"""GitHub data for the demo engagement, recorded once from the local replay server by the real collector.

`build_demo` serves the repository's PRs, reviews, files and Actions runs in GitHub's shapes
(collectors/demo/github_replay.py) to the real GitHub collector with `collect --record`, into the demo's
`recordings/`; the engagement file's `[[sources.github]]` (repo client/fraud-model) has
`replay = "recordings"`, so every later collection replays them with no server.

The story follows the git demo: the vendor (Marco, Sofia, Tom until his hire on
2026-10-07) opens and runs everything at first, the client team (Ines, Ivan, Priya, then Tom) takes over.

Deliberate cases: squash merges (a merge sha per PR), a dependabot PR (type Bot), a PR by a deleted
account (`user: null`), PRs closed unmerged or still open; a failed train re-run by someone else
(actor ≠ triggering_actor), a scheduled train (counted apart), a data cut superseded by a newer one, a
train started before the cut (does not close it), deploys and a rollback.
SPEC §11 (the system KPIs): JUnit evaluation runs (artifacts served as zips), a silent release (week 3's deploy:
no evaluation of its commit), a gated one (week 8's deploy ships the commit week 8's evaluation passed), a
staging deploy that closes no rehearsal (week 7: no passing evaluation), the internal rehearsal of week 8
(cut → train → evaluation → staging deploy, no vendor run between), a rollback that never succeeds (week 6)
and one that succeeds on a re-run (week 8), a failed environment rebuild followed by a successful one (week 7).

The `INTENDED_*` tables are written by hand; tests/test_demo_github.py checks the pipeline reproduces them.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from collectors.demo.github_fixtures import FakeRepo, pull, review, run, user

REPO = "client/fraud-model"
REPO_ID = 70001
PIPELINE = """
[pipeline]
data_cut = { workflows = ["data-cut.yml"], tags = ["data-v*"] }
train = { workflows = ["train.yml"], mlflow_experiments = ["fraud-train"] }
deploy = { workflows = ["deploy.yml", "deploy-staging.yml"] }
rollback = { workflows = ["rollback.yml"] }
eval = { workflows = ["eval.yml"] }
rebuild = { workflows = ["rebuild-env.yml"] }

[cost]
per_minute = 0.4
currency = "EUR"
"""
START = dt.date(2026, 9, 7)
TZ = ZoneInfo("Europe/Berlin")

USERS = {
    "marco": user("mbianchi-acme", 5001), "sofia": user("slindqvist", 5002), "tom": user("tbecker", 5003),
    "ines": user("iortiz", 5004), "ivan": user("ivan-k", 5005), "priya": user("pnair", 5006),
    "bot": user("dependabot[bot]", 49699333, "Bot"), "deleted": None,
}


def at(week: int, day: int, hour: float) -> str:
    """UTC ISO time of local (Berlin) `hour` on weekday `day` (0 = Monday) of engagement week `week`."""
    local = dt.datetime.combine(START + dt.timedelta(days=7 * (week - 1) + day), dt.time(0), tzinfo=TZ)
    local += dt.timedelta(hours=hour)
    return local.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# number, author, week, day, hour merged (None: not merged), files, approvers (reviewer keys)
PRS = [
    (1, "marco", 1, 1, 15, ["train/model.py"], ["sofia"]),
    (2, "sofia", 1, 3, 15, ["data/ingest.py"], ["marco"]),
    (3, "marco", 2, 1, 15, ["train/features.py"], ["ines", "sofia"]),
    (4, "sofia", 2, 2, 15, ["eval/metrics.py"], ["marco"]),
    (5, "bot", 2, 3, 15, ["requirements.txt"], ["marco"]),
    (6, "ines", 3, 1, 15, ["data/validate.py"], ["marco", "priya"]),
    (7, "marco", 3, 2, 15, ["deploy/serve.py"], ["ivan"]),
    (8, "deleted", 3, 3, 15, ["docs/notes.md"], ["sofia"]),
    (9, "ivan", 4, 1, 15, ["train/loop.py"], ["priya", "marco"]),
    (10, "priya", 4, 2, 15, ["eval/bias.py"], ["ines", "sofia"]),
    (11, "sofia", 4, 3, 15, ["ops/alerts.yml"], ["ines"]),
    (12, "ines", 5, 1, 15, ["data/split.py"], ["ivan", "priya"]),
    (13, "tom", 5, 3, 15, ["deploy/rollout.py"], ["ines", "sofia"]),  # Thursday 8 Oct: Tom is internal
    (14, "ivan", 6, 1, 15, ["train/tune.py"], ["priya", "tom"]),
    (15, "marco", 6, 2, 15, ["ops/runbook.md"], ["ines", "priya"]),
    (16, "priya", 7, 1, 15, ["eval/drift.py"], ["ivan", "ines"]),
    (17, "ines", 8, 1, 15, ["data/refresh.py"], ["tom", "ivan"]),
    (18, "ivan", 8, 2, 15, ["train/schedule.py"], ["priya", "ines"]),
]
UNMERGED = [(19, "sofia", 6, 0, None), (20, "marco", 7, 0, 10)]  # open; closed without merge

TRAIN, CUT = ".github/workflows/train.yml", ".github/workflows/data-cut.yml"
DEPLOY, ROLLBACK = ".github/workflows/deploy.yml", ".github/workflows/rollback.yml"
EVAL, STAGING = ".github/workflows/eval.yml", ".github/workflows/deploy-staging.yml"
REBUILD = ".github/workflows/rebuild-env.yml"
# run id, workflow, event, actor, triggering actor, week, day, start hour, hours, conclusion, attempt
RUNS = [
    (101, CUT, "workflow_dispatch", "marco", "marco", 1, 1, 9, 1, "success", 1),
    (102, TRAIN, "workflow_dispatch", "marco", "marco", 1, 1, 11, 3, "success", 1),  # cycle 4 h (vendor)
    (201, CUT, "workflow_dispatch", "marco", "marco", 2, 0, 9, 1, "success", 1),
    (202, TRAIN, "push", "sofia", "sofia", 2, 0, 12, 1, "failure", 1),  # fails ...
    (202, TRAIN, "push", "sofia", "ines", 2, 1, 9, 3, "success", 2),  # ... Ines re-runs it: cycle 26 h (vendor)
    (203, TRAIN, "schedule", "marco", "marco", 2, 6, 2, 3, "success", 1),  # scheduled: counted apart
    (301, CUT, "workflow_dispatch", "ines", "ines", 3, 2, 9, 1, "success", 1),
    (302, TRAIN, "workflow_dispatch", "ines", "ines", 3, 2, 11, 2, "success", 1),  # cycle 3 h (internal)
    (303, DEPLOY, "workflow_dispatch", "marco", "marco", 3, 3, 10, 1, "success", 1),
    (401, CUT, "workflow_dispatch", "ivan", "ivan", 4, 0, 9, 1, "success", 1),  # superseded by 402
    (402, CUT, "workflow_dispatch", "ivan", "ivan", 4, 0, 15, 1, "success", 1),
    (403, TRAIN, "workflow_dispatch", "ivan", "ivan", 4, 1, 9, 2, "success", 1),  # cycle 19 h (internal)
    (404, TRAIN, "push", "marco", "marco", 4, 2, 10, 2, "success", 1),
    (405, ROLLBACK, "workflow_dispatch", "tom", "tom", 4, 3, 10, 0.5, "success", 1),
    (501, CUT, "workflow_dispatch", "ines", "ines", 5, 1, 9, 1, "success", 1),
    (502, TRAIN, "workflow_dispatch", "priya", "priya", 5, 1, 9.5, 2, "success", 1),  # started before the cut
    (503, TRAIN, "workflow_dispatch", "priya", "priya", 5, 1, 12, 2, "success", 1),  # cycle 4 h
    (601, CUT, "workflow_dispatch", "ivan", "ivan", 6, 0, 9, 1, "success", 1),
    (602, TRAIN, "workflow_dispatch", "ivan", "ivan", 6, 0, 11, 1, "success", 1),  # cycle 2 h
    (603, CUT, "workflow_dispatch", "ines", "ines", 6, 3, 9, 1, "success", 1),
    (604, TRAIN, "workflow_dispatch", "tom", "tom", 6, 3, 11, 2, "success", 1),  # cycle 3 h
    (701, CUT, "workflow_dispatch", "priya", "priya", 7, 1, 9, 1, "success", 1),
    (702, TRAIN, "workflow_dispatch", "ivan", "ivan", 7, 1, 10.5, 2, "success", 1),  # cycle 2.5 h
    (801, CUT, "workflow_dispatch", "ines", "ines", 8, 0, 9, 1, "success", 1),
    (802, TRAIN, "workflow_dispatch", "ines", "ines", 8, 0, 11, 2, "success", 1),  # cycle 3 h
    (803, DEPLOY, "workflow_dispatch", "priya", "priya", 8, 2, 10, 1, "success", 1),
    # SPEC §11 (system KPIs) ------------------------------------------------------------------------------
    (605, EVAL, "workflow_dispatch", "priya", "priya", 6, 4, 10, 0.5, "failure", 1),  # JUnit: 2 of 17 fail
    (606, ROLLBACK, "workflow_dispatch", "ines", "ines", 6, 2, 16, 0.25, "failure", 1),  # never succeeds: open
    (705, EVAL, "workflow_run", "priya", "priya", 7, 1, 13, 0.5, "failure", 1),  # JUnit: 1 of 20 fails
    (706, STAGING, "workflow_dispatch", "tom", "tom", 7, 1, 14, 0.5, "success", 1),  # no passing evaluation
    (703, REBUILD, "workflow_dispatch", "ivan", "ivan", 7, 2, 10, 1, "failure", 1),  # environment from scratch
    (704, REBUILD, "workflow_dispatch", "ivan", "ivan", 7, 3, 10, 1.5, "success", 1),  # ... fixed, rebuilt
    (804, EVAL, "workflow_run", "ines", "ines", 8, 0, 13.5, 0.5, "success", 1),  # rehearsal: 23 of 23 pass
    (805, STAGING, "workflow_dispatch", "ines", "ines", 8, 0, 14.5, 0.5, "success", 1),  # rehearsal: 5 h
    (806, ROLLBACK, "workflow_dispatch", "tom", "tom", 8, 3, 10, 0.2, "failure", 1),  # fails after 12 min ...
    (806, ROLLBACK, "workflow_dispatch", "tom", "priya", 8, 3, 10.5, 0.25, "success", 2),  # ... Priya re-runs it
]
# run id -> the run whose commit it builds (default: its own): week 8's deploy ships what week 8's evaluation passed
SAME_COMMIT = {803: 804}
# run id -> (testcases, failed, skipped) of its JUnit report (junit_workflows = ["eval.yml"]); the counts equal the
# test functions in eval/ at those weeks' ends, so eval_coverage reads the same from JUnit as from git
JUNIT = {605: (17, 2, 1), 705: (20, 1, 0), 804: (23, 0, 0)}
JUNIT_WORKFLOWS = ["eval.yml"]  # the source's `junit_workflows`: recorded and replayed with it

# By hand from the tables above. week -> (internal, vendor, unattributed, bots) merged PRs by author.
INTENDED_PR_SHARE = {1: (0, 2, 0, 0), 2: (0, 2, 0, 1), 3: (1, 1, 1, 0), 4: (2, 1, 0, 0), 5: (2, 0, 0, 0),
                     6: (1, 1, 0, 0), 7: (1, 0, 0, 0), 8: (2, 0, 0, 0)}
# week -> (internal, vendor) approving reviews on merged PRs
INTENDED_REVIEW_SHARE = {1: (0, 2), 2: (1, 3), 3: (2, 2), 4: (3, 2), 5: (3, 1), 6: (4, 0), 7: (2, 0), 8: (4, 0)}
# week -> (compliant, merged into main)
INTENDED_TWO_KEY = {1: (0, 2), 2: (1, 3), 3: (1, 3), 4: (2, 3), 5: (2, 2), 6: (2, 2), 7: (1, 1), 8: (2, 2)}
# week -> (internal, vendor, scheduled) train runs by triggering actor
INTENDED_TRAIN_SHARE = {1: (0, 1, 0), 2: (1, 1, 1), 3: (1, 0, 0), 4: (1, 1, 0), 5: (2, 0, 0), 6: (2, 0, 0),
                        7: (1, 0, 0), 8: (1, 0, 0)}
# week -> (median hours, p90 hours, cycles, internal-owned cycles)
INTENDED_TIME_TO_RETRAIN = {1: (4.0, 4.0, 1, 0), 2: (26.0, 26.0, 1, 0), 3: (3.0, 3.0, 1, 1), 4: (19.0, 19.0, 1, 1),
                            5: (4.0, 4.0, 1, 1), 6: (2.5, 2.9, 2, 2), 7: (2.5, 2.5, 1, 1), 8: (3.0, 3.0, 1, 1)}

# SPEC §11, by hand from RUNS, SAME_COMMIT and JUNIT ([cost] per_minute = 0.4):
# week -> (median, p90, completed train runs, total minutes, cost) by the week a run started. The Actions attempts
# (week 1: 180; 2: 202's failed first attempt 60, Ines's re-run 180, the scheduled run 180; 3: 120; 4: 120, 120;
# 5: 120, 120; 6: 60, 120; 7: 120; 8: 120) and the MLflow `fraud-train` runs (collectors/demo/mlflow_data.py: 45 min
# each, 10 for Marco's FAILED run of week 5; weeks 1-8: 2, 2, 3, 2, 2, 2, 2, 2 runs) together; p90 interpolated
# linearly (week 1: [45, 45, 180] -> 45 + 0.8 * 135 = 153)
INTENDED_TRAIN_MINUTES = {1: (45.0, 153.0, 3, 270.0, 108.0), 2: (60.0, 180.0, 5, 510.0, 204.0),
                          3: (45.0, 97.5, 4, 255.0, 102.0), 4: (82.5, 120.0, 4, 330.0, 132.0),
                          5: (82.5, 120.0, 4, 295.0, 118.0), 6: (52.5, 102.0, 4, 270.0, 108.0),
                          7: (45.0, 105.0, 3, 210.0, 84.0), 8: (45.0, 105.0, 3, 210.0, 84.0)}
# week -> (median minutes of the closed cycles or None, cycles, open, side): 405 Tom (vendor until 7 Oct) 30 min;
# 606 Ines never succeeds; 806 fails after 12 min, Priya's re-run succeeds at 10:45: 10:00 -> 10:45 = 45 min
INTENDED_ROLLBACK = {4: (30.0, 1, 0, "vendor"), 6: (None, 1, 1, "internal"), 8: (45.0, 1, 0, "internal")}
# week -> (hours of the fastest complete internal cycle, cycles): week 8, cut 801 done 10:00 -> train 802 (11-13)
# -> JUnit 804 (13:30-14:00, 23/23) -> staging deploy 805 done 15:00 = 5 h. Week 7's staging deploy 706 closes
# none: no passing evaluation before it (605 and 705 have failures).
INTENDED_REHEARSAL = {8: (5.0, 1)}
# week -> (passed, testcases) of the week's latest JUnit run on main; silent releases: week 3's deploy 303
INTENDED_EVAL_PASS = {6: (14, 17), 7: (19, 20), 8: (23, 23)}
INTENDED_SILENT_RELEASES = {3: 1}
# week -> (successful, completed) rebuilds, all by Ivan (internal)
INTENDED_REBUILD = {7: (1, 2)}


def demo_repo() -> FakeRepo:
    repo = FakeRepo(full_name=REPO, repo_id=REPO_ID)
    for number, author, week, day, hour, files, approvers in PRS:
        merged = at(week, day, hour)
        created = at(week, 0, 8)
        repo.pulls.append(pull(number, USERS[author], created, merged, merged=merged, repo=REPO))
        repo.files[number] = files
        repo.reviews[number] = [review(number * 10 + i, USERS[r], "APPROVED", at(week, day, hour - 1 + i / 10),
                                       repo=REPO, number=number) for i, r in enumerate(approvers)]
    for number, author, week, day, closed_hour in UNMERGED:
        closed = at(week, day, closed_hour) if closed_hour is not None else None
        repo.pulls.append(pull(number, USERS[author], at(week, 0, 8), closed or at(week, 0, 9), closed=closed,
                               repo=REPO))
    latest: dict[int, dict] = {}
    for rid, path, event, actor, trig, week, day, hour, hours, conclusion, attempt in RUNS:
        body = run(rid, path, event, USERS[actor], at(week, day, hour), triggering=USERS[trig], attempt=attempt,
                   conclusion=conclusion, started=at(week, day, hour), updated=at(week, day, hour + hours),
                   repo=REPO)
        body["head_sha"] = f"{SAME_COMMIT.get(rid, rid):040x}"
        if attempt == 1:
            body["created_at"] = at(week, day, hour)
        else:  # a re-run keeps the run's creation time
            body["created_at"] = latest[rid]["created_at"]
            repo.attempts[(rid, attempt - 1)] = latest[rid]
        latest[rid] = body
    repo.runs = list(latest.values())
    repo.artifacts = {rid: [(rid * 10, "junit-report", junit_zip(rid, *counts))] for rid, counts in JUNIT.items()}
    return repo


def junit_zip(rid: int, tests: int, failed: int, skipped: int) -> bytes:
    """A JUnit XML report (zipped, as an Actions artifact) with `tests` testcases, `failed` failing, `skipped`."""
    import io
    import zipfile

    cases = []
    for i in range(tests):
        inner = '<failure message="below threshold"/>' if i < failed else "<skipped/>" if i < failed + skipped else ""
        cases.append(f'<testcase classname="eval.test_metrics" name="test_case_{i}">{inner}</testcase>')
    xml = (f'<?xml version="1.0"?><testsuite name="evaluation" tests="{tests}" failures="{failed}" '
           f'skipped="{skipped}">{"".join(cases)}</testsuite>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo(f"reports/junit-{rid}.xml", date_time=(2026, 1, 1, 0, 0, 0)), xml)  # same bytes
    return buf.getvalue()


def toml_section(recordings: str) -> str:
    """The demo engagement file's GitHub source (replayed from `recordings`) and the `[pipeline]` that classifies
    its workflows."""
    return (PIPELINE + "\n# GitHub source of the demo (collectors/demo/github_data.py), replayed from its recording\n"
            f'[[sources.github]]\nrepo = "{REPO}"\nreplay = "{recordings}"\n'
            f"junit_workflows = {json.dumps(JUNIT_WORKFLOWS)}\n")
