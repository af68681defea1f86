"""A small, hand-countable engagement for the per-KPI tests (tests/metrics/kpis/test_<key>.py), as frames shaped like
db.queries returns them (no DB): each test lists its events in a table, computes through metrics.engagement.compute
(the registry), and checks the weekly rows, the evidence rows and their reconciliation.

Engagement: starts Monday 2026-09-07, UTC, 3 weeks (today: 2026-09-30, week 4). Week 1 = Sep 7-13, week 2 =
Sep 14-20, week 3 = Sep 21-27. Ines (ines@client.com, GitHub iortiz, Jira acc-ines) is internal; Marco
(marco@acme.com, marco, acc-marco) is vendor; Tom (tom@acme.com, tbecker, acc-tom) is vendor until 2026-09-21
and internal from then on. `*[bot]` logins are bots; `stranger@gmail.com` is unattributed.
Capabilities: data (data/**, ci_workflows data-cut.yml, ticket label "data"), training (train/**, train.yml,
ticket label "training"). Pipeline: data_cut = data-cut.yml or tags data-v*, train = train.yml.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from metrics.engagement import EngagementMetrics, SourceData, compute
from metrics.engagement_file import parse_engagement
from metrics.service import evidence, reconcile

START = dt.date(2026, 9, 7)
TODAY = dt.datetime(2026, 9, 30, 12, tzinfo=dt.UTC)
PEOPLE = {"Ines": ("ines@client.com", "iortiz", "acc-ines"), "Marco": ("marco@acme.com", "marco", "acc-marco"),
          "Tom": ("tom@acme.com", "tbecker", "acc-tom")}


def config(**extra):
    return parse_engagement({
        "engagement": {"name": "World", "start": START, "weeks": 3, "timezone": "UTC"},
        "people": [
            {"name": "Ines", "emails": ["ines@client.com"], "github": ["iortiz"], "jira": ["acc-ines"],
             "affiliations": [{"side": "internal"}]},
            {"name": "Marco", "emails": ["marco@acme.com"], "github": ["marco"], "jira": ["acc-marco"],
             "affiliations": [{"side": "vendor"}]},
            {"name": "Tom", "emails": ["tom@acme.com"], "github": ["tbecker"], "jira": ["acc-tom"],
             "affiliations": [{"side": "vendor", "until": dt.date(2026, 9, 21)},
                              {"side": "internal", "from": dt.date(2026, 9, 21)}]},
        ],
        "capabilities": [
            {"key": "data", "paths": ["data/**"], "ci_workflows": ["data-cut.yml"], "ticket_labels": ["data"]},
            {"key": "training", "paths": ["train/**"], "ci_workflows": ["train.yml"], "ticket_labels": ["training"]},
        ],
        "pipeline": {"data_cut": {"workflows": ["data-cut.yml"], "tags": ["data-v*"]},
                     "train": {"workflows": ["train.yml"]}},
        **extra,
    })


def at(when: str) -> pd.Timestamp:
    """'2026-09-08 10:00' -> a UTC instant."""
    return pd.Timestamp(when, tz="UTC")


def _who(author: str) -> tuple[str, str]:
    """(name, email) of a person of the world, a bot login, or a raw 'Name <email>'."""
    if author in PEOPLE:
        return author, PEOPLE[author][0]
    if "<" in author:
        name, email = author.rsplit(" <", 1)
        return name, email.rstrip(">")
    return author, f"{author}@users.noreply.github.com"


def commits(rows: list[tuple]) -> dict[str, pd.DataFrame]:
    """rows: (sha, when, author, [paths]) or (sha, when, author, [paths], parents) -> commits + commit_files."""
    out, files = [], []
    for row in rows:
        sha, when, author, paths = row[:4]
        parents = row[4] if len(row) > 4 else ""
        name, email = _who(author)
        out.append({"source_id": 1, "repo": "model", "sha": sha, "parents": parents,
                    "is_merge": len(parents.split()) > 1, "name": name, "email": email, "at": at(when),
                    "author_tz_minutes": 0, "committer_name": name,
                    "committer_email": email, "committed_at": at(when), "subject": f"commit {sha}", "co_authors": "",
                    "files_changed": len(paths), "lines_added": 1, "lines_deleted": 0})
        files += [{"source_id": 1, "sha": sha, "path": p, "old_path": None, "added": 1, "deleted": 0, "binary": False}
                  for p in paths]
    columns = ["source_id", "repo", "sha", "parents", "is_merge", "name", "email", "at", "author_tz_minutes",
               "committer_name", "committer_email", "committed_at", "subject", "co_authors", "files_changed",
               "lines_added", "lines_deleted"]
    frame = pd.DataFrame(out, columns=columns)
    if frame.empty:
        frame = frame.astype({"is_merge": bool, "at": "datetime64[ns, UTC]", "committed_at": "datetime64[ns, UTC]"})
    return {"commits": frame, "commit_files": pd.DataFrame(files, columns=["source_id", "sha", "path",
                                                                                        "old_path", "added",
                                                                                        "deleted", "binary"])}


def pull_requests(rows: list[tuple], reviews: list[tuple] = ()) -> dict[str, pd.DataFrame]:
    """PRs: (number, author login or None, merged_at or None, base, [paths]); author type Bot for '*[bot]'.
    Reviews: (review id, PR number, reviewer login, state, submitted_at)."""
    prs = pd.DataFrame({
        "source_id": 1, "repo": "acme/model", "number": [r[0] for r in rows], "title": [f"PR {r[0]}" for r in rows],
        "state": ["closed" if r[2] else "open" for r in rows],
        "html_url": [f"https://github.com/acme/model/pull/{r[0]}" for r in rows],
        "author_login": [r[1] for r in rows],
        "author_type": ["Bot" if (r[1] or "").endswith("[bot]") else "User" if r[1] else None for r in rows],
        "merged_at": pd.to_datetime([r[2] for r in rows], utc=True), "base_ref": [r[3] for r in rows]})
    files = pd.DataFrame([{"source_id": 1, "number": r[0], "path": p, "previous_path": None} for r in rows
                          for p in r[4]], columns=["source_id", "number", "path", "previous_path"])
    revs = pd.DataFrame({
        "source_id": 1, "review_id": [r[0] for r in reviews], "number": [r[1] for r in reviews],
        "reviewer_login": [r[2] for r in reviews],
        "reviewer_type": ["Bot" if r[2].endswith("[bot]") else "User" for r in reviews],
        "state": [r[3] for r in reviews], "submitted_at": pd.to_datetime([r[4] for r in reviews], utc=True),
        "html_url": [f"https://github.com/acme/model/pull/{r[1]}#review-{r[0]}" for r in reviews]},
        columns=["source_id", "review_id", "number", "reviewer_login", "reviewer_type", "state", "submitted_at",
                 "html_url"])
    return {"pull_requests": prs, "pr_files": files, "reviews": revs}


def runs(rows: list[tuple], tags: list[tuple] = ()) -> dict[str, pd.DataFrame]:
    """Runs: (run id, attempt, workflow file, event, triggering login, created, completed, conclusion).
    Tags: (name, when, tagger name)."""
    frame = pd.DataFrame({
        "source_id": 1, "repo": "acme/model", "run_id": [r[0] for r in rows], "run_attempt": [r[1] for r in rows],
        "workflow_path": [f".github/workflows/{r[2]}" for r in rows], "name": [r[2].removesuffix(".yml") for r in rows],
        "event": [r[3] for r in rows], "actor_login": [r[4] for r in rows], "triggering_login": [r[4] for r in rows],
        "triggering_type": ["Bot" if r[4].endswith("[bot]") else "User" for r in rows],
        "status": "completed", "conclusion": [r[7] for r in rows],
        "created_at": pd.to_datetime([r[5] for r in rows], utc=True),
        "run_started_at": pd.to_datetime([r[5] for r in rows], utc=True),
        "updated_at": pd.to_datetime([r[6] for r in rows], utc=True),
        "html_url": [f"https://github.com/acme/model/actions/runs/{r[0]}" for r in rows]})
    tag_frame = pd.DataFrame({
        "source_id": 1, "name": [t[0] for t in tags], "sha": "x", "at": pd.to_datetime([t[1] for t in tags], utc=True),
        "tagger_name": [t[2] for t in tags], "tagger_email": [PEOPLE[t[2]][0] for t in tags]},
        columns=["source_id", "name", "sha", "at", "tagger_name", "tagger_email"])
    return {"workflow_runs": frame, "tags": tag_frame}


CATEGORY = {"new": ("1", "Open"), "indeterminate": ("3", "In Progress"), "done": ("5", "Done")}


class Tickets:
    """Tickets as db.queries.load_tickets/load_ticket_events/load_checklist_items return them (Jira accounts)."""

    def __init__(self):
        self.tickets, self.events, self.items = [], [], []

    def ticket(self, key: str, created: str, labels: list[str], assignee: str | None, status: str = "new",
               links: list[str] = (), description: str | None = None) -> Tickets:
        self.tickets.append({
            "source_id": 7, "repo": "jira", "source_kind": "jira", "key": key, "tracker_id": key,
            "url": f"https://jira.example/browse/{key}", "type": "Task", "title": f"title {key}",
            "labels": "\n".join(labels), "status_id": CATEGORY[status][0], "status_name": CATEGORY[status][1],
            "status_category": status, "reporter_name": None, "reporter_email": None, "reporter_login": None,
            "reporter_jira_id": None, "reporter_bot": False, "assignee_name": assignee, "assignee_email": None,
            "assignee_login": None, "assignee_jira_id": PEOPLE[assignee][2] if assignee else None,
            "assignee_bot": False, "created_at": at(created), "created_tz_minutes": 0, "updated_at": at(created),
            "resolved_at": pd.NaT, "links": "[" + ",".join(f'{{"type": "relates", "direction": "outward", '
                                                         f'"key": "{k}"}}' for k in links) + "]",
            "parent_key": None, "description": description, "severity": None})
        return self

    def move(self, key: str, when: str, actor: str, frm: str, to: str) -> Tickets:
        """A status transition between categories (new, indeterminate, done) by a person of the world."""
        self.events.append({
            "source_id": 7, "source_kind": "jira", "ticket_key": key, "event_id": f"e{len(self.events)}",
            "kind": "status", "at": at(when), "tz_minutes": 0, "name": actor, "email": None, "login": None,
            "jira_id": PEOPLE[actor][2], "source_bot": False, "actor_system": False,
            "from_id": CATEGORY[frm][0], "from_name": CATEGORY[frm][1], "from_category": frm,
            "to_id": CATEGORY[to][0], "to_name": CATEGORY[to][1], "to_category": to, "body": None})
        return self

    def comment(self, key: str, when: str, actor: str) -> Tickets:
        self.events.append({
            "source_id": 7, "source_kind": "jira", "ticket_key": key, "event_id": f"e{len(self.events)}",
            "kind": "comment", "at": at(when), "tz_minutes": 0, "name": actor, "email": None, "login": None,
            "jira_id": PEOPLE[actor][2], "source_bot": False, "actor_system": False, "from_id": None,
            "from_name": None, "from_category": None, "to_id": None, "to_name": None, "to_category": None,
            "body": "a comment"})
        return self

    def frames(self) -> dict[str, pd.DataFrame]:
        items = pd.DataFrame(self.items, columns=["source_id", "ticket_key", "position", "level", "text", "checked",
                                                  "checked_at", "checked_by_name", "checked_by_login",
                                                  "checked_by_jira_id"])
        return {"tickets": pd.DataFrame(self.tickets), "ticket_events": pd.DataFrame(self.events),
                "checklist_items": items}


def metrics(cfg=None, **frames) -> EngagementMetrics:
    """compute() over the given frames (commits default to none), today = TODAY."""
    parts = {**commits([]), **frames}
    return compute(cfg or config(), SourceData(**parts), today=TODAY)


def table(m: EngagementMetrics, kpi: str, columns: list[str], capability: str | None = None) -> list[list]:
    """The KPI's weekly rows (engagement-wide, or of a capability) as lists, floats rounded to 4 places."""
    rows = m.weekly[m.weekly["kpi"] == kpi]
    rows = rows[rows["capability"].isna()] if capability is None else rows[rows["capability"] == capability]
    out = rows.sort_values("week")[columns].astype(object).where(rows[columns].notna(), None).values.tolist()
    return [[round(v, 4) if isinstance(v, float) else v for v in r] for r in out]


def assert_every_row_reconciles(m: EngagementMetrics, kpi: str) -> None:
    """Every weekly row of the KPI equals its counted evidence rows by side (and `n`)."""
    rows = m.weekly[m.weekly["kpi"] == kpi]
    assert len(rows), f"{kpi} has no rows"
    problems = []
    for week, cap in zip(rows["week"], rows["capability"], strict=True):
        problems += reconcile(m, kpi, int(week), cap if isinstance(cap, str) else None)
    assert problems == []


def rows_of(m: EngagementMetrics, kpi: str, week: int, capability: str | None = None,
            columns: tuple[str, ...] = ("kind", "id", "side", "counted")) -> list[list]:
    return evidence(m, kpi, week, capability)[list(columns)].values.tolist()
