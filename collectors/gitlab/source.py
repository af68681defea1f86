"""The GitLab source (SPEC §12): merge requests with approvals, notes and files, pipelines with their user and jobs.

Streams and cursors:
- `project`: the project's numeric id and path (`GET /projects/:path` once; later requests use the id, which
  survives renames and transfers).
- `merge_requests`: the newest `updated_at` written. Each collection sweeps `GET /projects/:id/merge_requests?
  state=all&order_by=updated_at&sort=asc&updated_after=…` (`GitLabClient.updated_sweep`); an MR whose
  `updated_at` is already stored is skipped, every other one is read with its notes (`/notes`, system notes
  included), approvals (`/approvals`: who approved now) and changed files (`/diffs`, else `/changes` on older
  GitLab). Each page of MRs is written with the advanced cursor in one transaction, so a crash or kill -9 loses
  nothing and a rerun duplicates nothing (rows are upserted by natural key; approvals and files of a re-read MR
  are replaced, as approvals can be withdrawn).
- `pipelines`: the same sweep over `/pipelines`; a new or changed pipeline is read in full (`GET /pipelines/:id`
  for `user`, `started_at`, `finished_at`) with its jobs (`/pipelines/:id/jobs?include_retried=true`).
The approvals endpoint gives no time: an approval is dated by the approver's last "approved this merge request"
system note, else by the merge (or the MR's update) time, as `approved_at_source` says. Identities are kept
raw (username, id, name) and resolved at metric time through `gitlab = [...]` roster identities (SPEC §3).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from collectors.driver import Page
from collectors.gitlab.client import GitLabClient
from collectors.http import REPLAY_PREFIX, Recorder, is_replay
from collectors.runs import CollectError
from collectors.times import db_utc
from db.models import (
    GitLabApproval,
    GitLabJob,
    GitLabMergeRequest,
    GitLabMergeRequestFile,
    GitLabNote,
    GitLabPipeline,
)
from db.upsert import upsert
from engagement.config import GitLabSource

APPROVED, UNAPPROVED = "approved this merge request", "unapproved this merge request"
MR_COLUMNS = [c.name for c in GitLabMergeRequest.__table__.columns]
PIPELINE_COLUMNS = [c.name for c in GitLabPipeline.__table__.columns]
JOB_COLUMNS = [c.name for c in GitLabJob.__table__.columns]
NOTE_COLUMNS = [c.name for c in GitLabNote.__table__.columns]


# --------------------------------------------------------------------------------------------------------
# JSON -> rows (pure)
# --------------------------------------------------------------------------------------------------------

def _user(u: dict | None) -> tuple[str | None, int | None, str | None]:
    """(username, id, name) of a user object; none for a missing one."""
    if not u:
        return None, None, None
    return u.get("username"), u.get("id"), u.get("name")


def mr_row(source_id: int, mr: dict) -> dict:
    username, uid, name = _user(mr.get("author"))
    merger = mr.get("merge_user") or mr.get("merged_by")
    labels = [lb if isinstance(lb, str) else (lb or {}).get("name", "") for lb in mr.get("labels") or []]
    return {
        "source_id": source_id, "iid": int(mr["iid"]), "mr_id": mr.get("id"), "title": mr.get("title") or "",
        "state": mr.get("state") or "", "web_url": mr.get("web_url"), "author_username": username,
        "author_id": uid, "author_name": name, "merge_username": _user(merger)[0],
        "created_at": db_utc(mr.get("created_at")), "updated_at": db_utc(mr.get("updated_at") or mr.get("created_at")),
        "closed_at": db_utc(mr.get("closed_at")), "merged_at": db_utc(mr.get("merged_at")),
        "target_branch": mr.get("target_branch"), "source_branch": mr.get("source_branch"), "sha": mr.get("sha"),
        "merge_commit_sha": mr.get("merge_commit_sha"), "squash_commit_sha": mr.get("squash_commit_sha"),
        "labels": "\n".join(labels), "draft": bool(mr.get("draft") or mr.get("work_in_progress")),
    }


def note_row(source_id: int, iid: int, note: dict) -> dict:
    username, _uid, name = _user(note.get("author"))
    return {"source_id": source_id, "iid": iid, "note_id": int(note["id"]), "author_username": username,
            "author_name": name, "system": bool(note.get("system")), "created_at": db_utc(note.get("created_at")),
            "body": note.get("body")}


def approval_rows(source_id: int, mr: dict, approvals: dict | None, notes: list[dict]) -> list[dict]:
    """Who approves the MR now (`/approvals` approved_by; without that endpoint, whoever's last approve/unapprove
    system note approves), each dated by their last "approved this merge request" note (see the module doc)."""
    last_note: dict[int, dict] = {}  # user id -> the latest approve / unapprove note
    for note in sorted(notes, key=lambda n: (n.get("created_at") or "", n.get("id") or 0)):
        body = (note.get("body") or "").strip().lower()
        if note.get("system") and body in (APPROVED, UNAPPROVED) and (note.get("author") or {}).get("id") is not None:
            last_note[int(note["author"]["id"])] = note
    if approvals is not None:
        users = [a.get("user") or {} for a in approvals.get("approved_by") or []]
    else:
        users = [n["author"] for n in last_note.values() if (n.get("body") or "").strip().lower() == APPROVED]
    rows = []
    for u in users:
        if u.get("id") is None:
            continue
        note = last_note.get(int(u["id"]))
        approved_note = note if note is not None and (note.get("body") or "").strip().lower() == APPROVED else None
        if approved_note is not None:
            at, how, note_id = db_utc(approved_note.get("created_at")), "note", int(approved_note["id"])
        elif mr.get("merged_at"):
            at, how, note_id = db_utc(mr["merged_at"]), "merged_at", None
        else:
            at, how, note_id = db_utc(mr.get("updated_at")), "updated_at", None
        rows.append({"source_id": source_id, "iid": int(mr["iid"]), "user_id": int(u["id"]),
                     "username": u.get("username"), "name": u.get("name"), "approved_at": at,
                     "approved_at_source": how, "note_id": note_id})
    return rows


def file_rows(source_id: int, iid: int, diffs: list[dict]) -> list[dict]:
    rows: dict[str, dict] = {}
    for d in diffs:
        path = d.get("new_path") or d.get("old_path")
        if not path:
            continue
        old = d.get("old_path") if d.get("renamed_file") and d.get("old_path") != path else None
        rows[path] = {"source_id": source_id, "iid": iid, "path": path, "old_path": old}
    return list(rows.values())


def pipeline_row(source_id: int, item: dict, detail: dict | None = None) -> dict:
    p = {**item, **(detail or {})}
    username, uid, name = _user(p.get("user"))
    return {
        "source_id": source_id, "pipeline_id": int(p["id"]), "iid": p.get("iid"), "name": p.get("name"),
        "source": p.get("source"), "ref": p.get("ref"), "sha": p.get("sha"), "status": p.get("status") or "",
        "user_username": username, "user_id": uid, "user_name": name, "created_at": db_utc(p.get("created_at")),
        "updated_at": db_utc(p.get("updated_at")), "started_at": db_utc(p.get("started_at")),
        "finished_at": db_utc(p.get("finished_at")),
        "duration": int(p["duration"]) if p.get("duration") is not None else None, "web_url": p.get("web_url"),
    }


def job_row(source_id: int, pipeline_id: int, job: dict) -> dict:
    username, _uid, _name = _user(job.get("user"))
    return {"source_id": source_id, "job_id": int(job["id"]),
            "pipeline_id": int((job.get("pipeline") or {}).get("id") or pipeline_id), "name": job.get("name") or "",
            "stage": job.get("stage"), "status": job.get("status"), "user_username": username,
            "created_at": db_utc(job.get("created_at")), "started_at": db_utc(job.get("started_at")),
            "finished_at": db_utc(job.get("finished_at")),
            "duration": float(job["duration"]) if job.get("duration") is not None else None,
            "web_url": job.get("web_url")}


# --------------------------------------------------------------------------------------------------------
# The driver source
# --------------------------------------------------------------------------------------------------------

class GitLabProjectSource:
    """One `[[sources.gitlab]]` project, for collectors/driver.py (see the module docstring)."""

    kind = "gitlab"
    main_stream = "merge_requests"

    def __init__(self, source: GitLabSource, *, client: GitLabClient | None = None,
                 replay: str | Path | None = None, recorder: Recorder | None = None, max_wait: float = 900.0,
                 per_page: int | None = None):
        self.config, self.client = source, client
        self.name = source.display_name
        self.key = f"{source.base_url.rstrip('/')}/{source.project}"
        self.label = f"gitlab {source.project}"
        self._own_client = client is None
        self._replay, self._recorder, self._max_wait, self._per_page = replay, recorder, max_wait, per_page
        self.counts = {"merge_requests": 0, "approvals": 0, "notes": 0, "pipelines": 0, "jobs": 0}

    @property
    def secrets(self) -> tuple[str, ...]:
        return self.client.secrets if self.client else ()

    def open(self) -> None:
        if self.client is None:
            replaying = self._replay is not None or is_replay(self.config.base_url)
            token = None if replaying else os.environ.get(self.config.token_env)
            base = f"{REPLAY_PREFIX}{self._replay}" if self._replay is not None else self.config.base_url
            kwargs = {"per_page": self._per_page} if self._per_page else {}
            self.client = GitLabClient(base, token=token, recorder=self._recorder, max_wait=self._max_wait, **kwargs)
        instance = self.client.base_url.removesuffix("/api/v4")
        self.key = f"{instance}/{self.config.project}"

    def close(self) -> None:
        if self._own_client and self.client is not None:
            self.client.close()

    def summary(self, result) -> str:
        c = self.counts
        return (f"gitlab {self.config.project}: {c['merge_requests']} merge requests ({c['approvals']} approvals, "
                f"{c['notes']} notes), {c['pipelines']} pipelines ({c['jobs']} jobs) written; calls used: "
                f"{self.client.calls if self.client else 0}")

    def pages(self, run) -> Iterator[Page]:
        project = self._project(run)
        pid = project["id"]
        yield Page(cursors={"project": json.dumps({"id": pid, "path": project.get("path_with_namespace")})})
        yield from self._merge_requests(run, pid)
        yield from self._pipelines(run, pid)

    def _project(self, run) -> dict:
        stored = run.cursor("project")
        if stored:
            return json.loads(stored)
        doc = self.client.project(self.config.project)
        if not isinstance(doc, dict) or doc.get("id") is None:
            raise CollectError(f"GitLab {self.client.base_url}: project {self.config.project!r} answered without an id")
        return doc

    @staticmethod
    def _since(run, stream: str) -> dt.datetime | None:
        value = run.cursor(stream)
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC) if value else None

    def _stored(self, run, table, key: str, ids: list[int]) -> dict[int, dt.datetime]:
        if not ids:
            return {}
        col = getattr(table, key)
        with run.engine.connect() as conn:
            return dict(conn.execute(select(col, table.updated_at).where(table.source_id == run.source_id,
                                                                         col.in_(ids))).all())

    def _merge_requests(self, run, pid: int) -> Iterator[Page]:
        client, sid = self.client, run.source_id
        cursor = run.cursor("merge_requests")
        for items in client.updated_sweep(f"/projects/{pid}/merge_requests", {"state": "all"},
                                          self._since(run, "merge_requests")):
            rows = [mr_row(sid, mr) for mr in items]
            stored = self._stored(run, GitLabMergeRequest, "iid", [r["iid"] for r in rows])
            changed = [(mr, r) for mr, r in zip(items, rows, strict=True) if stored.get(r["iid"]) != r["updated_at"]]
            notes, approvals, files = [], [], []
            for mr, row in changed:
                iid = row["iid"]
                base = f"/projects/{pid}/merge_requests/{iid}"
                raw_notes = client.all(f"{base}/notes", {"sort": "asc", "order_by": "created_at"}) or []
                approved = client.get_json(f"{base}/approvals", accept_status=(403, 404))
                diffs = client.all(f"{base}/diffs", accept_status=(404,))
                if diffs is None:  # GitLab before 15.7
                    diffs = (client.get_json(f"{base}/changes", accept_status=(404,)) or {}).get("changes") or []
                notes += [note_row(sid, iid, n) for n in raw_notes]
                approvals += approval_rows(sid, mr, approved, raw_notes)
                files += file_rows(sid, iid, diffs)
            mrs = [r for _mr, r in changed]
            newest = max(r["updated_at"] for r in rows).isoformat()
            cursor = newest if cursor is None or newest > cursor else cursor
            self.counts["merge_requests"] += len(mrs)
            self.counts["approvals"] += len(approvals)
            self.counts["notes"] += len(notes)
            yield Page(write=lambda conn, m=mrs, a=approvals, n=notes, f=files:
                       write_merge_requests(conn, sid, m, a, n, f), cursors={"merge_requests": cursor},
                       seen=len(rows), written=len(mrs), progress=len(rows))

    def _pipelines(self, run, pid: int) -> Iterator[Page]:
        client, sid = self.client, run.source_id
        cursor = run.cursor("pipelines")
        for items in client.updated_sweep(f"/projects/{pid}/pipelines", {}, self._since(run, "pipelines")):
            light = [pipeline_row(sid, p) for p in items]
            stored = self._stored(run, GitLabPipeline, "pipeline_id", [r["pipeline_id"] for r in light])
            rows, jobs = [], []
            for item, row in zip(items, light, strict=True):
                if row["pipeline_id"] in stored and stored[row["pipeline_id"]] == row["updated_at"]:
                    continue
                detail = client.get_json(f"/projects/{pid}/pipelines/{row['pipeline_id']}")
                rows.append(pipeline_row(sid, item, detail))
                jobs += [job_row(sid, row["pipeline_id"], j) for j in client.all(
                    f"/projects/{pid}/pipelines/{row['pipeline_id']}/jobs", {"include_retried": "true"}) or []]
            newest = max((r["updated_at"] or r["created_at"]) for r in light).isoformat()
            cursor = newest if cursor is None or newest > cursor else cursor
            self.counts["pipelines"] += len(rows)
            self.counts["jobs"] += len(jobs)
            yield Page(write=lambda conn, p=rows, j=jobs: write_pipelines(conn, p, j), cursors={"pipelines": cursor},
                       seen=len(light), written=len(rows), progress=len(light))


def write_merge_requests(conn: Connection, source_id: int, mrs: list[dict], approvals: list[dict], notes: list[dict],
               files: list[dict]) -> None:
    if not mrs:
        return
    upsert(conn, GitLabMergeRequest.__table__, mrs, key=["source_id", "iid"],
           update=[c for c in MR_COLUMNS if c not in ("source_id", "iid")])
    iids = [m["iid"] for m in mrs]
    for table in (GitLabApproval, GitLabMergeRequestFile):  # replaced: an approval can be withdrawn
        conn.execute(delete(table).where(table.source_id == source_id, table.iid.in_(iids)))
    upsert(conn, GitLabApproval.__table__, approvals, key=["source_id", "iid", "user_id"])
    upsert(conn, GitLabMergeRequestFile.__table__, files, key=["source_id", "iid", "path"])
    upsert(conn, GitLabNote.__table__, notes, key=["source_id", "iid", "note_id"],
           update=[c for c in NOTE_COLUMNS if c not in ("source_id", "iid", "note_id")])


def write_pipelines(conn: Connection, pipelines: list[dict], jobs: list[dict]) -> None:
    upsert(conn, GitLabPipeline.__table__, pipelines, key=["source_id", "pipeline_id"],
           update=[c for c in PIPELINE_COLUMNS if c not in ("source_id", "pipeline_id")])
    upsert(conn, GitLabJob.__table__, jobs, key=["source_id", "job_id"],
           update=[c for c in JOB_COLUMNS if c not in ("source_id", "job_id")])
