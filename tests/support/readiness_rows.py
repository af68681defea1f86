"""Rows as the DB readers give them, for small hand-computed readiness engagements (no git, no DB).

Start Monday 2026-09-07, UTC; Ann and Bob are internal (client.com, GitHub ann/bob), Vic is vendor (acme.com, vic).
Commits are on Tuesday 10:00 of their week, runs on Wednesday 10:00 (+ minutes to keep them ordered).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from metrics.engagement import SourceData
from metrics.engagement_file import parse_engagement

START = dt.date(2026, 9, 7)
TODAY = dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC)  # week 4
PEOPLE = {"ann": ("Ann Client", "ann@client.com"), "bob": ("Bob Client", "bob@client.com"),
          "vic": ("Vic Vendor", "vic@acme.com")}


def config(**extra):
    return parse_engagement({
        "engagement": {"name": "Tiny", "start": START, "weeks": 4, "timezone": "UTC"},
        "people": [{"name": name, "emails": [email], "github": [login],
                    "affiliations": [{"side": "vendor" if login == "vic" else "internal"}]}
                   for login, (name, email) in PEOPLE.items()],
        "capabilities": [{"key": "data", "paths": ["data/**"]}, {"key": "training", "paths": ["train/**"]}],
        "pipeline": {"data_cut": {"workflows": ["cut.yml"]}, "deploy": {"workflows": ["deploy.yml"]}},
        **extra,
    })


def at(week: int, day: int, minute: int = 0) -> pd.Timestamp:
    return pd.Timestamp(START + dt.timedelta(days=7 * (week - 1) + day), tz="UTC") + pd.Timedelta(hours=10,
                                                                                                 minutes=minute)


def commits(rows: list[tuple[int, str, str]], merges: list[tuple[int, str, int]] = ()) -> tuple[pd.DataFrame,
                                                                                               pd.DataFrame]:
    """(week, login, path) non-merge commits; (week, login, index of the merged tip in `rows`) merge commits."""
    out, files = [], []
    for i, (week, login, path) in enumerate(rows):
        name, email = PEOPLE[login]
        sha = f"{i:02d}" + "ab" * 19
        out.append({"source_id": 1, "repo": "model", "sha": sha, "parents": "", "is_merge": False, "name": name,
                    "email": email, "at": at(week, 1, i), "author_tz_minutes": 0, "committer_name": name,
                    "committer_email": email, "committed_at": at(week, 1, i), "subject": f"change {path}",
                    "co_authors": "", "files_changed": 1, "lines_added": 1, "lines_deleted": 0})
        files.append({"source_id": 1, "sha": sha, "path": path, "old_path": None, "added": 1, "deleted": 0,
                      "binary": False})
    for j, (week, login, tip) in enumerate(merges):
        name, email = PEOPLE[login]
        sha = f"{j:02d}" + "cd" * 19
        out.append({"source_id": 1, "repo": "model", "sha": sha, "parents": f"{'ef' * 20} {out[tip]['sha']}",
                    "is_merge": True, "name": name, "email": email, "at": at(week, 4, j), "author_tz_minutes": 0,
                    "committer_name": name, "committer_email": email, "committed_at": at(week, 4, j),
                    "subject": f"Merge {out[tip]['sha'][:7]}", "co_authors": "", "files_changed": 0,
                    "lines_added": 0, "lines_deleted": 0})
    return pd.DataFrame(out), pd.DataFrame(files)


def runs(rows: list[tuple[int, str, str, str]]) -> pd.DataFrame:
    """(week, workflow file, triggering login, event) successful runs."""
    out = []
    for i, (week, workflow, login, event) in enumerate(rows):
        created = at(week, 2, i)
        out.append({"source_id": 2, "repo": "client/model", "run_id": 100 + i, "run_attempt": 1,
                    "workflow_path": f".github/workflows/{workflow}", "name": workflow.removesuffix(".yml"),
                    "display_title": workflow, "event": event, "actor_login": login, "actor_type": "User",
                    "triggering_login": login, "triggering_type": "User", "head_sha": None, "head_branch": "main",
                    "status": "completed", "conclusion": "success", "created_at": created, "run_started_at": created,
                    "updated_at": created + pd.Timedelta(minutes=30),
                    "html_url": f"https://github.com/client/model/actions/runs/{100 + i}"})
    return pd.DataFrame(out)


def signatures(rows: list[tuple[int, str, str, str, int | None, str]]) -> pd.DataFrame:
    """(id, milestone, action, login, revokes id, claimed side) signatures, all in week 2, of the engagement's id
    (the ledger keys signatures by [engagement].id)."""
    engagement = config().engagement.id
    return pd.DataFrame([{"id": i, "engagement": engagement, "milestone": ms, "action": action, "revokes_id": revokes,
                          "name": PEOPLE[login][0], "email": PEOPLE[login][1], "claimed_side": side,
                          "at": at(2, 3, i)} for i, ms, action, login, revokes, side in rows])


def source_data(commit_rows, merges=(), run_rows=(), signature_rows=()) -> SourceData:
    c, f = commits(commit_rows, list(merges))
    return SourceData(c, f, workflow_runs=runs(list(run_rows)) if run_rows else pd.DataFrame(),
                      signatures=signatures(list(signature_rows)) if signature_rows else pd.DataFrame())
