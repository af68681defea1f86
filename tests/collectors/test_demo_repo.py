"""The demo engagement (collectors/demo/build.py) builds the repository its INTENDED_* tables describe.

Deliberately independent of the project's attribution and metrics code: sides come from the explicit
email table below, weeks from the author date's local calendar day, capabilities from a tiny glob matcher.
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from collectors.demo import build as demo
from collectors.demo import readiness as demo_readiness

START = datetime.date(2026, 9, 7)
TZ = ZoneInfo("Europe/Berlin")
HIRE_DATE = datetime.date(2026, 10, 7)  # Tom Becker: vendor before, internal from this day

SIDE_BY_EMAIL = {
    "marco.bianchi@acme-consulting.com": "vendor",
    "sofia.lindqvist@acme-consulting.com": "vendor",
    "ines.ortiz@client.com": "internal",
    "12345678+iortiz@users.noreply.github.com": "internal",
    "ivan-k@users.noreply.github.com": "internal",
    "priya.nair@client.com": "internal",
    "alex.chen.dev@gmail.com": "unattributed",
    "49699333+dependabot[bot]@users.noreply.github.com": "bots",
}
TOM_EMAILS = {"tom.becker@acme-consulting.com", "tom.becker@client.com"}

CAPABILITY_PATHS = {
    "data": ["data/**", "pipelines/data*.py"],
    "training": ["train/**", "pipelines/train*.py"],
    "evaluation": ["eval/**"],
    "deployment": ["deploy/**"],
    "operations": ["ops/**", "runbooks/**"],
}


def side_of(email: str, local_date: datetime.date) -> str:
    if email in TOM_EMAILS:
        return "vendor" if local_date < HIRE_DATE else "internal"
    return SIDE_BY_EMAIL[email]


def week_of(local_date: datetime.date) -> int:
    return 0 if local_date < START else (local_date - START).days // 7 + 1


def glob_matches(pattern: str, path: str) -> bool:
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            regex += ".*"
            i += 2
        elif pattern[i] == "*":
            regex += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            regex += "[^/]"
            i += 1
        else:
            regex += re.escape(pattern[i])
            i += 1
    return re.fullmatch(regex, path) is not None


@dataclass
class Commit:
    sha: str
    parents: list[str]
    author_name: str
    email: str
    authored: datetime.datetime
    committed: datetime.datetime
    body: str
    files: list[str]

    @property
    def local_date(self) -> datetime.date:
        return self.authored.astimezone(TZ).date()

    @property
    def week(self) -> int:
        return week_of(self.local_date)

    @property
    def side(self) -> str:
        return side_of(self.email, self.local_date)


def git_log(repo: Path) -> list[Commit]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    fmt = "%x1e%H%x00%P%x00%an%x00%ae%x00%aI%x00%cI%x00%B%x00"
    out = subprocess.run(
        ["git", "log", "main", f"--format={fmt}", "--name-only", "--no-renames"],
        cwd=repo, env=env, check=True, capture_output=True, text=True,
    ).stdout
    commits = []
    for record in out.split("\x1e")[1:]:
        sha, parents, name, email, authored, committed, body, rest = record.split("\x00")
        commits.append(Commit(
            sha, parents.split(), name, email, datetime.datetime.fromisoformat(authored),
            datetime.datetime.fromisoformat(committed), body, [f for f in rest.split("\n") if f],
        ))
    return commits


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Commit]]:
    out = tmp_path_factory.mktemp("demo")
    toml_path = demo.build_demo(out)
    return toml_path, git_log(out / "fraud-model")


def stage_of(internal: int, vendor: int) -> int | None:
    if internal + vendor == 0:
        return None
    share = internal / (internal + vendor)
    if vendor == 0:
        return 4
    if share >= 0.8 and vendor <= 1:
        return 3
    if share >= 0.5:
        return 2
    if share >= 0.1:
        return 1
    return 0


def planned(cap: str, week: int) -> int | None:
    weeks = [w for w in demo.PLAN.get(cap, {}) if w <= week]
    return demo.PLAN[cap][max(weeks)] if weeks else None


def test_constants() -> None:
    assert demo.DEMO_START == START and START.weekday() == 0
    assert demo.DEMO_TZ == "Europe/Berlin"
    assert demo.DEMO_WEEKS == 8


def test_engagement_toml(built: tuple[Path, list[Commit]]) -> None:
    toml_path, _ = built
    assert toml_path.name == "engagement.toml"
    doc = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    assert set(doc) <= {"engagement", "people", "classify", "sources", "capabilities", "plan", "milestones",
                        "pipeline", "cost", "artifacts", "readiness", "competency", "raci"}
    assert [a["key"] for a in doc["artifacts"]] == [a[0] for a in demo.ARTIFACTS]
    assert doc["readiness"]["operations"] == demo_readiness.OPERATIONS
    assert {cap: {role: {int(w): s for w, s in plan.items()} for role, plan in roles.items()}
            for cap, roles in doc["raci"].items()} == demo_readiness.RACI
    assert doc["milestones"] == demo.MILESTONES
    assert doc["engagement"] == {
        "name": "Fraud model handoff (demo)", "start": START, "weeks": 8, "timezone": "Europe/Berlin",
    }
    assert doc["classify"] == {
        "internal_email_domains": ["client.com"],
        "vendor_email_domains": ["acme-consulting.com"],
        "bots": ["*[bot]", "dependabot*", "renovate*", "github-actions*"],
    }
    assert doc["sources"] == {"git": [{"path": "fraud-model", "branch": "main"}], "jira": [{
        "base_url": "https://fraud-model.atlassian.net", "name": "fraud-model Jira", "jql": "project = MLOPS",
        "token_env": "DEMO_JIRA_TOKEN", "replay": "recordings"}],
        "github": [{"repo": "client/fraud-model", "replay": "recordings", "junit_workflows": ["eval.yml"]}],
        "mlflow": [{"name": "mlflow", "tracking_uri": "https://mlflow.fraud-model.example",
                    "experiments": ["fraud-train"], "replay": "recordings"}]}
    assert sorted(p.name for p in (toml_path.parent / "recordings").iterdir()) == [
        "github-client-fraud-model.jsonl", "jira-fraud-model.jsonl", "mlflow-demo.jsonl"]
    assert (toml_path.parent / "fraud-model" / ".git").is_dir()
    assert {c["key"]: c["paths"] for c in doc["capabilities"]} == CAPABILITY_PATHS
    assert all(set(c) == {"key", "paths"} for c in doc["capabilities"])
    assert {cap: {int(w): s for w, s in weeks.items()} for cap, weeks in doc["plan"].items()} == demo.PLAN

    people = {p["name"]: p for p in doc["people"]}
    for p in doc["people"]:
        assert set(p) <= {"name", "emails", "github", "jira", "mlflow", "affiliations"}
        for a in p["affiliations"]:
            assert set(a) <= {"side", "org", "from", "until"} and a["side"] in {"internal", "vendor"}
    assert len(people) == 6
    tom = people["Tom Becker"]["affiliations"]
    assert {"side": "vendor", "org": "Acme Consulting", "until": HIRE_DATE} in tom
    assert {"side": "internal", "org": "Client ML team", "from": HIRE_DATE} in tom
    assert "ivan-k@users.noreply.github.com" not in people["Ivan Kowalski"]["emails"]
    assert "ivan-k" in people["Ivan Kowalski"]["github"]
    assert len(people["Ines Ortiz"]["emails"]) == 2 and "iortiz" in people["Ines Ortiz"]["github"]
    rostered = {e for p in doc["people"] for e in p["emails"]}
    assert "alex.chen.dev@gmail.com" not in rostered


def test_counts_match_intended(built: tuple[Path, list[Commit]]) -> None:
    _, commits = built
    counts: dict[str, dict[int, list[int]]] = {cap: {} for cap in CAPABILITY_PATHS}
    weekly: dict[int, dict[str, int]] = {}
    for c in commits:
        if len(c.parents) > 1:
            continue
        side = c.side
        bucket = weekly.setdefault(c.week, {"internal": 0, "vendor": 0, "unattributed": 0, "bots": 0})
        bucket[side] += 1
        for cap, patterns in CAPABILITY_PATHS.items():
            if any(glob_matches(p, f) for p in patterns for f in c.files):
                assert side in {"internal", "vendor"}, (c.sha, c.email, cap)
                cell = counts[cap].setdefault(c.week, [0, 0])
                cell[0 if side == "internal" else 1] += 1
    actual = {
        cap: {w: tuple(counts[cap].get(w, [0, 0])) for w in range(1, 9)} for cap in CAPABILITY_PATHS
    }
    assert all(w in range(0, 9) for cap in counts for w in counts[cap])  # nothing after week 8
    assert actual == demo.INTENDED_COUNTS
    assert weekly == demo.INTENDED_WEEKLY_COMMITS
    assert 150 <= sum(1 for c in commits if len(c.parents) <= 1) <= 300


def test_intended_tables_are_consistent() -> None:
    assert set(demo.INTENDED_COUNTS) == set(CAPABILITY_PATHS) == set(demo.INTENDED_STAGES)
    empty = [(cap, w) for cap, weeks in demo.INTENDED_COUNTS.items() for w, n in weeks.items() if n == (0, 0)]
    assert len(empty) <= 1
    for cap, weeks in demo.INTENDED_COUNTS.items():
        assert sorted(weeks) == list(range(1, 9))
        assert {w: stage_of(*n) for w, n in weeks.items()} == demo.INTENDED_STAGES[cap], cap
    assert sorted(demo.INTENDED_WEEKLY_COMMITS) == list(range(0, 9))


def test_plan_differs_only_where_behind() -> None:
    diffs = {
        (cap, w)
        for cap, weeks in demo.INTENDED_STAGES.items()
        for w, measured in weeks.items()
        if planned(cap, w) != measured
    }
    assert diffs == demo.BEHIND_PLAN and len(diffs) == 2
    for cap, w in diffs:
        measured, plan = demo.INTENDED_STAGES[cap][w], planned(cap, w)
        assert measured is not None and plan is not None and measured < plan


def test_edge_cases_present(built: tuple[Path, list[Commit]]) -> None:
    _, commits = built
    by_sha = {c.sha: c for c in commits}
    merges = [c for c in commits if len(c.parents) > 1]
    assert len(merges) == 1
    merge = merges[0]
    side_tip = by_sha[merge.parents[1]]  # the branch's commits are reachable through the second parent
    assert side_tip.email == "sofia.lindqvist@acme-consulting.com"
    # The rebased branch commit: authored in week 5, committed in week 6.
    assert any(c.week == 5 and week_of(c.committed.astimezone(TZ).date()) == 6 for c in commits)

    coauthored = [c for c in commits if "Co-authored-by: " in c.body]
    assert coauthored and all(c.side == "internal" for c in coauthored)

    bots = [c for c in commits if c.author_name == "dependabot[bot]"]
    assert len(bots) >= 3 and all(c.files == ["requirements.txt"] for c in bots)
    unknown = [c for c in commits if c.email == "alex.chen.dev@gmail.com"]
    assert unknown and all(f.startswith("docs/") for c in unknown for f in c.files)

    assert any(c.week == 0 and c.side == "vendor" for c in commits)

    monday_0030 = [c for c in commits if c.authored.astimezone(TZ).time() == datetime.time(0, 30)]
    assert monday_0030 and monday_0030[0].local_date.weekday() == 0
    utc = monday_0030[0].authored.astimezone(datetime.UTC)
    assert utc.weekday() == 6 and monday_0030[0].week == 2 and week_of(utc.date()) == 1

    offsets = {c.authored.utcoffset() for c in commits}
    assert offsets == {datetime.timedelta(hours=2), datetime.timedelta(hours=1)}
    assert all(c.authored.utcoffset() == datetime.timedelta(hours=1) for c in commits if c.week == 8)
    assert any(c.week == 8 for c in commits)
    assert any(c.local_date == datetime.date(2026, 10, 25) and c.authored.utcoffset() == datetime.timedelta(hours=1)
               for c in commits)

    tom_week5 = [c for c in commits if c.email in TOM_EMAILS and c.week == 5]
    assert {c.side for c in tom_week5} == {"vendor", "internal"}
    assert {c.local_date.weekday() for c in tom_week5 if c.side == "vendor"} <= {0, 1}
    assert {c.local_date.weekday() for c in tom_week5 if c.side == "internal"} <= {3, 4}
    assert {c.email for c in commits if c.author_name == "Ines Ortiz"} == {
        "ines.ortiz@client.com", "12345678+iortiz@users.noreply.github.com",
    }
    assert {c.email for c in commits if c.author_name == "Ivan Kowalski"} == {"ivan-k@users.noreply.github.com"}
    # Multi-capability commits exist (counted once per capability, once engagement-wide).
    assert any(
        sum(any(glob_matches(p, f) for p in pats for f in c.files) for pats in CAPABILITY_PATHS.values()) > 1
        for c in commits
    )


def test_checked_out_and_deterministic(built: tuple[Path, list[Commit]], tmp_path: Path) -> None:
    toml_path, commits = built
    repo = toml_path.parent / "fraud-model"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    status = subprocess.run(["git", "status", "--porcelain", "--branch"], cwd=repo, env=env,
                            check=True, capture_output=True, text=True).stdout
    assert status.splitlines() == ["## main"]
    assert (repo / "train" / "train.py").is_file()

    # Rebuilding into the same directory is idempotent, keeps unrelated files and yields the same history.
    out = tmp_path / "again"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    demo.build_demo(out)
    (out / "fraud-model" / "stray.txt").write_text("x")
    demo.build_demo(out)
    assert (out / "keep.txt").read_text() == "mine"
    assert not (out / "fraud-model" / "stray.txt").exists()
    again = git_log(out / "fraud-model")
    assert [c.sha for c in again] == [c.sha for c in commits]
