"""A deterministic 8-week demo engagement: a real git repository plus its engagement file.

`build_demo(out_dir)` writes `out_dir/fraud-model` (a git repository made by `git fast-import`, with
`main` checked out) and `out_dir/engagement.toml` (SPEC §2). The story: three Acme Consulting
engineers build a fraud model in weeks 1-3; the client's ML team takes it over capability by
capability (data first, operations last); Tom Becker is hired from Acme by the client on 2026-10-07
(mid-week 5). Two ladder cells are deliberately behind plan (`BEHIND_PLAN`).

The module-level `INTENDED_*` tables are written out by hand: they are what the repository is meant
to contain, and `tests/test_demo_repo.py` checks the built repository against them.

Deliberate edge cases in the history:
- Ines Ortiz commits with two emails (her work address and a GitHub noreply address, both on the roster);
- Ivan Kowalski commits only as `ivan-k@users.noreply.github.com`, which is not among his roster emails:
  he resolves through his GitHub login `ivan-k`;
- Tom Becker commits on Mon/Tue of week 5 (vendor), on Thu of week 5 still with his Acme email (internal:
  the roster's dated affiliation wins over the email domain) and from Fri of week 5 with his client email;
- dependabot[bot] bumps requirements.txt (no capability; a bot); committed by "GitHub" (squash merge);
- an unknown contributor with a gmail address edits docs/ (unattributed);
- a co-authored commit (`Co-authored-by:` trailer), authored by an internal engineer, touching two
  capabilities; another commit touching data and training at once;
- a feature branch merged with a `--no-ff` merge commit; its first commit was rebased (authored in
  week 5, committed in week 6: weeks follow the author date);
- vendor scaffold commits before the start (week 0);
- a commit at Monday 00:30 local time (still Sunday in UTC) that belongs to week 2; a Sunday commit
  just after the DST change (2026-10-25, week 7, +0100); all of week 8 is +0100;
- operations has no activity in week 1 (no measured stage) and no planned stage before week 2.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from collectors.demo import tickets as demo_tickets

DEMO_START = datetime.date(2026, 9, 7)  # a Monday
DEMO_TZ = "Europe/Berlin"
DEMO_WEEKS = 8
DEMO_NAME = "Fraud model handoff (demo)"
REPO_NAME = "fraud-model"
TOML_NAME = "engagement.toml"
HIRE_DATE = datetime.date(2026, 10, 7)  # Tom Becker: vendor until (exclusive), internal from (inclusive)

CAPABILITIES: dict[str, list[str]] = {
    "data": ["data/**", "pipelines/data*.py"],
    "training": ["train/**", "pipelines/train*.py"],
    "evaluation": ["eval/**"],
    "deployment": ["deploy/**"],
    "operations": ["ops/**", "runbooks/**"],
}

# capability -> week -> (internal, vendor) non-merge commits touching the capability in that week.
INTENDED_COUNTS: dict[str, dict[int, tuple[int, int]]] = {
    "data": {1: (0, 6), 2: (2, 5), 3: (4, 3), 4: (5, 1), 5: (4, 0), 6: (3, 0), 7: (3, 0), 8: (2, 0)},
    "training": {1: (0, 7), 2: (0, 6), 3: (1, 9), 4: (3, 3), 5: (4, 2), 6: (5, 1), 7: (4, 0), 8: (3, 0)},
    "evaluation": {1: (0, 4), 2: (0, 4), 3: (1, 4), 4: (2, 4), 5: (3, 2), 6: (8, 2), 7: (5, 1), 8: (4, 0)},
    "deployment": {1: (0, 3), 2: (0, 4), 3: (0, 3), 4: (1, 4), 5: (2, 4), 6: (3, 2), 7: (4, 2), 8: (5, 1)},
    "operations": {1: (0, 0), 2: (0, 2), 3: (0, 3), 4: (0, 3), 5: (1, 4), 6: (2, 4), 7: (2, 3), 8: (4, 2)},
}

# The measured ladder stage those counts imply (no milestones in the demo), by hand.
# Boundaries on purpose: training w3 is exactly 10% (stage 1), training w4 exactly 50% (stage 2),
# evaluation w6 is exactly 80% but with two vendor items (stage 2, not 3).
INTENDED_STAGES: dict[str, dict[int, int | None]] = {
    "data": {1: 0, 2: 1, 3: 2, 4: 3, 5: 4, 6: 4, 7: 4, 8: 4},
    "training": {1: 0, 2: 0, 3: 1, 4: 2, 5: 2, 6: 3, 7: 4, 8: 4},
    "evaluation": {1: 0, 2: 0, 3: 1, 4: 1, 5: 2, 6: 2, 7: 3, 8: 4},
    "deployment": {1: 0, 2: 0, 3: 0, 4: 1, 5: 1, 6: 2, 7: 2, 8: 3},
    "operations": {1: None, 2: 0, 3: 0, 4: 0, 5: 1, 6: 1, 7: 1, 8: 2},
}

# week (0 = before the start) -> all non-merge commits of the repository, a commit counted once.
INTENDED_WEEKLY_COMMITS: dict[int, dict[str, int]] = {
    0: {"internal": 1, "vendor": 4, "unattributed": 0, "bots": 0},
    1: {"internal": 0, "vendor": 21, "unattributed": 0, "bots": 0},
    2: {"internal": 2, "vendor": 20, "unattributed": 0, "bots": 1},
    3: {"internal": 6, "vendor": 23, "unattributed": 1, "bots": 0},
    4: {"internal": 12, "vendor": 15, "unattributed": 0, "bots": 2},
    5: {"internal": 13, "vendor": 12, "unattributed": 0, "bots": 0},
    6: {"internal": 20, "vendor": 9, "unattributed": 1, "bots": 1},
    7: {"internal": 19, "vendor": 6, "unattributed": 0, "bots": 0},
    8: {"internal": 18, "vendor": 3, "unattributed": 0, "bots": 1},
}

# The [plan] of the engagement file: capability -> {week: planned stage}.
PLAN: dict[str, dict[int, int]] = {
    "data": {1: 0, 2: 1, 3: 2, 4: 3, 5: 4},
    "training": {1: 0, 3: 1, 4: 2, 6: 3, 7: 4},
    "evaluation": {1: 0, 3: 1, 5: 2, 7: 3, 8: 4},
    "deployment": {1: 0, 4: 1, 6: 2, 8: 4},
    "operations": {2: 0, 5: 1, 7: 2},
}
# Cells where the measured stage is below the planned one (deployment should be independent in week 8,
# operations should be led internally in week 7).
BEHIND_PLAN: set[tuple[str, int]] = {("deployment", 8), ("operations", 7)}

# Milestones (SPEC §2/§7) and the weeks they are meant to be met in, by hand from INTENDED_COUNTS/STAGES:
# - M1: internal data commits 0, 2, 4, ... and data stage 0, 1, 2 -> both hold first in week 3 (due 4);
# - M2: training commits (3 internal, 3 vendor) in week 4 -> share 0.5 and 3 internal commits (due 5);
# - M3 (tied to deployment): deployment stage 0, 0, 0, 1, 1, 2 -> met in week 6, one week late (due 5),
#   at risk in weeks 4-5. Deployment never reaches stage 4 in the demo (a vendor commit every week), so
#   tying M3 to it leaves INTENDED_STAGES unchanged; M1 and M2 are not tied to a capability for the same
#   reason (data and training reach stage 4, which a pending tied milestone would cap at 3).
MILESTONES: list[dict] = [
    {"id": "M1", "due_week": 4, "title": "Client team carries the data pipeline changes",
     "criteria": [{"metric": "internal_commits", "capability": "data", "op": ">=", "value": 4},
                  {"metric": "ladder_stage", "capability": "data", "op": ">=", "value": 2}]},
    {"id": "M2", "due_week": 5, "title": "Client team leads training changes",
     "criteria": [{"metric": "internal_commit_share", "capability": "training", "op": ">=", "value": 0.5},
                  {"metric": "internal_commits", "capability": "training", "op": ">=", "value": 3}]},
    {"id": "M3", "due_week": 5, "capability": "deployment", "title": "Client team leads deployment, vendor reviews",
     "criteria": [{"metric": "ladder_stage", "capability": "deployment", "op": ">=", "value": 2}]},
]
# milestone -> state in weeks 1..8
INTENDED_MILESTONE_STATES: dict[str, list[str]] = {
    "M1": ["pending", "pending", "met", "met", "met", "met", "met", "met"],
    "M2": ["pending", "pending", "pending", "met", "met", "met", "met", "met"],
    "M3": ["pending", "pending", "pending", "at risk", "at risk", "met", "met", "met"],
}
INTENDED_MET_WEEK: dict[str, int] = {"M1": 3, "M2": 4, "M3": 6}
# takeover_weeks (SPEC §11), by hand from INTENDED_STAGES: every capability is active from week 0 (the scaffold
# commits), so the value is the first week of its run at stage >= 3: data 4, training 6, evaluation 7,
# deployment 8; operations never reaches 3. capability -> week -> value (None: not taken over yet)
INTENDED_TAKEOVER: dict[str, dict[int, int | None]] = {
    "data": {3: None, 4: 4, 8: 4}, "training": {5: None, 6: 6, 8: 6}, "evaluation": {6: None, 7: 7, 8: 7},
    "deployment": {7: None, 8: 8}, "operations": {8: None},
}

# --------------------------------------------------------------------------------------------------
# The handover binder (SPEC §11): [[artifacts]] of the engagement file and what the history gives them
# --------------------------------------------------------------------------------------------------

# key, title, paths, capability (None: engagement-wide only), max_age_weeks
ARTIFACTS: list[tuple[str, str, list[str], str | None, int]] = [
    ("readme", "README and setup", ["/README.md"], None, 8),
    ("lock_file", "Pinned dependency lock file", ["/requirements*.txt"], None, 8),
    ("environment", "Environment as code (Dockerfile)", ["/Dockerfile*"], "deployment", 4),
    ("data_contracts", "Data contracts", ["data/schema.yaml"], "data", 8),
    ("eval_harness", "Evaluation harness with thresholds", ["eval/thresholds.yaml"], "evaluation", 8),
    ("model_card", "Model card", ["/MODEL_CARD.md"], "training", 8),
    ("runbook_training", "Runbook: retraining", ["runbooks/retrain.md"], "training", 8),
    ("runbook_rollback", "Runbook: rollback", ["runbooks/rollback.md"], "deployment", 8),
    ("runbook_incident", "Runbook: incident response", ["runbooks/incident.md"], "operations", 8),
    ("monitoring", "Monitoring and alert definitions", ["ops/alerts.yaml", "ops/monitoring.yaml"], "operations", 8),
    ("architecture", "Architecture notes", ["docs/architecture.md"], None, 4),
    ("data_handling", "Data-handling record", ["docs/data-handling.md"], "data", 8),
]
# By hand from the history (git log of each file at each week's end; Tom is vendor until 7 Oct): week ->
# (present, fresh, owned, internal, vendor, unattributed) over the 12 artifacts; value = fresh / 12.
# Missing throughout: data_handling; model_card until week 7 (Priya). Stale: environment from week 4 (the vendor's
# Dockerfile of 3 Sep, max 4 weeks, never touched again: the one owned by the vendor only), architecture from
# week 7 (Alex, unattributed, 22 Sep). Owned from week 4: readme (Ines), data_contracts (Ines), eval_harness;
# runbook_rollback from week 6 (Tom, now internal); model_card and runbook_incident (Priya) from week 7.
INTENDED_BINDER: dict[int, tuple[int, int, int, int, int, int]] = {
    0: (6, 6, 1, 1, 5, 0), 1: (6, 6, 0, 0, 6, 0), 2: (7, 7, 0, 0, 7, 0), 3: (9, 9, 0, 0, 8, 1),
    4: (9, 8, 3, 3, 5, 1), 5: (9, 8, 3, 3, 5, 1), 6: (10, 9, 4, 4, 5, 1), 7: (11, 9, 6, 6, 4, 1),
    8: (11, 9, 6, 6, 4, 1),
}
# The checklist of week 8: key -> (present, fresh, owned, owner = the last person who changed it)
INTENDED_BINDER_WEEK8: dict[str, tuple[str, str, str, str]] = {
    "readme": ("✓", "✓", "✓", "Ines Ortiz (internal)"),
    "lock_file": ("✓", "✓", "✗", "Marco Bianchi (vendor)"),  # dependabot bumps since, the last person is Marco
    "environment": ("✓", "✗", "✗", "Sofia Lindqvist (vendor)"),
    "data_contracts": ("✓", "✓", "✓", "Ines Ortiz (internal)"),
    "eval_harness": ("✓", "✓", "✓", "Priya Nair (internal)"),
    "model_card": ("✓", "✓", "✓", "Priya Nair (internal)"),
    "runbook_training": ("✓", "✓", "✗", "Sofia Lindqvist (vendor)"),
    "runbook_rollback": ("✓", "✓", "✓", "Tom Becker (internal)"),
    "runbook_incident": ("✓", "✓", "✓", "Priya Nair (internal)"),
    "monitoring": ("✓", "✓", "✗", "Marco Bianchi (vendor)"),  # ops/monitoring.yaml 29 Oct after Priya's alerts
    "architecture": ("✓", "✗", "✗", "Alex Chen (unattributed)"),
    "data_handling": ("✗", "✗", "✗", "–"),
}
# week 8 per capability: data 1 of 2 (no data-handling record), training 2/2, evaluation 1/1, deployment 1/2
# (stale Dockerfile), operations 2/2
INTENDED_BINDER_CAPABILITIES_WEEK8 = {"data": 0.5, "training": 1.0, "evaluation": 1.0, "deployment": 0.5,
                                      "operations": 1.0}
MODEL_CARD = ("# Model card: fraud-model\n\nIntended use: card-fraud scoring of authorised transactions.\n"
              "Training data: 18 months of labelled transactions (see the data cut in the model metadata).\n"
              "Evaluation: PR-AUC and false-positive rate against eval/thresholds.yaml.\n")

# --------------------------------------------------------------------------------------------------
# Who commits
# --------------------------------------------------------------------------------------------------

VENDOR_ORG = "Acme Consulting"
CLIENT_ORG = "Client ML team"

# identity key -> (git author name, git author email)
IDENTITIES: dict[str, tuple[str, str]] = {
    "marco": ("Marco Bianchi", "marco.bianchi@acme-consulting.com"),
    "sofia": ("Sofia Lindqvist", "sofia.lindqvist@acme-consulting.com"),
    "tom_acme": ("Tom Becker", "tom.becker@acme-consulting.com"),
    "tom": ("Tom Becker", "tom.becker@client.com"),
    "ines": ("Ines Ortiz", "ines.ortiz@client.com"),
    "ines_gh": ("Ines Ortiz", "12345678+iortiz@users.noreply.github.com"),
    "ivan": ("Ivan Kowalski", "ivan-k@users.noreply.github.com"),
    "priya": ("Priya Nair", "priya.nair@client.com"),
    "dependabot": ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
    "alex": ("Alex Chen", "alex.chen.dev@gmail.com"),
    "github": ("GitHub", "noreply@github.com"),
}

# The [[people]] roster: name, emails, github logins, affiliations (side, org, from, until).
_Aff = tuple[str, str, "datetime.date | None", "datetime.date | None"]
ROSTER: list[tuple[str, list[str], list[str], list[_Aff]]] = [
    ("Marco Bianchi", ["marco.bianchi@acme-consulting.com"], ["mbianchi-acme"],
     [("vendor", VENDOR_ORG, None, None)]),
    ("Sofia Lindqvist", ["sofia.lindqvist@acme-consulting.com"], ["slindqvist"],
     [("vendor", VENDOR_ORG, None, None)]),
    ("Tom Becker", ["tom.becker@acme-consulting.com", "tom.becker@client.com"], ["tbecker"],
     [("vendor", VENDOR_ORG, None, HIRE_DATE), ("internal", CLIENT_ORG, HIRE_DATE, None)]),
    ("Ines Ortiz", ["ines.ortiz@client.com", "12345678+iortiz@users.noreply.github.com"], ["iortiz"],
     [("internal", CLIENT_ORG, None, None)]),
    # Commits as ivan-k@users.noreply.github.com: not an email below, but the login is.
    ("Ivan Kowalski", ["ivan.kowalski@client.com"], ["ivan-k"],
     [("internal", CLIENT_ORG, None, None)]),
    ("Priya Nair", ["priya.nair@client.com"], ["pnair"],
     [("internal", CLIENT_ORG, None, None)]),
]

# --------------------------------------------------------------------------------------------------
# What they commit
# --------------------------------------------------------------------------------------------------

# Regular single-capability commits: week -> capability -> [(identity, number of commits)].
# They are spread over Monday..Friday of the week; the special commits (_special_commits) come on top.
REGULAR: dict[int, dict[str, list[tuple[str, int]]]] = {
    1: {
        "data": [("marco", 4), ("sofia", 2)],
        "training": [("marco", 4), ("sofia", 3)],
        "evaluation": [("sofia", 4)],
        "deployment": [("tom_acme", 3)],
    },
    2: {
        "data": [("ines", 2), ("marco", 3), ("sofia", 1)],
        "training": [("marco", 3), ("sofia", 1)],
        "evaluation": [("sofia", 3), ("marco", 1)],
        "deployment": [("tom_acme", 3), ("sofia", 1)],
        "operations": [("tom_acme", 2)],
    },
    3: {
        "data": [("ines", 2), ("ines_gh", 1), ("priya", 1), ("marco", 3)],
        "training": [("ivan", 1), ("marco", 5), ("sofia", 4)],
        "evaluation": [("priya", 1), ("sofia", 4)],
        "deployment": [("tom_acme", 2), ("sofia", 1)],
        "operations": [("tom_acme", 2), ("marco", 1)],
    },
    4: {
        "data": [("ines", 3), ("ines_gh", 2), ("marco", 1)],
        "training": [("ivan", 3), ("marco", 2), ("tom_acme", 1)],
        "evaluation": [("priya", 2), ("sofia", 4)],
        "deployment": [("priya", 1), ("tom_acme", 3), ("sofia", 1)],
        "operations": [("tom_acme", 2), ("sofia", 1)],
    },
    5: {
        "data": [("ines", 3), ("ines_gh", 1)],
        "training": [("ivan", 3), ("marco", 1)],
        "evaluation": [("priya", 1), ("ivan", 1), ("sofia", 2)],
        "deployment": [("sofia", 2), ("marco", 1)],
        "operations": [("marco", 2), ("sofia", 2)],
    },
    6: {
        "data": [("ines", 2), ("ivan", 1)],
        "training": [("ivan", 3), ("ines", 1), ("sofia", 1)],
        "evaluation": [("priya", 4), ("ivan", 3), ("sofia", 2)],
        "deployment": [("tom", 2), ("priya", 1), ("sofia", 2)],
        "operations": [("tom", 1), ("marco", 2), ("sofia", 1)],
    },
    7: {
        "data": [("ines_gh", 2), ("priya", 1)],
        "training": [("ivan", 3), ("tom", 1)],
        "evaluation": [("priya", 3), ("ivan", 2), ("sofia", 1)],
        "deployment": [("tom", 3), ("priya", 1), ("sofia", 2)],
        "operations": [("tom", 1), ("marco", 2), ("sofia", 1)],
    },
    8: {
        "data": [("ines", 2)],
        "training": [("ivan", 2), ("ines_gh", 1)],
        "evaluation": [("priya", 3), ("ivan", 1)],
        "deployment": [("tom", 3), ("priya", 2), ("marco", 1)],
        "operations": [("tom", 2), ("priya", 2), ("marco", 1), ("sofia", 1)],
    },
}

# Files edited by regular commits: capability -> [(path, first week it is edited)].
# A file that does not exist yet is added by its first commit.
CAP_FILES: dict[str, list[tuple[str, int]]] = {
    "data": [
        ("data/loader.py", 1), ("data/schema.yaml", 1), ("data/validate.py", 1),
        ("pipelines/data_pipeline.py", 1), ("data/features.py", 2), ("data/drift_stats.py", 4),
        ("data/sources.yaml", 6),
    ],
    "training": [
        ("train/train.py", 1), ("train/config.yaml", 1), ("train/model.py", 1),
        ("pipelines/train_pipeline.py", 1), ("train/callbacks.py", 3), ("train/hparams_search.py", 6),
    ],
    "evaluation": [
        ("eval/metrics.py", 1), ("eval/test_metrics.py", 1), ("eval/thresholds.yaml", 1),
        ("eval/report.py", 2), ("eval/test_fairness.py", 5),
    ],
    "deployment": [
        ("deploy/serve.py", 1), ("deploy/k8s/deployment.yaml", 1), ("deploy/rollback.sh", 2),
        ("deploy/canary.yaml", 4),
    ],
    "operations": [
        ("ops/monitoring.yaml", 2), ("runbooks/retrain.md", 2), ("runbooks/rollback.md", 3),
        ("ops/oncall.yaml", 5), ("runbooks/incident.md", 6), ("ops/alerts.yaml", 7),
    ],
}

MESSAGES: dict[str, list[str]] = {
    "data": [
        "Validate transaction amounts against the schema", "Handle missing merchant ids in loader",
        "Add card-age feature", "Deduplicate transactions by event id", "Parse timestamps as UTC",
        "Add merchant category encoding", "Drop test cards from the raw extract",
        "Cache the daily partition list", "Fail fast on empty partitions", "Add velocity features per card",
        "Log row counts per partition", "Make the data cut date a parameter",
        "Document the label delay", "Tighten null checks on country codes",
    ],
    "training": [
        "Add class weights for the imbalanced labels", "Seed every random generator",
        "Log feature importances", "Early stopping on validation AUC", "Save the model card with the model",
        "Move learning rate to config", "Add time-based train/validation split",
        "Write training metrics to JSON", "Resume from the last checkpoint", "Pin the LightGBM objective",
        "Tune number of leaves", "Record the data cut in model metadata",
    ],
    "evaluation": [
        "Add precision at fixed recall", "Test PR-AUC on a toy sample", "Add calibration curve",
        "Report metrics per merchant segment", "Add threshold for false positive rate",
        "Test metrics on an empty batch", "Compare candidate against production model",
        "Add cost-weighted loss metric", "Test segment report columns", "Add population stability index",
    ],
    "deployment": [
        "Add health endpoint", "Raise memory limit for the scorer", "Canary at 10 percent traffic",
        "Load model by version tag", "Add readiness probe", "Roll back to the previous model tag",
        "Log request latency", "Pin the base image digest", "Add request schema validation",
        "Scale scorer replicas on CPU",
    ],
    "operations": [
        "Alert on scoring latency p99", "Document the retrain procedure", "Add on-call rotation",
        "Alert on score distribution drift", "Document rollback steps", "Page on failed nightly data cut",
        "Add dashboard links to runbooks", "Lower drift alert threshold", "Add escalation contacts",
        "Document model freeze during peak season",
    ],
}

DEPENDABOT_BUMPS = [  # week, weekday (0 = Monday), hour, minute, package, old, new
    (2, 3, 6, 12, "numpy", "2.1.0", "2.1.1"),
    (4, 1, 6, 5, "scikit-learn", "1.5.1", "1.5.2"),
    (4, 3, 6, 9, "pyyaml", "6.0.1", "6.0.2"),
    (6, 0, 6, 14, "lightgbm", "4.5.0", "4.6.0"),
    (8, 1, 6, 3, "pandas", "2.2.2", "2.2.3"),
]

SCAFFOLD: dict[str, str] = {
    "README.md": "# fraud-model\n\nCard-fraud scoring model: data pipeline, training, evaluation, serving.\n",
    ".gitignore": "__pycache__/\n*.pyc\n.venv/\nartifacts/\n",
    "requirements.txt": "lightgbm==4.5.0\nnumpy==2.1.0\npandas==2.2.2\npyyaml==6.0.1\nscikit-learn==1.5.1\n",
    "Makefile": "data:\n\tpython -m pipelines.data_pipeline\n\ntrain:\n\tpython -m pipelines.train_pipeline\n",
    "data/__init__.py": "",
    "data/loader.py": (
        '"""Load raw card transactions."""\n\nimport pandas as pd\n\n\n'
        "def load_transactions(path):\n    return pd.read_parquet(path)\n"
    ),
    "data/schema.yaml": "columns:\n  event_id: string\n  card_id: string\n  amount: float\n  label: int\n",
    "data/validate.py": '"""Checks on the raw extract."""\n\n\ndef validate(frame):\n    return frame\n',
    "pipelines/__init__.py": "",
    "pipelines/common.py": '"""Shared pipeline helpers."""\n\nARTIFACTS = "artifacts"\n',
    "pipelines/data_pipeline.py": (
        '"""Data cut: raw extract -> features."""\n\nfrom data.loader import load_transactions\n\n\n'
        "def run(path):\n    return load_transactions(path)\n"
    ),
    "train/__init__.py": "",
    "train/train.py": '"""Train the fraud classifier."""\n\nimport lightgbm as lgb\n\n\ndef fit(frame, config):\n'
    "    return lgb.LGBMClassifier(**config).fit(frame.drop(columns='label'), frame['label'])\n",
    "train/config.yaml": "objective: binary\nn_estimators: 400\nlearning_rate: 0.05\n",
    "train/model.py": '"""Model wrapper."""\n\n\nclass FraudModel:\n    def __init__(self, booster):\n'
    "        self.booster = booster\n",
    "pipelines/train_pipeline.py": (
        '"""Training pipeline: features -> model."""\n\nfrom train.train import fit\n\n\n'
        "def run(frame, config):\n    return fit(frame, config)\n"
    ),
    "eval/__init__.py": "",
    "eval/metrics.py": (
        '"""Evaluation metrics."""\n\nfrom sklearn.metrics import average_precision_score\n\n\n'
        "def pr_auc(y, p):\n    return average_precision_score(y, p)\n"
    ),
    "eval/test_metrics.py": (
        "from eval.metrics import pr_auc\n\n\ndef test_pr_auc_perfect():\n"
        "    assert pr_auc([0, 1], [0.1, 0.9]) == 1.0\n"
    ),
    "eval/thresholds.yaml": "min_pr_auc: 0.62\nmax_fpr: 0.02\n",
    "deploy/serve.py": '"""Scoring service."""\n\n\ndef score(model, rows):\n    return model.predict_proba(rows)\n',
    "deploy/k8s/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: fraud-scorer\nspec:\n  replicas: 2\n"
    ),
    "ops/alerts.yaml": "alerts:\n  - name: scorer_down\n    expr: up{job=\"fraud-scorer\"} == 0\n",
    # binder (SPEC §11): the serving image, written once by the vendor and never touched again
    "Dockerfile": "FROM python:3.12-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
                  "COPY . /app\nCMD [\"python\", \"-m\", \"deploy.serve\"]\n",
}

_TZ = ZoneInfo(DEMO_TZ)


@dataclass
class _Commit:
    author: str  # identity key
    when: datetime.datetime  # author date, aware
    message: str
    touch: list[str] = field(default_factory=list)  # paths edited generically (added if missing)
    files: dict[str, str] = field(default_factory=dict)  # paths with explicit new content
    committer: str | None = None  # identity key; the author when None
    committed: datetime.datetime | None = None  # committer date; the author date when None
    ref: str = "main"
    merge_of: str | None = None  # for a merge commit: the branch merged into `ref`
    bump: tuple[str, str, str] | None = None  # requirements.txt: (package, old version, new version)


def _at(week: int, weekday: int, hour: int, minute: int) -> datetime.datetime:
    """Local time on `weekday` (0 = Monday) of engagement `week` (0 = the week before the start)."""
    day = DEMO_START + datetime.timedelta(days=7 * (week - 1) + weekday)
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=_TZ)


def _special_commits() -> list[_Commit]:
    c: list[_Commit] = []
    # Week 0: the client creates the repository, Acme scaffolds it.
    c.append(_Commit("ines", _at(0, 1, 10, 0), "Initial commit",
                     files={p: SCAFFOLD[p] for p in ("README.md", ".gitignore")}))
    c.append(_Commit("marco", _at(0, 2, 14, 10), "Scaffold data and training packages", files={
        p: SCAFFOLD[p] for p in SCAFFOLD
        if p.startswith(("data/", "train/", "pipelines/")) or p == "requirements.txt"}))
    c.append(_Commit("sofia", _at(0, 3, 11, 30), "Scaffold evaluation and serving",
                     files={p: SCAFFOLD[p] for p in SCAFFOLD if p.startswith(("eval/", "deploy/", "Dockerfile"))}))
    c.append(_Commit("marco", _at(0, 4, 9, 45), "Add alert rules skeleton",
                     files={"ops/alerts.yaml": SCAFFOLD["ops/alerts.yaml"]}))
    c.append(_Commit("sofia", _at(0, 4, 16, 20), "Add Makefile targets for the pipelines",
                     files={"Makefile": SCAFFOLD["Makefile"]}))
    # Week 1: not every commit touches a capability.
    c.append(_Commit("marco", _at(1, 4, 17, 5), "Document local setup in README", touch=["README.md"]))
    # Week 2: Monday 00:30 local = Sunday 22:30 UTC; it belongs to week 2.
    c.append(_Commit("sofia", _at(2, 0, 0, 30), "Fix label join in training frame", touch=["train/train.py"]))
    c.append(_Commit("sofia", _at(2, 2, 15, 50), "Share feature list between data and training pipelines",
                     touch=["pipelines/data_pipeline.py", "pipelines/train_pipeline.py"]))
    # Week 3: an unknown contributor (not on the roster, gmail) and a non-capability vendor change.
    c.append(_Commit("alex", _at(3, 1, 21, 40), "Fix typos in architecture overview",
                     touch=["docs/architecture.md"]))
    c.append(_Commit("sofia", _at(3, 3, 16, 35), "Add retry helper to pipelines", touch=["pipelines/common.py"]))
    # Week 4: the internal team documents the handoff.
    c.append(_Commit("ines", _at(4, 4, 16, 10), "Add handoff notes to README", touch=["README.md"]))
    # Week 5: Tom Becker moves from Acme to the client on Wednesday 2026-10-07.
    c.append(_Commit("tom_acme", _at(5, 0, 10, 20), "Retry failed training shards", touch=["train/train.py"]))
    c.append(_Commit("tom_acme", _at(5, 1, 15, 5), "Add graceful shutdown to scorer", touch=["deploy/serve.py"]))
    c.append(_Commit("priya", _at(5, 2, 14, 25), "Gate canary promotion on evaluation thresholds\n\n"
                     "Co-authored-by: Sofia Lindqvist <sofia.lindqvist@acme-consulting.com>",
                     touch=["eval/thresholds.yaml", "deploy/canary.yaml"]))
    # Thursday: still his old git config (Acme email) but already internal per the roster.
    c.append(_Commit("tom_acme", _at(5, 3, 11, 40), "Lower default batch size", touch=["train/config.yaml"]))
    c.append(_Commit("tom", _at(5, 4, 9, 30), "Make rollback script idempotent", touch=["deploy/rollback.sh"]))
    # Weeks 5-6: feature branch, merged with --no-ff. The first commit was rebased: authored in
    # week 5, committed in week 6.
    c.append(_Commit("ivan", _at(5, 4, 16, 40), "Add drift monitor job", touch=["ops/drift_monitor.py"],
                     committed=_at(6, 0, 9, 5), ref="feature/drift-monitor"))
    c.append(_Commit("ivan", _at(6, 1, 11, 15), "Alert when drift monitor finds PSI above 0.2",
                     touch=["ops/alerts.yaml"], ref="feature/drift-monitor"))
    c.append(_Commit("sofia", _at(6, 2, 10, 50), "Review: read PSI bins from config",
                     touch=["ops/drift_monitor.py"], ref="feature/drift-monitor"))
    c.append(_Commit("priya", _at(6, 3, 17, 0), "Merge branch 'feature/drift-monitor'",
                     merge_of="feature/drift-monitor"))
    c.append(_Commit("ivan", _at(6, 2, 13, 10), "Log evaluation metrics from the training loop",
                     touch=["train/train.py", "eval/metrics.py"]))
    c.append(_Commit("alex", _at(6, 3, 22, 5), "Add glossary of fraud terms", touch=["docs/glossary.md"]))
    # Week 7: Makefile (no capability) and a Sunday hotfix just after the DST change (+0100).
    c.append(_Commit("priya", _at(7, 1, 12, 0), "Add eval target to Makefile and a model card", touch=["Makefile"],
                     files={"MODEL_CARD.md": MODEL_CARD}))  # the binder's model card (SPEC §11), late
    c.append(_Commit("priya", _at(7, 6, 11, 15), "Document weekend escalation after alert storm",
                     touch=["runbooks/incident.md"]))
    # Dependabot bumps (squash-merged on GitHub, so committed by "GitHub").
    for week, weekday, hour, minute, pkg, old, new in DEPENDABOT_BUMPS:
        c.append(_Commit(
            "dependabot", _at(week, weekday, hour, minute),
            f"Bump {pkg} from {old} to {new}\n\nBumps {pkg} from {old} to {new}.\n\n"
            "Signed-off-by: dependabot[bot] <support@github.com>",
            bump=(pkg, old, new), committer="github", committed=_at(week, weekday, hour + 3, minute)))
    return c


def _regular_commits() -> list[_Commit]:
    out: list[_Commit] = []
    file_turn = dict.fromkeys(CAPABILITIES, 0)
    msg_turn = dict.fromkeys(CAPABILITIES, 0)
    for week in sorted(REGULAR):
        # Interleave capabilities so that every day sees mixed work.
        queues = [
            [(cap, who) for who, n in plan for _ in range(n)]
            for cap, plan in REGULAR[week].items()
        ]
        order: list[tuple[str, str]] = []
        while any(queues):
            for q in queues:
                if q:
                    order.append(q.pop(0))
        for k, (cap, who) in enumerate(order):
            weekday = k % 5
            slot = k // 5
            minute_of_day = 9 * 60 + 7 + slot * 53 + (k * 17) % 23
            when = _at(week, weekday, minute_of_day // 60, minute_of_day % 60)
            files = [p for p, first in CAP_FILES[cap] if first <= week]
            path = files[file_turn[cap] % len(files)]
            file_turn[cap] += 1
            msgs = MESSAGES[cap]
            message = msgs[msg_turn[cap] % len(msgs)]
            msg_turn[cap] += 1
            out.append(_Commit(who, when, message, touch=[path]))
    return out


def _slug(text: str) -> str:
    words = re.sub(r"[^a-z0-9]+", " ", text.lower()).split()
    return "_".join(words[:4]) or "change"


def _edit(path: str, old: str | None, message: str, n: int) -> str:
    """A small, plausible change of `path` for a commit with `message` (n = a running number)."""
    slug = _slug(message)
    body = old or ""
    if path.endswith(".py"):
        if not body:
            body = f'"""{Path(path).stem.replace("_", " ").capitalize()}."""\n'
        if Path(path).name.startswith("test_"):
            name = slug if slug.startswith("test_") else f"test_{slug}"
        else:
            name = slug
        if re.search(rf"^def {name}\(", body, re.M):
            name = f"{name}_{n}"
        if name.startswith("test_"):
            return body + f"\n\ndef {name}():\n    # {message}\n    assert {n} > 0\n"
        return body + f'\n\ndef {name}(frame):\n    """{message}."""\n    return frame\n'
    if path.endswith((".yaml", ".yml")):
        return body + f"{slug}: {n}  # {message}\n"
    if path.endswith(".md"):
        if not body:
            body = f"# {Path(path).stem.replace('_', ' ').capitalize()}\n\n"
        return body + f"- {message}.\n"
    if path.endswith(".sh"):
        if not body:
            body = "#!/usr/bin/env bash\nset -euo pipefail\n"
        return body + f"# {message}\necho 'step {n}'\n"
    return body + f"# {message}\n"


def _mode(path: str) -> str:
    return "100755" if path.endswith(".sh") else "100644"


def _signature(identity: str, when: datetime.datetime) -> str:
    name, email = IDENTITIES[identity]
    offset = when.utcoffset() or datetime.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{name} <{email}> {int(when.timestamp())} {sign}{minutes // 60:02d}{minutes % 60:02d}"


def _data(payload: str) -> bytes:
    raw = payload.encode("utf-8")
    return b"data %d\n" % len(raw) + raw + b"\n"


def _fast_import_stream(commits: list[_Commit]) -> bytes:
    """A `git fast-import` stream for `commits` (already in commit order)."""
    out: list[bytes] = []
    tips: dict[str, int] = {}  # ref -> mark
    trees: dict[str, dict[str, str]] = {}  # ref -> {path: content} at its tip
    bases: dict[str, dict[str, str]] = {}  # branch -> tree at the fork point
    n = 0
    for mark, c in enumerate(commits, start=1):
        parents: list[int] = []
        if c.ref in tips:
            parents.append(tips[c.ref])
            tree = dict(trees[c.ref])
        elif tips:  # a new branch forks from main's tip
            parents.append(tips["main"])
            tree = dict(trees["main"])
            bases[c.ref] = dict(tree)
        else:
            tree = {}
        before = dict(tree)
        if c.merge_of:
            base, theirs = bases[c.merge_of], trees[c.merge_of]
            for path in sorted(set(base) | set(theirs)):
                if base.get(path) == theirs.get(path):
                    continue
                if tree.get(path) != base.get(path):
                    raise AssertionError(f"demo merge conflict on {path}")
                if path in theirs:
                    tree[path] = theirs[path]
                else:
                    tree.pop(path, None)
            parents.append(tips[c.merge_of])
        tree.update(c.files)
        if c.bump:
            pkg, old, new = c.bump
            if f"{pkg}=={old}\n" not in tree["requirements.txt"]:
                raise AssertionError(f"demo: {pkg}=={old} not in requirements.txt")
            tree["requirements.txt"] = tree["requirements.txt"].replace(f"{pkg}=={old}\n", f"{pkg}=={new}\n")
        for path in c.touch:
            n += 1
            tree[path] = _edit(path, tree.get(path), c.message.splitlines()[0], n)
        out.append(f"commit refs/heads/{c.ref}\nmark :{mark}\n".encode())
        out.append(f"author {_signature(c.author, c.when)}\n".encode())
        out.append(f"committer {_signature(c.committer or c.author, c.committed or c.when)}\n".encode())
        out.append(_data(c.message.rstrip("\n") + "\n"))
        if parents:
            out.append(f"from :{parents[0]}\n".encode())
        for p in parents[1:]:
            out.append(f"merge :{p}\n".encode())
        for path in sorted(set(before) | set(tree)):
            if path not in tree:
                out.append(f"D {path}\n".encode())
            elif before.get(path) != tree[path]:
                out.append(f"M {_mode(path)} inline {path}\n".encode())
                out.append(_data(tree[path]))
        out.append(b"\n")
        tips[c.ref] = mark
        trees[c.ref] = tree
    out.append(b"done\n")
    return b"".join(out)


def _all_commits() -> list[_Commit]:
    commits = _special_commits() + _regular_commits()
    # Commit order: by committer date (a rebased commit sits where it was committed); stable.
    return sorted(commits, key=lambda c: (c.committed or c.when).astimezone(datetime.UTC))


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Baton demo",
        "GIT_AUTHOR_EMAIL": "demo@baton.invalid",
        "GIT_COMMITTER_NAME": "Baton demo",
        "GIT_COMMITTER_EMAIL": "demo@baton.invalid",
        "LC_ALL": "C",
    })
    return env


_GIT_OPTS = [
    "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false",
    "-c", "user.name=Baton demo", "-c", "user.email=demo@baton.invalid",
]


def _git(args: list[str], cwd: Path, stdin: bytes | None = None) -> None:
    subprocess.run(["git", *_GIT_OPTS, *args], cwd=cwd, env=_git_env(), input=stdin,
                   check=True, capture_output=True)


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(_toml_str(i) for i in items) + "]"


def engagement_toml() -> str:
    """The engagement file's text (SPEC §2), written by hand."""
    lines = [
        "# Demo engagement generated by collectors/demo/build.py. Edit freely; rebuild to reset.",
        "[engagement]",
        f"name = {_toml_str(DEMO_NAME)}",
        f"start = {DEMO_START.isoformat()}",
        f"weeks = {DEMO_WEEKS}",
        f"timezone = {_toml_str(DEMO_TZ)}",
        "",
    ]
    for name, emails, logins, affiliations in ROSTER:
        lines += ["[[people]]", f"name = {_toml_str(name)}", f"emails = {_toml_list(emails)}",
                  f"github = {_toml_list(logins)}", "affiliations = ["]
        if name in demo_tickets.JIRA_IDS:  # Jira account ids (tickets), inserted before affiliations
            lines.insert(len(lines) - 1, f"jira = {_toml_list([demo_tickets.JIRA_IDS[name]])}")
        for side, org, start, until in affiliations:
            parts = [f"side = {_toml_str(side)}", f"org = {_toml_str(org)}"]
            if start:
                parts.append(f"from = {start.isoformat()}")
            if until:
                parts.append(f"until = {until.isoformat()}")
            lines.append("  { " + ", ".join(parts) + " },")
        lines += ["]", ""]
    lines += [
        "[classify]",
        'internal_email_domains = ["client.com"]',
        'vendor_email_domains = ["acme-consulting.com"]',
        'bots = ["*[bot]", "dependabot*", "renovate*", "github-actions*"]',
        "",
        "[[sources.git]]",
        f"path = {_toml_str(REPO_NAME)}",
        'branch = "main"',
        "",
    ]
    for key, paths in CAPABILITIES.items():
        lines += ["[[capabilities]]", f"key = {_toml_str(key)}", f"paths = {_toml_list(paths)}", ""]
    for key, title, paths, capability, max_age in ARTIFACTS:
        lines += ["[[artifacts]]", f"key = {_toml_str(key)}", f"title = {_toml_str(title)}",
                  f"paths = {_toml_list(paths)}"]
        lines += [f"capability = {_toml_str(capability)}"] if capability else []
        lines += [f"max_age_weeks = {max_age}", ""]
    lines.append("[plan]")
    for key, weeks in PLAN.items():
        lines.append(f"{key} = {{ " + ", ".join(f"{w} = {s}" for w, s in sorted(weeks.items())) + " }")
    for ms in MILESTONES:
        lines += ["", "[[milestones]]", f"id = {_toml_str(ms['id'])}", f"due_week = {ms['due_week']}",
                  f"title = {_toml_str(ms['title'])}"]
        if ms.get("capability"):
            lines.append(f"capability = {_toml_str(ms['capability'])}")
        lines.append("criteria = [")
        for c in ms["criteria"]:
            parts = [f"{k} = {_toml_str(v) if isinstance(v, str) else v}" for k, v in c.items()]
            lines.append("  { " + ", ".join(parts) + " },")
        lines.append("]")
    return "\n".join(lines) + "\n" + demo_tickets.toml_section()


def build_demo(out_dir: Path) -> Path:
    """Create out_dir/fraud-model (a real git repo made with git) and out_dir/engagement.toml; return the toml path.

    Idempotent: if out_dir exists, remove the two things it creates and rebuild.
    """
    out_dir = Path(out_dir)
    repo = out_dir / REPO_NAME
    toml_path = out_dir / TOML_NAME
    if repo.is_symlink() or repo.is_file():
        repo.unlink()
    elif repo.exists():
        shutil.rmtree(repo)
    toml_path.unlink(missing_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)

    _git(["init", "-q", REPO_NAME], cwd=out_dir)
    _git(["fast-import", "--quiet", "--done"], cwd=repo, stdin=_fast_import_stream(_all_commits()))
    _git(["checkout", "-q", "-f", "main"], cwd=repo)
    toml_path.write_text(engagement_toml(), encoding="utf-8")
    (out_dir / demo_tickets.RECORDING_NAME).write_text(demo_tickets.recording_json(), encoding="utf-8")
    return toml_path


if __name__ == "__main__":  # pragma: no cover - convenience: python -m collectors.demo.build [out_dir]
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("demo")
    print(build_demo(target))
