"""GitHub data in the shapes GitHub answers (see shared/API-SHAPES.md), for tests and the demo.

`FakeRepo` holds PRs (with files and reviews) and workflow runs, and scripts a `ReplayServer` with the
list endpoints as GitHub pages them (Link rel="next" through `/repositories/{id}/...`).
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
import zlib
from dataclasses import dataclass, field

from collectors.demo.github_replay import Exchange, ReplayServer

GHOST = {"login": "ghost", "id": 10137, "type": "User"}
GITHUB_API = "https://api.github.com"  # the replay server rewrites it to itself


def user(login: str | None, uid: int | None = None, type_: str = "User") -> dict | None:
    if login is None:
        return None
    return {"login": login, "id": uid if uid is not None else zlib.crc32(login.encode()) % 10**7, "type": type_,
            "url": f"https://api.github.com/users/{login}"}


def pull(number: int, author: dict | None, created: str, updated: str, *, merged: str | None = None,
         closed: str | None = None, base: str = "main", head: str | None = None, labels: tuple = (),
         repo: str = "acme/model") -> dict:
    return {
        "url": f"https://api.github.com/repos/{repo}/pulls/{number}", "id": 900000 + number, "number": number,
        "state": "closed" if (merged or closed) else "open", "title": f"PR {number}",
        "html_url": f"https://github.com/{repo}/pull/{number}", "user": author,
        "author_association": "MEMBER", "created_at": created, "updated_at": updated,
        "closed_at": closed or merged, "merged_at": merged,
        "merge_commit_sha": f"{number:040x}", "draft": False,
        "labels": [{"id": i, "name": name} for i, name in enumerate(labels)],
        "head": {"ref": head or f"feature-{number}", "sha": f"{number + 1000:040x}"},
        "base": {"ref": base, "sha": "0" * 40},
    }


def review(rid: int, reviewer: dict | None, state: str, submitted: str | None, repo: str = "acme/model",
           number: int = 0) -> dict:
    r = {"id": rid, "user": reviewer, "state": state, "commit_id": f"{rid:040x}",
         "html_url": f"https://github.com/{repo}/pull/{number}#pullrequestreview-{rid}"}
    if submitted:
        r["submitted_at"] = submitted
    return r


def run(rid: int, path: str, event: str, actor: dict | None, created: str, *, triggering: dict | None = None,
        attempt: int = 1, status: str = "completed", conclusion: str | None = "success",
        started: str | None = None, updated: str | None = None, name: str | None = None,
        repo: str = "acme/model") -> dict:
    return {
        "id": rid, "name": name or path.rsplit("/", 1)[-1].removesuffix(".yml"), "display_title": f"run {rid}",
        "path": path, "workflow_id": zlib.crc32(path.encode()) % 10**6, "event": event, "status": status,
        "conclusion": conclusion if status == "completed" else None, "actor": actor,
        "triggering_actor": triggering if triggering is not None else actor, "run_attempt": attempt,
        "head_branch": "main", "head_sha": f"{rid:040x}", "created_at": created,
        "run_started_at": started or created, "updated_at": updated or created,
        "html_url": f"https://github.com/{repo}/actions/runs/{rid}",
    }


@dataclass
class FakeRepo:
    full_name: str = "acme/model"
    repo_id: int = 4242
    pulls: list[dict] = field(default_factory=list)
    files: dict[int, list[str]] = field(default_factory=dict)
    reviews: dict[int, list[dict]] = field(default_factory=dict)
    runs: list[dict] = field(default_factory=list)
    attempts: dict[tuple[int, int], dict] = field(default_factory=dict)
    # run id -> [(artifact id, name, zip bytes)]: served as the run's artifacts, each /zip a 302 to a blob URL
    artifacts: dict[int, list[tuple[int, str, bytes]]] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"/repositories/{self.repo_id}"

    def script(self, server: ReplayServer, per_page: int = 100, replace: bool = False) -> None:
        """Script every endpoint the collector reads; `replace` re-scripts after the data changed."""
        add = server.replace if replace else server.add
        add("GET", f"/repos/{self.full_name}", {"id": self.repo_id, "full_name": self.full_name,
                                                 "url": f"https://api.github.com/repos/{self.full_name}"})
        prs = sorted(self.pulls, key=lambda p: p["updated_at"], reverse=True)
        self._paged(server, f"{self.base}/pulls", {"state": "all", "sort": "updated", "direction": "desc"}, prs,
                    per_page, replace)
        for p in self.pulls:
            n = p["number"]
            self._paged(server, f"{self.base}/pulls/{n}/files", {},
                        [{"filename": f, "status": "modified"} for f in self.files.get(n, [])], per_page, replace)
            self._paged(server, f"{self.base}/pulls/{n}/reviews", {}, self.reviews.get(n, []), per_page, replace)
        for (rid, n), body in self.attempts.items():
            add("GET", f"{self.base}/actions/runs/{rid}/attempts/{n}", body)
        self.script_artifacts(server, per_page, replace)
        # the runs list, unfiltered and for every `created>=DATE` window the collector may ask for
        self.script_runs(server, None, per_page, replace)
        if self.runs:
            first = dt.date.fromisoformat(min(r["created_at"][:10] for r in self.runs))
            last = dt.date.fromisoformat(max(r["created_at"][:10] for r in self.runs))
            day = first - dt.timedelta(days=7)
            while day <= last + dt.timedelta(days=1):
                self.script_runs(server, day.isoformat(), per_page, replace)
                day += dt.timedelta(days=1)

    def script_artifacts(self, server: ReplayServer, per_page: int = 100, replace: bool = False) -> None:
        """Each run's artifact list; an artifact's /zip answers 302 to a signed blob URL on the same server."""
        add = server.replace if replace else server.add
        for rid, arts in self.artifacts.items():
            items = [{"id": aid, "name": name, "size_in_bytes": len(data), "expired": False,
                      "archive_download_url": f"{GITHUB_API}/repos/{self.full_name}/actions/artifacts/{aid}/zip",
                      "workflow_run": {"id": rid}} for aid, name, data in arts]
            total = len(items)
            self._paged(server, f"{self.base}/actions/runs/{rid}/artifacts", {}, items, per_page, replace,
                        wrap=lambda page, n=total: {"total_count": n, "artifacts": page})
            for aid, _name, data in arts:
                add("GET", f"{self.base}/actions/artifacts/{aid}/zip", status=302,
                    headers={"Location": f"{GITHUB_API}/_blobs/{aid}.zip?sig=demo"})
                if not replace:
                    server.add_exchange(Exchange("GET", f"/_blobs/{aid}.zip?sig=demo", 200,
                                                 [("Content-Type", "application/zip")], data))

    def script_runs(self, server: ReplayServer, created_from: str | None, per_page: int = 100,
                    replace: bool = False) -> None:
        runs = sorted(self.runs, key=lambda r: r["created_at"], reverse=True)
        params = {}
        if created_from:
            params["created"] = f">={created_from}"
            runs = [r for r in runs if r["created_at"][:10] >= created_from]
        self._paged(server, f"{self.base}/actions/runs", params, runs, per_page, replace,
                    wrap=lambda items: {"total_count": len(runs), "workflow_runs": items})

    def _paged(self, server: ReplayServer, path: str, params: dict, items: list, per_page: int, replace: bool,
               wrap=None) -> None:
        add = server.replace if replace else server.add
        pages = [items[i:i + per_page] for i in range(0, len(items), per_page)] or [[]]
        for i, chunk in enumerate(pages, start=1):
            query = {**params, "per_page": per_page}
            if i > 1:
                query["page"] = i
            headers = {}
            if i < len(pages):
                nxt = urllib.parse.urlencode({**params, "per_page": per_page, "page": i + 1})
                headers["Link"] = f'<https://api.github.com{path}?{nxt}>; rel="next"'
            add("GET", f"{path}?{urllib.parse.urlencode(query)}", wrap(chunk) if wrap else chunk, headers=headers)
