"""The GitHub source: which items to read, per-(repository, stream) cursors, mapping to rows, page writes.

Streams and cursors (JSON in `cursors.value`):
- `repo`: the repository's numeric id and current name. The first run asks `GET /repos/{owner}/{name}`
  (a renamed repository answers 301 to `/repositories/{id}`, which is followed); every later request
  uses `/repositories/{id}/...`, which survives renames and costs no lookup.
- `pulls`: PRs of all states sorted by `updated` descending; the sweep stops at the first PR updated
  before the cursor's high-water mark. Each PR of a page comes with its changed files and reviews; the
  page is written in one transaction. The high-water mark and the first page's ETag move only after the
  sweep ends, so an interrupted sweep is simply redone (upserts: no duplicates, no gaps).
- `runs`: Actions runs windowed by `created>=DATE`. The window starts at the oldest run not yet
  completed (so it is fetched again until it completes) or a few days before the newest run seen
  (re-runs keep their original `created_at`). When the window moves, its first page is read at once
  so that its ETag is known. Earlier attempts of a re-run are fetched once.
A rerun with nothing new sends the stored ETag: a 304, one call per stream, free of rate limit.
A deleted account (`user: null`) is stored with no login; `ghost` is kept as GitHub reports it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import delete, select, tuple_
from sqlalchemy.engine import Connection, Engine

from collectors.github.client import GitHubClient, GitHubHTTPError, parse_time
from collectors.runs import collection_run, ensure_source, read_cursor, write_cursor
from db.models import GitHubPullRequest, GitHubPullRequestFile, GitHubReview, GitHubWorkflowRun, Identity
from db.upsert import upsert

RUN_LOOKBACK_DAYS = 3
PR_COLUMNS = [c.name for c in GitHubPullRequest.__table__.columns]
RUN_COLUMNS = [c.name for c in GitHubWorkflowRun.__table__.columns]
REVIEW_COLUMNS = [c.name for c in GitHubReview.__table__.columns]


@dataclass(frozen=True)
class GitHubCollectResult:
    source_name: str
    repo: str  # the repository's current full name (after a rename)
    pulls: int
    reviews: int
    runs: int
    calls: int
    not_modified: int
    junit_runs: int = 0  # runs whose JUnit artifacts were examined


def _user(u: dict | None) -> tuple[str | None, int | None, str | None]:
    """(login, id, type) of a user object; a deleted account (`null`) has none."""
    if not u:
        return None, None, None
    return u.get("login"), u.get("id"), u.get("type")


def pull_row(source_id: int, pr: dict) -> dict:
    login, uid, utype = _user(pr.get("user"))
    return {
        "source_id": source_id, "number": pr["number"], "pr_id": pr.get("id"), "title": pr.get("title") or "",
        "state": pr.get("state") or "", "html_url": pr.get("html_url"), "author_login": login, "author_id": uid,
        "author_type": utype, "author_association": pr.get("author_association"),
        "created_at": parse_time(pr.get("created_at")), "updated_at": parse_time(pr.get("updated_at")),
        "closed_at": parse_time(pr.get("closed_at")), "merged_at": parse_time(pr.get("merged_at")),
        "base_ref": (pr.get("base") or {}).get("ref"), "head_ref": (pr.get("head") or {}).get("ref"),
        "head_sha": (pr.get("head") or {}).get("sha"),
        # an unmerged PR has a test-merge sha: keep it only when merged
        "merge_commit_sha": pr.get("merge_commit_sha") if pr.get("merged_at") else None,
        "labels": "\n".join(lab.get("name", "") for lab in pr.get("labels") or []),
        "draft": bool(pr.get("draft")),
    }


def review_row(source_id: int, number: int, review: dict) -> dict:
    login, uid, utype = _user(review.get("user"))
    return {"source_id": source_id, "review_id": review["id"], "number": number, "reviewer_login": login,
            "reviewer_id": uid, "reviewer_type": utype, "state": review.get("state") or "",
            "submitted_at": parse_time(review.get("submitted_at")), "commit_id": review.get("commit_id"),
            "html_url": review.get("html_url")}


def file_row(source_id: int, number: int, f: dict) -> dict:
    return {"source_id": source_id, "number": number, "path": f["filename"],
            "previous_path": f.get("previous_filename"), "status": f.get("status")}


def run_row(source_id: int, run: dict) -> dict:
    actor = _user(run.get("actor"))
    trig = _user(run.get("triggering_actor") or run.get("actor"))
    return {
        "source_id": source_id, "run_id": run["id"], "run_attempt": run.get("run_attempt") or 1,
        "workflow_id": run.get("workflow_id"), "workflow_path": (run.get("path") or "").split("@")[0] or None,
        "name": run.get("name"), "display_title": run.get("display_title"), "event": run.get("event") or "",
        "actor_login": actor[0], "actor_id": actor[1], "actor_type": actor[2],
        "triggering_login": trig[0], "triggering_id": trig[1], "triggering_type": trig[2],
        "head_sha": run.get("head_sha"), "head_branch": run.get("head_branch"), "status": run.get("status"),
        "conclusion": run.get("conclusion"), "created_at": parse_time(run.get("created_at")),
        "run_started_at": parse_time(run.get("run_started_at")), "updated_at": parse_time(run.get("updated_at")),
        "html_url": run.get("html_url"),
    }


def _identity_rows(*logins: str | None) -> list[dict]:
    return [{"kind": "github", "value": login.lower(), "display_name": login} for login in logins if login]


def _load(value: str | None) -> dict:
    try:
        return json.loads(value) if value else {}
    except ValueError:
        return {}


class GitHubSource:
    """Collect one repository through one client; see the module docstring."""

    def __init__(self, engine: Engine, client: GitHubClient, repo: str, name: str | None = None,
                 junit_workflows: list[str] | None = None, junit_artifacts: list[str] | None = None):
        self.engine, self.client, self.repo = engine, client, repo
        self.name = name or repo
        self.junit_workflows, self.junit_artifacts = list(junit_workflows or []), junit_artifacts
        with engine.begin() as conn:
            self.source_id = ensure_source(conn, "github", f"{client.base_url}#{repo}", self.name)

    # --- repository ------------------------------------------------------------------------------
    def _resolve_repo(self) -> tuple[int, str]:
        with self.engine.begin() as conn:
            known = _load(read_cursor(conn, self.source_id, "repo"))
        if known.get("id"):
            return int(known["id"]), known.get("full_name", self.repo)
        data = self.client.get_json(f"/repos/{self.repo}")
        repo_id, full_name = int(data["id"]), data.get("full_name", self.repo)
        with self.engine.begin() as conn:
            write_cursor(conn, self.source_id, "repo", json.dumps({"id": repo_id, "full_name": full_name}))
        return repo_id, full_name

    def _all(self, path: str) -> list[dict]:
        items: list[dict] = []
        for page in self.client.iter_pages(path):
            items.extend(page.items if page else [])
        return items

    # --- pull requests ---------------------------------------------------------------------------
    def collect_pulls(self, base: str) -> tuple[int, int]:
        with self.engine.begin() as conn:
            cursor = _load(read_cursor(conn, self.source_id, "pulls"))
        since = parse_time(cursor.get("since"))
        etag, newest, pulls, reviews = cursor.get("etag"), since, 0, 0
        params = {"state": "all", "sort": "updated", "direction": "desc"}
        for i, page in enumerate(self.client.iter_pages(f"{base}/pulls", params, etag=etag)):
            if page is None:  # 304: nothing changed since the last run
                return 0, 0
            if i == 0:
                etag = page.etag
            fresh = [pr for pr in page.items if since is None or parse_time(pr["updated_at"]) >= since]
            pr_rows, file_rows, review_rows, ids = [], [], [], []
            for pr in fresh:
                row = pull_row(self.source_id, pr)
                pr_rows.append(row)
                ids += _identity_rows(row["author_login"])
                file_rows += [file_row(self.source_id, pr["number"], f)
                              for f in self._all(f"{base}/pulls/{pr['number']}/files")]
                for r in self._all(f"{base}/pulls/{pr['number']}/reviews"):
                    review_rows.append(review_row(self.source_id, pr["number"], r))
                    ids += _identity_rows(review_rows[-1]["reviewer_login"])
            with self.engine.begin() as conn:  # one transaction per page
                self._write_pulls(conn, pr_rows, file_rows, review_rows, ids)
            pulls, reviews = pulls + len(pr_rows), reviews + len(review_rows)
            if pr_rows:
                top = max(r["updated_at"] for r in pr_rows)
                newest = top if newest is None else max(newest, top)
            if len(fresh) < len(page.items):
                break  # past the cursor
        with self.engine.begin() as conn:
            write_cursor(conn, self.source_id, "pulls", json.dumps(
                {"since": newest.isoformat() if newest else None, "etag": etag}))
        return pulls, reviews

    def _write_pulls(self, conn: Connection, prs: list, files: list, reviews: list, ids: list) -> None:
        if not prs:
            return
        numbers = [r["number"] for r in prs]
        upsert(conn, GitHubPullRequest.__table__, prs, key=["source_id", "number"],
               update=[c for c in PR_COLUMNS if c not in ("source_id", "number")])
        conn.execute(delete(GitHubPullRequestFile).where(GitHubPullRequestFile.source_id == self.source_id,
                                                         GitHubPullRequestFile.number.in_(numbers)))
        upsert(conn, GitHubPullRequestFile.__table__, files, key=["source_id", "number", "path"])
        upsert(conn, GitHubReview.__table__, reviews, key=["source_id", "review_id"],
               update=[c for c in REVIEW_COLUMNS if c not in ("source_id", "review_id")])
        upsert(conn, Identity.__table__, list({r["value"]: r for r in ids}.values()), key=["kind", "value"])

    # --- workflow runs ---------------------------------------------------------------------------
    def collect_runs(self, base: str) -> int:
        with self.engine.begin() as conn:
            cursor = _load(read_cursor(conn, self.source_id, "runs"))
        window = cursor.get("created_from")
        etag = cursor.get("etag") if cursor.get("etag_for", "") == window else None
        params = {"created": f">={window}"} if window else {}
        new_etag, seen = None, set()
        for i, page in enumerate(self.client.iter_pages(f"{base}/actions/runs", params, etag=etag)):
            if page is None:
                return 0
            if i == 0:
                new_etag = page.etag
            seen |= self._write_runs(base, page.items)
        with self.engine.begin() as conn:
            next_window = self._next_window(conn)
        if next_window != window:
            # The window moved: read its first page now, so the next run can send that URL's ETag.
            page = self.client.get_page(f"{base}/actions/runs",
                                        {"created": f">={next_window}", "per_page": self.client.per_page})
            seen |= self._write_runs(base, page.items)
            new_etag, window = page.etag, next_window
        with self.engine.begin() as conn:
            write_cursor(conn, self.source_id, "runs", json.dumps(
                {"created_from": self._next_window(conn), "etag": new_etag, "etag_for": window}))
        return len(seen)

    def _write_runs(self, base: str, items: list[dict]) -> set[tuple[int, int]]:
        """Write one page of runs (and missing earlier attempts) in one transaction; their keys."""
        rows = [run_row(self.source_id, r) for r in items]
        rows += self._earlier_attempts(base, rows)
        with self.engine.begin() as conn:  # one transaction per page
            upsert(conn, GitHubWorkflowRun.__table__, rows, key=["source_id", "run_id", "run_attempt"],
                   update=[c for c in RUN_COLUMNS if c not in ("source_id", "run_id", "run_attempt")])
            ids = _identity_rows(*[r["actor_login"] for r in rows], *[r["triggering_login"] for r in rows])
            upsert(conn, Identity.__table__, list({r["value"]: r for r in ids}.values()), key=["kind", "value"])
        return {(r["run_id"], r["run_attempt"]) for r in rows}

    def _earlier_attempts(self, base: str, rows: list[dict]) -> list[dict]:
        """Attempts before the latest of each re-run that the DB does not hold yet (fetched once)."""
        wanted = [(r["run_id"], n) for r in rows for n in range(1, r["run_attempt"])]
        if not wanted:
            return []
        with self.engine.connect() as conn:
            have = set(conn.execute(select(GitHubWorkflowRun.run_id, GitHubWorkflowRun.run_attempt).where(
                GitHubWorkflowRun.source_id == self.source_id,
                tuple_(GitHubWorkflowRun.run_id, GitHubWorkflowRun.run_attempt).in_(wanted))).all())
        rows = []
        for rid, n in wanted:
            if (rid, n) in have:
                continue
            try:
                rows.append(run_row(self.source_id, self.client.get_json(f"{base}/actions/runs/{rid}/attempts/{n}")))
            except GitHubHTTPError as exc:
                if exc.status != 404:  # an attempt GitHub no longer has is skipped, anything else stops
                    raise
        return rows

    def _next_window(self, conn: Connection) -> str | None:
        pending = conn.execute(select(GitHubWorkflowRun.created_at).where(
            GitHubWorkflowRun.source_id == self.source_id,
            (GitHubWorkflowRun.status != "completed") | GitHubWorkflowRun.status.is_(None),
        ).order_by(GitHubWorkflowRun.created_at).limit(1)).scalar_one_or_none()
        newest = conn.execute(select(GitHubWorkflowRun.created_at).where(
            GitHubWorkflowRun.source_id == self.source_id).order_by(GitHubWorkflowRun.created_at.desc()).limit(1)
        ).scalar_one_or_none()
        if newest is None:
            return None
        start = newest - dt.timedelta(days=RUN_LOOKBACK_DAYS)
        if pending is not None:
            start = min(start, pending)
        return start.date().isoformat()

    # --- everything ------------------------------------------------------------------------------
    def collect(self) -> GitHubCollectResult:
        with self.engine.begin() as conn:
            before = read_cursor(conn, self.source_id, "pulls")
        calls_before, nm_before = self.client.calls, self.client.not_modified
        with collection_run(self.engine, self.source_id, before, (self.client.token or "",)) as log:
            repo_id, full_name = self._resolve_repo()
            base = f"/repositories/{repo_id}"
            pulls, reviews = self.collect_pulls(base)
            runs = self.collect_runs(base)
            junit = self.collect_junit(base)
            log.items_seen = log.items_written = pulls + reviews + runs
            log.notes.append(f"calls {self.client.calls - calls_before}")
            with self.engine.begin() as conn:
                log.cursor_after = read_cursor(conn, self.source_id, "pulls")
        return GitHubCollectResult(self.name, full_name, pulls, reviews, runs, self.client.calls - calls_before,
                                   self.client.not_modified - nm_before, junit)

    # --- JUnit reports (collectors/github/junit.py) ------------------------------------------------------
    def collect_junit(self, base: str) -> int:
        """JUnit XML reports of the configured workflows' completed runs; returns the runs examined."""
        if not self.junit_workflows:
            return 0
        from collectors.github.junit import JUnitCollector

        return JUnitCollector(self.engine, self.client, self.source_id, self.junit_workflows,
                              self.junit_artifacts).collect(base)


def collect_github(engine: Engine, repo: str, base_url: str, token_env: str, *, name: str | None = None,
                   max_wait: float = 900.0, client: GitHubClient | None = None,
                   junit_workflows: list[str] | None = None,
                   junit_artifacts: list[str] | None = None) -> GitHubCollectResult:
    """Collect one configured `[[sources.github]]` repository into the DB."""
    own = client is None
    client = client or GitHubClient.from_env(base_url, token_env, max_wait=max_wait)
    try:
        return GitHubSource(engine, client, repo, name, junit_workflows, junit_artifacts).collect()
    finally:
        if own:
            client.close()
