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
- `junit`: JUnit reports of configured workflows' completed runs (collectors/github/junit.py).
A rerun with nothing new sends the stored ETag: a 304, one call per stream, free of rate limit.
A deleted account (`user: null`) is stored with no login; `ghost` is kept as GitHub reports it.
Every page is a `collectors.driver.Page`: the driver writes it in one transaction with its cursor moves.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select, tuple_
from sqlalchemy.engine import Connection, Engine

from collectors.driver import Page, Run, RunResult, run_source
from collectors.github.client import GitHubClient, GitHubHTTPError, parse_time
from collectors.http import Recorder
from collectors.runs import CollectError
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
    """One repository's PRs, reviews, Actions runs and JUnit reports, for collectors/driver.py.

    Give a `client`, or `base_url`/`token_env` (and `replay`, `recorder`) for the source to build one in
    `open()`: a bad base_url then fails inside the run, which is logged failed."""

    kind = "github"
    main_stream = "pulls"

    def __init__(self, engine: Engine | None, client: GitHubClient | None, repo: str, name: str | None = None,
                 junit_workflows: list[str] | None = None, junit_artifacts: list[str] | None = None, *,
                 base_url: str = "https://api.github.com", token_env: str = "GITHUB_TOKEN",
                 max_wait: float = 900.0, replay: str | Path | None = None, recorder: Recorder | None = None):
        self.engine, self.client, self.repo = engine, client, repo
        self.name = name or repo
        self.label = f"github {repo}"
        self.junit_workflows, self.junit_artifacts = list(junit_workflows or []), junit_artifacts
        self._build = dict(base_url=base_url, token_env=token_env, max_wait=max_wait, replay=replay,
                           recorder=recorder)
        self._own_client = client is None
        self.key = f"{(client.base_url if client else base_url).rstrip('/')}#{repo}"
        self.full_name = repo
        self.pulls = self.reviews = self.runs = self.junit_runs = 0
        self._calls_before = self._nm_before = 0

    # --- driver protocol ---------------------------------------------------------------------------------------
    @property
    def secrets(self) -> tuple[str, ...]:
        return self.client.secrets if self.client else ()

    def open(self) -> None:
        if self.client is None:
            b = self._build
            self.client = GitHubClient.from_env(b["base_url"], b["token_env"], max_wait=b["max_wait"],
                                                replay=b["replay"], recorder=b["recorder"])
        self.key = f"{self.client.base_url}#{self.repo}"
        self._calls_before, self._nm_before = self.client.calls, self.client.not_modified

    def close(self) -> None:
        if self._own_client and self.client is not None:
            self.client.close()

    def pages(self, run: Run) -> Iterator[Page]:
        assert self.client is not None
        self.run = run
        known = _load(run.cursor("repo"))
        repo_id, self.full_name = self.resolve_repo(known)
        if not known.get("id"):
            yield Page(cursors={"repo": json.dumps({"id": repo_id, "full_name": self.full_name})})
        base = f"/repositories/{repo_id}"
        yield from self.pull_pages(run, base)
        yield from self.run_pages(run, base)
        yield from self.junit_pages(run, base)

    def summary(self, result: RunResult) -> str:
        renamed = f" (now {self.full_name})" if self.full_name != self.repo else ""
        line = (f"github {self.repo}{renamed}: {self.pulls} PRs, {self.reviews} reviews, {self.runs} runs written; "
                f"calls used: {self.calls} ({self.not_modified} not modified)")
        if self.junit_workflows:
            line += f"\ngithub {self.repo}: JUnit reports of {self.junit_runs} new completed runs examined"
        return line

    @property
    def calls(self) -> int:
        return self.client.calls - self._calls_before if self.client else 0

    @property
    def not_modified(self) -> int:
        return self.client.not_modified - self._nm_before if self.client else 0

    # --- repository ------------------------------------------------------------------------------------------
    def resolve_repo(self, known: dict) -> tuple[int, str]:
        """(numeric id, current full name): from the `repo` cursor, else `GET /repos/{owner}/{name}` (a renamed
        repository answers 301 to `/repositories/{id}`, which is followed)."""
        if known.get("id"):
            return int(known["id"]), known.get("full_name", self.repo)
        data = self.client.get_json(f"/repos/{self.repo}")
        try:
            return int(data["id"]), data.get("full_name", self.repo)
        except (KeyError, TypeError, ValueError):
            raise CollectError(f"GitHub {self.client.base_url}/repos/{self.repo}: expected a repository with a "
                               f"numeric id, got keys {sorted(data)[:8]}") from None

    def _all(self, path: str) -> list[dict]:
        items: list[dict] = []
        for page in self.client.iter_pages(path):
            items.extend(page.items if page else [])
        return items

    # --- pull requests ---------------------------------------------------------------------------------------
    def pull_pages(self, run: Run, base: str) -> Iterator[Page]:
        cursor = _load(run.cursor("pulls"))
        since = parse_time(cursor.get("since"))
        etag, newest = cursor.get("etag"), since
        params = {"state": "all", "sort": "updated", "direction": "desc"}
        source_id = run.source_id
        for i, page in enumerate(self.client.iter_pages(f"{base}/pulls", params, etag=etag)):
            if page is None:  # 304: nothing changed since the last run
                return
            if i == 0:
                etag = page.etag
            fresh = [pr for pr in page.items if since is None or _updated(pr, page) >= since]
            pr_rows, file_rows, review_rows, ids = [], [], [], []
            for pr in fresh:
                row = _mapped(pull_row, source_id, pr, what="pull request")
                pr_rows.append(row)
                ids += _identity_rows(row["author_login"])
                file_rows += [_mapped(file_row, source_id, pr["number"], f, what="pull request file")
                              for f in self._all(f"{base}/pulls/{pr['number']}/files")]
                for r in self._all(f"{base}/pulls/{pr['number']}/reviews"):
                    review_rows.append(_mapped(review_row, source_id, pr["number"], r, what="review"))
                    ids += _identity_rows(review_rows[-1]["reviewer_login"])
            self.pulls, self.reviews = self.pulls + len(pr_rows), self.reviews + len(review_rows)
            if pr_rows:
                top = max(r["updated_at"] for r in pr_rows)
                newest = top if newest is None else max(newest, top)
            yield Page(write=lambda conn, a=pr_rows, b=file_rows, c=review_rows, d=ids: self._write_pulls(
                conn, source_id, a, b, c, d), seen=len(page.items), written=len(pr_rows) + len(review_rows))
            if len(fresh) < len(page.items):
                break  # past the cursor
        yield Page(cursors={"pulls": json.dumps({"since": newest.isoformat() if newest else None, "etag": etag})})

    @staticmethod
    def _write_pulls(conn: Connection, source_id: int, prs: list, files: list, reviews: list, ids: list) -> None:
        if not prs:
            return
        numbers = [r["number"] for r in prs]
        upsert(conn, GitHubPullRequest.__table__, prs, key=["source_id", "number"],
               update=[c for c in PR_COLUMNS if c not in ("source_id", "number")])
        conn.execute(delete(GitHubPullRequestFile).where(GitHubPullRequestFile.source_id == source_id,
                                                         GitHubPullRequestFile.number.in_(numbers)))
        upsert(conn, GitHubPullRequestFile.__table__, files, key=["source_id", "number", "path"])
        upsert(conn, GitHubReview.__table__, reviews, key=["source_id", "review_id"],
               update=[c for c in REVIEW_COLUMNS if c not in ("source_id", "review_id")])
        upsert(conn, Identity.__table__, list({r["value"]: r for r in ids}.values()), key=["kind", "value"])

    # --- workflow runs ---------------------------------------------------------------------------------------
    def run_pages(self, run: Run, base: str) -> Iterator[Page]:
        cursor = _load(run.cursor("runs"))
        window = cursor.get("created_from")
        etag = cursor.get("etag") if cursor.get("etag_for", "") == window else None
        params = {"created": f">={window}"} if window else {}
        new_etag, seen = None, set()
        for i, page in enumerate(self.client.iter_pages(f"{base}/actions/runs", params, etag=etag)):
            if page is None:
                return
            if i == 0:
                new_etag = page.etag
            yield self._runs_page(run, base, page.items, seen)
        next_window = self._next_window(run)
        if next_window != window:
            # The window moved: read its first page now, so the next run can send that URL's ETag.
            page = self.client.get_page(f"{base}/actions/runs",
                                        {"created": f">={next_window}", "per_page": self.client.per_page})
            yield self._runs_page(run, base, page.items, seen)
            new_etag, window = page.etag, next_window
        self.runs = len(seen)
        yield Page(cursors={"runs": json.dumps({"created_from": self._next_window(run), "etag": new_etag,
                                                 "etag_for": window})})

    def _runs_page(self, run: Run, base: str, items: list[dict], seen: set) -> Page:
        """One page of runs (and missing earlier attempts); `seen` collects their keys."""
        rows = [_mapped(run_row, run.source_id, r, what="workflow run") for r in items]
        rows += self._earlier_attempts(run, base, rows)
        seen |= {(r["run_id"], r["run_attempt"]) for r in rows}

        def write(conn: Connection) -> None:
            upsert(conn, GitHubWorkflowRun.__table__, rows, key=["source_id", "run_id", "run_attempt"],
                   update=[c for c in RUN_COLUMNS if c not in ("source_id", "run_id", "run_attempt")])
            ids = _identity_rows(*[r["actor_login"] for r in rows], *[r["triggering_login"] for r in rows])
            upsert(conn, Identity.__table__, list({r["value"]: r for r in ids}.values()), key=["kind", "value"])

        return Page(write=write, seen=len(items), written=len(rows))

    def _earlier_attempts(self, run: Run, base: str, rows: list[dict]) -> list[dict]:
        """Attempts before the latest of each re-run that the DB does not hold yet (fetched once)."""
        wanted = [(r["run_id"], n) for r in rows for n in range(1, r["run_attempt"])]
        if not wanted:
            return []
        with run.engine.connect() as conn:
            have = set(conn.execute(select(GitHubWorkflowRun.run_id, GitHubWorkflowRun.run_attempt).where(
                GitHubWorkflowRun.source_id == run.source_id,
                tuple_(GitHubWorkflowRun.run_id, GitHubWorkflowRun.run_attempt).in_(wanted))).all())
        out = []
        for rid, n in wanted:
            if (rid, n) in have:
                continue
            try:
                out.append(_mapped(run_row, run.source_id,
                                   self.client.get_json(f"{base}/actions/runs/{rid}/attempts/{n}"), what="run attempt"))
            except GitHubHTTPError as exc:
                if exc.status != 404:  # an attempt GitHub no longer has is skipped, anything else stops
                    raise
        return out

    def _next_window(self, run: Run) -> str | None:
        with run.engine.connect() as conn:
            pending = conn.execute(select(GitHubWorkflowRun.created_at).where(
                GitHubWorkflowRun.source_id == run.source_id,
                (GitHubWorkflowRun.status != "completed") | GitHubWorkflowRun.status.is_(None),
            ).order_by(GitHubWorkflowRun.created_at).limit(1)).scalar_one_or_none()
            newest = conn.execute(select(GitHubWorkflowRun.created_at).where(
                GitHubWorkflowRun.source_id == run.source_id).order_by(GitHubWorkflowRun.created_at.desc()).limit(1)
            ).scalar_one_or_none()
        if newest is None:
            return None
        start = newest - dt.timedelta(days=RUN_LOOKBACK_DAYS)
        if pending is not None:
            start = min(start, pending)
        return start.date().isoformat()

    # --- JUnit reports (collectors/github/junit.py) ------------------------------------------------------
    def junit_pages(self, run: Run, base: str) -> Iterator[Page]:
        """JUnit XML reports of the configured workflows' completed runs; one page per run examined."""
        if not self.junit_workflows:
            return
        from collectors.github.junit import JUnitCollector

        junit = JUnitCollector(run.engine, self.client, run.source_id, self.junit_workflows, self.junit_artifacts)
        for page in junit.pages(base):
            self.junit_runs += 1
            yield page

    # --- the convenience of tests and scripts ----------------------------------------------------------------
    def collect(self, *, wait: bool = True) -> GitHubCollectResult:
        """Run this source through the driver (lock, run log, pages) and say what it did."""
        assert self.engine is not None
        result = run_source(self.engine, self, wait=wait, progress=False)
        return self.result(result)

    def result(self, result: RunResult) -> GitHubCollectResult:
        return GitHubCollectResult(self.name, self.full_name, self.pulls, self.reviews, self.runs, self.calls,
                                   self.not_modified, self.junit_runs)


def _updated(pr: dict, page) -> dt.datetime:
    value = parse_time(pr.get("updated_at")) if isinstance(pr, dict) else None
    if value is None:
        raise CollectError("GitHub pull request list: expected every pull request to have an updated_at time")
    return value


def _mapped(fn, *args, what: str):
    """A row from a GitHub object, or CollectError naming what had an unexpected shape."""
    try:
        return fn(*args)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        obj = args[-1]
        keys = sorted(obj)[:8] if isinstance(obj, dict) else type(obj).__name__
        raise CollectError(f"GitHub: a {what} of an unexpected shape ({type(exc).__name__}: {exc}; keys {keys})") \
            from None


def collect_github(engine: Engine, repo: str, base_url: str, token_env: str, *, name: str | None = None,
                   max_wait: float = 900.0, client: GitHubClient | None = None,
                   junit_workflows: list[str] | None = None, junit_artifacts: list[str] | None = None,
                   replay: str | Path | None = None, recorder: Recorder | None = None) -> GitHubCollectResult:
    """Collect one configured `[[sources.github]]` repository into the DB."""
    source = GitHubSource(engine, client, repo, name, junit_workflows, junit_artifacts, base_url=base_url,
                          token_env=token_env, max_wait=max_wait, replay=replay, recorder=recorder)
    return source.collect()
