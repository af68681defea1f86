"""JUnit XML reports from Actions run artifacts (collectors/github/junit.py) and eval_coverage from them.

The replay server serves the runs, each run's artifact list and the `/actions/artifacts/{id}/zip` 302;
a second server on another port plays the blob store the 302 points to. The zips are built here from
the real JUnit samples in ../shared/api-samples/junit-xml (plus a corrupt and an empty report and an
empty zip); expected counts are the samples' `<testcase` tags, counted here with a regex.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from collectors.github.client import GitHubClient
from collectors.github.junit import JUnitError, count_zip, parse_junit
from collectors.github.source import GitHubSource
from db.engine import make_engine
from db.queries import load_junit_runs, load_source_frames
from metrics.engagement import SourceData, compute
from metrics.engagement_file import parse_engagement
from metrics.service import evidence
from tests.support.github_fixtures import FakeRepo, run, user
from tests.support.paths import SAMPLES as SHARED_SAMPLES
from tests.support.replay import Exchange, ReplayServer

SAMPLES = SHARED_SAMPLES / "junit-xml"
EVAL, TRAIN = ".github/workflows/eval.yml", ".github/workflows/train.yml"
ANN = user("ann", 1)
BROKEN = b'<?xml version="1.0"?><testsuite name="x"><testcase name="a"></testsuite>'
BASE = "/repositories/4242"

needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"JUnit samples not present at {SAMPLES}")


def count_testcases(path: Path) -> int:
    """Independent count: the `<testcase` tags of a sample."""
    return len(re.findall(rb"<testcase\b", path.read_bytes()))


def zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def artifact(aid: int, name: str, run_id: int) -> dict:
    return {"id": aid, "node_id": f"MDg6QXJ0aWZhY3Q{aid}", "name": name, "size_in_bytes": 1000,
            "url": f"https://api.github.com/repos/acme/model/actions/artifacts/{aid}",
            "archive_download_url": f"https://api.github.com/repos/acme/model/actions/artifacts/{aid}/zip",
            "expired": False, "created_at": "2026-09-08T10:00:00Z", "expires_at": "2026-12-07T10:00:00Z",
            "updated_at": "2026-09-08T10:00:00Z", "workflow_run": {"id": run_id, "head_branch": "main"}}


def script_artifacts(api: ReplayServer, blobs: ReplayServer, run_id: int, zips: dict[int, tuple[str, bytes]]) -> None:
    """The run's artifact list; each artifact's /zip answers 302 to the blob server, which serves the zip."""
    arts = [artifact(aid, name, run_id) for aid, (name, _) in zips.items()]
    api.add("GET", f"{BASE}/actions/runs/{run_id}/artifacts?per_page=100",
            {"total_count": len(arts), "artifacts": arts})
    for aid, (_, data) in zips.items():
        api.add("GET", f"{BASE}/actions/artifacts/{aid}/zip", status=302,
                headers={"Location": f"{blobs.base_url}/blob/{aid}.zip?sig=signed"})
        blobs.add_exchange(Exchange("GET", f"/blob/{aid}.zip?sig=signed", 200,
                                    [("Content-Type", "application/zip")], data))


def collect(engine, api: ReplayServer):
    client = GitHubClient(api.base_url, "tok-secret", backoff_factor=0, seconds_between_requests=0)
    try:
        return GitHubSource(engine, client, "acme/model", junit_workflows=["eval.yml"],
                            junit_artifacts=["*junit*"]).collect()
    finally:
        client.close()


def test_parse_junit_roots_nesting_and_bad_reports():
    nested = (b'<testsuites><testsuite name="a"><testsuite name="b"><testcase name="1"><failure/></testcase>'
              b'</testsuite><testcase name="2"><skipped/></testcase><testcase name="3"/></testsuite></testsuites>')
    c = parse_junit(nested)
    assert (c.tests, c.failures, c.skipped) == (3, 1, 1)
    assert parse_junit(b'<testsuite><testcase name="x"><error/></testcase></testsuite>').failures == 1
    for bad, why in [(BROKEN, "not well-formed"), (b"", "empty file"), (b"<html/>", "expected a <testsuites>"),
                     (b"<testsuites><testsuite/></testsuites>", "no testcase")]:
        with pytest.raises(JUnitError, match=why):
            parse_junit(bad, "r.xml")
    assert count_zip(b"not a zip", "art")[2][0].startswith("art: not a zip archive")
    assert count_zip(zip_of({}), "art")[2] == ["art: no *.xml report in the artifact"]


@needs_samples
def test_junit_artifacts_collected_once_and_counted_in_eval_coverage(db_url, git_repo, capsys):
    pytest_files = sorted((SAMPLES / "pytest").glob("*.xml"))
    other_files = sorted((SAMPLES / "other").glob("*.xml"))
    good = {p.name: count_testcases(p) for p in pytest_files + other_files
            if p.name not in ("corrupt-xml.xml", "no-cases.xml")}
    pytest_tests = sum(good[p.name] for p in pytest_files if p.name in good)
    other_tests = sum(good[p.name] for p in other_files if p.name in good)
    assert count_testcases(SAMPLES / "other" / "no-cases.xml") == 0

    # git: 2 evaluation test functions from week 1, 3 from week 3 (Europe/Berlin, start Mon 7 Sep)
    git_repo.commit("eval", {"eval/test_a.py": "def test_a():\n    pass\n\ndef test_b():\n    pass\n"},
                    date="2026-09-08T09:00:00+02:00")
    git_repo.commit("more eval", {"eval/test_c.py": "def test_c():\n    pass\n"}, date="2026-09-22T09:00:00+02:00")

    repo = FakeRepo()
    repo.runs = [
        run(200, EVAL, "push", ANN, "2026-09-08T09:00:00Z", updated="2026-09-08T10:00:00Z"),
        # Sunday 13 Sep 23:30 Berlin: still week 1, and later than run 200
        run(201, EVAL, "push", ANN, "2026-09-13T21:00:00Z", updated="2026-09-13T21:30:00Z"),
        # Monday 14 Sep 00:30 Berlin: week 2; its only artifact is an empty zip
        run(202, EVAL, "push", ANN, "2026-09-13T22:00:00Z", updated="2026-09-13T22:30:00Z"),
        run(203, EVAL, "push", ANN, "2026-09-22T10:00:00Z", status="in_progress"),
        run(204, TRAIN, "push", ANN, "2026-09-08T11:00:00Z"),  # not a JUnit workflow: never asked
    ]
    with ReplayServer() as api, ReplayServer() as blobs:
        repo.script(api)
        script_artifacts(api, blobs, 200, {
            1: ("pytest-junit", zip_of({f"reports/{p.name}": p.read_bytes() for p in pytest_files})),
            2: ("model-weights", b"never downloaded"),
        })
        script_artifacts(api, blobs, 201, {
            3: ("other-junit", zip_of({**{p.name: p.read_bytes() for p in other_files},
                                       "broken.xml": BROKEN, "notes.txt": b"not a report"})),
        })
        script_artifacts(api, blobs, 202, {4: ("eval-junit", zip_of({}))})

        engine = make_engine(db_url)
        result = collect(engine, api)
        assert result.junit_runs == 3
        assert api.unmatched == []
        assert [c.target for c in api.calls(f"{BASE}/actions/artifacts/")] == [
            f"{BASE}/actions/artifacts/{a}/zip" for a in (1, 3, 4)]
        assert all("Authorization" not in r.headers for r in blobs.received)  # the token stays with the API
        warnings = capsys.readouterr().err
        assert "corrupt-xml.xml: not well-formed XML" in warnings and "broken.xml" in warnings

        rows = load_junit_runs(engine).set_index("run_id")
        assert rows.loc[[200, 201, 202], ["artifacts", "reports", "tests"]].values.tolist() == [
            [1, len(pytest_files) - 1, pytest_tests],
            [1, len(other_files) - 1, other_tests],
            [1, 0, 0],
        ]
        assert rows.loc[200, "problems"].count("\n") == 0 and "reports/corrupt-xml.xml" in rows.loc[200, "problems"]
        assert sorted(line.split("/")[-1].split(":")[0] for line in rows.loc[201, "problems"].splitlines()) == [
            "broken.xml", "no-cases.xml"]
        assert rows.loc[202, "problems"] == "run 202 artifact eval-junit: no *.xml report in the artifact"
        assert rows.loc[200, "failures"] == 1 and rows.loc[200, "skipped"] == 1 + 4 + 17  # junit.fail + gloo

        # a rerun downloads nothing again
        before_api, before_blobs = len(api.received), len(blobs.received)
        assert collect(engine, api).junit_runs == 0
        assert [r for r in api.received[before_api:] if "artifacts" in r.target] == []
        assert len(blobs.received) == before_blobs
        pd.testing.assert_frame_equal(load_junit_runs(engine).set_index("run_id"), rows)

        # run 203 completes in week 3: only its artifacts are read
        repo.runs[3] = run(203, EVAL, "push", ANN, "2026-09-22T10:00:00Z", updated="2026-09-22T11:00:00Z")
        repo.script(api, replace=True)
        script_artifacts(api, blobs, 203, {5: ("eval-junit", zip_of({"junit.fail.xml": (
            SAMPLES / "pytest" / "junit.fail.xml").read_bytes()}))})
        before = len(api.received)
        assert collect(engine, api).junit_runs == 1
        assert [r.target for r in api.received[before:] if "artifacts" in r.target] == [
            f"{BASE}/actions/runs/203/artifacts?per_page=100", f"{BASE}/actions/artifacts/5/zip"]

    cfg = parse_engagement({"engagement": {"name": "X", "start": dt.date(2026, 9, 7), "weeks": 4,
                                       "timezone": "Europe/Berlin"},
                        "capabilities": [{"key": "evaluation", "paths": ["eval/**"]}],
                        "sources": {"github": [{"repo": "acme/model", "junit_workflows": ["eval.yml"],
                                                "junit_artifacts": ["*junit*"]}]}})
    from collectors.git.source import collect_git

    collect_git(engine, git_repo.path, "main", source_name="repo", eval_paths=["eval/**"])
    m = compute(cfg, SourceData(**load_source_frames(engine)), today=dt.datetime(2026, 9, 23, 12, tzinfo=dt.UTC))
    cov = m.weekly[m.weekly["kpi"].eq("eval_coverage") & m.weekly["week"].between(1, 3)]
    # week 1: the JUnit count of run 201 (the week's latest); week 2: no readable report -> git (2);
    # week 3: run 203's junit.fail.xml (5), although git has 3
    fail = count_testcases(SAMPLES / "pytest" / "junit.fail.xml")
    assert cov[["week", "value", "n"]].values.tolist() == [[1, other_tests, other_tests], [2, 2, 2], [3, fail, fail]]
    rows = evidence(m, "eval_coverage", 1)  # the JUnit run counted, standing for its testcases (n)
    assert rows[["kind", "id", "count"]].values.tolist() == [["run", "201/1", other_tests]]
    assert rows["url"].tolist() == ["https://github.com/acme/model/actions/runs/201"]
    week2 = evidence(m, "eval_coverage", 2)  # git: the test files, each standing for its test functions
    assert week2[["kind", "id", "count"]].values.tolist() == [["test", "eval/test_a.py", 2]]


def test_junit_config_keys_default_and_validation():
    from engagement.config import ConfigError

    base = {"engagement": {"name": "X", "start": dt.date(2026, 9, 7), "timezone": "UTC"}}
    cfg = parse_engagement({**base, "sources": {"github": [{"repo": "acme/model"}]}})
    assert (cfg.sources.github[0].junit_workflows, cfg.sources.github[0].junit_artifacts) == ([], ["*"])
    with pytest.raises(ConfigError) as err:
        parse_engagement({**base, "sources": {"github": [{"repo": "acme/model", "junit_workflows": "eval.yml"}]}})
    assert err.value.problems == ['engagement: sources.github[0].junit_workflows: expected a list, got "eval.yml"']
