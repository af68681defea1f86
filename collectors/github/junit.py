"""JUnit XML test reports from GitHub Actions run artifacts, for eval_coverage.

Which runs: completed runs (already stored by the `runs` stream) of the workflows a `[[sources.github]]`
entry names in `junit_workflows` (matched against the workflow file name, its path or its display
name). Which artifacts: those whose name matches a `junit_artifacts` glob (default `*`), not expired.
Each artifact is downloaded (`GET /actions/artifacts/{id}/zip`, a 302 to a signed blob URL), unzipped in
memory, and every `*.xml` file in it is parsed as JUnit XML (`<testsuites>` or a bare `<testsuite>` root,
suites nested at any depth); every `<testcase>` counts as one test, those with `<failure>`/`<error>` as
failed, those with `<skipped>` as skipped.

A corrupt zip, an unparsable XML file, an XML file that is not JUnit, or a report with no testcase is
skipped: it is printed as a warning and listed in the run's `problems`, never fatal.

Once per run: every examined run gets a `junit_runs` row (even with no report), written in one
transaction (one `collectors.driver.Page`) with its counts, so a rerun lists and downloads nothing
again. A re-run (a later attempt that completed after the row was written) is examined again and its
row replaced.
"""

from __future__ import annotations

import fnmatch
import io
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from xml.etree import ElementTree

from sqlalchemy import select
from sqlalchemy.engine import Engine

from collectors.driver import Page
from collectors.github.client import GitHubClient, GitHubHTTPError
from db.models import GitHubWorkflowRun, JUnitRun
from db.upsert import upsert

JUNIT_COLUMNS = [c.name for c in JUnitRun.__table__.columns]


class JUnitError(ValueError):
    """A report that cannot be counted (corrupt, not JUnit, or empty)."""


@dataclass(frozen=True)
class JUnitCounts:
    tests: int
    failures: int
    skipped: int


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_junit(data: bytes, name: str = "report") -> JUnitCounts:
    """Count the testcases of one JUnit XML document; JUnitError when it is corrupt, not JUnit or empty."""
    if not data.strip():
        raise JUnitError(f"{name}: empty file")
    try:
        root = ElementTree.fromstring(data)  # noqa: S314 - stdlib parser: no external entities, no DTD fetch
    except ElementTree.ParseError as exc:
        raise JUnitError(f"{name}: not well-formed XML ({exc})") from None
    if _local(root.tag) not in ("testsuites", "testsuite"):
        raise JUnitError(f"{name}: expected a <testsuites> or <testsuite> root, found <{_local(root.tag)}>")
    tests = failures = skipped = 0
    for case in root.iter():
        if _local(case.tag) != "testcase":
            continue
        tests += 1
        kinds = {_local(child.tag) for child in case}
        failures += bool(kinds & {"failure", "error"})
        skipped += "skipped" in kinds
    if tests == 0:
        raise JUnitError(f"{name}: no testcase in the report")
    return JUnitCounts(tests, failures, skipped)


def count_zip(data: bytes, name: str = "artifact") -> tuple[int, JUnitCounts, list[str]]:
    """(reports parsed, summed counts, problems) of every *.xml file in an artifact zip."""
    problems: list[str] = []
    reports, tests, failures, skipped = 0, 0, 0, 0
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir() and m.filename.lower().endswith(".xml")]
    except zipfile.BadZipFile as exc:
        return 0, JUnitCounts(0, 0, 0), [f"{name}: not a zip archive ({exc})"]
    if not members:
        problems.append(f"{name}: no *.xml report in the artifact")
    for member in members:
        try:
            counts = parse_junit(archive.read(member), f"{name}/{member.filename}")
        except JUnitError as exc:
            problems.append(str(exc))
            continue
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            problems.append(f"{name}/{member.filename}: unreadable ({exc})")
            continue
        reports += 1
        tests, failures, skipped = tests + counts.tests, failures + counts.failures, skipped + counts.skipped
    return reports, JUnitCounts(tests, failures, skipped), problems


def workflow_matches(path: str | None, name: str | None, workflows: list[str]) -> bool:
    """A run belongs to a configured workflow by file name (`eval.yml`), path or display name."""
    names = {p for p in (path, PurePosixPath(path).name if path else None, name) if p}
    return any(w in names for w in workflows)


class JUnitCollector:
    """Collect JUnit counts for one GitHub source; see the module docstring."""

    def __init__(self, engine: Engine, client: GitHubClient, source_id: int, workflows: list[str],
                 artifact_globs: list[str] | None = None):
        self.engine, self.client, self.source_id = engine, client, source_id
        self.workflows = list(workflows)
        self.globs = list(artifact_globs or ["*"])
        self.problems: list[str] = []

    def pending_runs(self) -> list[dict]:
        """Latest completed attempt of each configured workflow's run not examined yet (or re-run since)."""
        r, j = GitHubWorkflowRun, JUnitRun
        with self.engine.connect() as conn:
            runs = conn.execute(select(r.run_id, r.run_attempt, r.workflow_path, r.name, r.status, r.updated_at)
                                .where(r.source_id == self.source_id).order_by(r.run_id, r.run_attempt)).all()
            done = dict(conn.execute(select(j.run_id, j.run_attempt).where(j.source_id == self.source_id)).all())
        latest = {row.run_id: row for row in runs}  # ordered by attempt: the last one wins
        return [{"run_id": row.run_id, "run_attempt": row.run_attempt, "workflow_path": row.workflow_path,
                 "completed_at": row.updated_at}
                for row in latest.values()
                if row.status == "completed" and workflow_matches(row.workflow_path, row.name, self.workflows)
                and done.get(row.run_id, 0) < row.run_attempt]

    def pages(self, base: str) -> Iterator[Page]:
        """One page (its `junit_runs` row) per pending run examined."""
        if not self.workflows:
            return
        for run in self.pending_runs():
            yield self._run_page(base, run)

    def _run_page(self, base: str, run: dict) -> Page:
        artifacts: list[dict] = []
        for page in self.client.iter_pages(f"{base}/actions/runs/{run['run_id']}/artifacts"):
            artifacts.extend(page.items if page else [])
        row = {**run, "source_id": self.source_id, "artifacts": 0, "reports": 0, "tests": 0, "failures": 0,
               "skipped": 0, "problems": ""}
        problems: list[str] = []
        for art in artifacts:
            name = art.get("name") or str(art.get("id"))
            if not any(fnmatch.fnmatchcase(name, g) for g in self.globs):
                continue
            if art.get("expired"):
                problems.append(f"run {run['run_id']} artifact {name}: expired, not downloadable")
                continue
            try:
                data = self.client.download(f"{base}/actions/artifacts/{art['id']}/zip")
            except GitHubHTTPError as exc:
                if exc.status not in (404, 410):  # gone artifacts are skipped; anything else stops the run
                    raise
                problems.append(f"run {run['run_id']} artifact {name}: {exc}")
                continue
            reports, counts, found = count_zip(data, f"run {run['run_id']} artifact {name}")
            row["artifacts"] += 1
            row["reports"] += reports
            row["tests"] += counts.tests
            row["failures"] += counts.failures
            row["skipped"] += counts.skipped
            problems += found
        row["problems"] = "\n".join(problems)
        for problem in problems:
            print(f"warning: JUnit report skipped: {problem}", file=sys.stderr)
        self.problems += problems
        return Page(write=lambda conn: upsert(conn, JUnitRun.__table__, [row], key=["source_id", "run_id"],
                                              update=[c for c in JUNIT_COLUMNS if c not in ("source_id", "run_id")]),
                    seen=1, written=1)
