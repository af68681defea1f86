"""`internal_line_share` (SPEC §10) on a real history (tests/support/blame_history.py): the hand-computed table, an
independent recomputation with plain `git blame --line-porcelain` and a roster written separately here, and the
evidence rows reconciling with every value. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import subprocess
from zoneinfo import ZoneInfo

import pytest

from collectors.git.blame import collect_blame
from collectors.git.source import collect_git
from db.engine import make_engine
from metrics.engagement_file import parse_engagement
from metrics.service import engagement_metrics, evidence, reconcile
from tests.conftest import GitRepo
from tests.support import blame_history as H

KPI = "internal_line_share"


@pytest.fixture
def lines(db_url, tmp_path):
    repo = GitRepo(tmp_path / "repo")
    H.build(repo)
    cfg = parse_engagement(H.engagement())
    engine = make_engine(db_url)
    collect_git(engine, repo.path, "main")
    collect_blame(engine, cfg, repo.path, "main", now=H.NOW, workers=2, progress=False)
    return repo, cfg, engagement_metrics(cfg, engine, today=H.NOW)


def _row(m, week, capability=None):
    row = m.kpi_row(KPI, week, capability)
    assert row is not None, (week, capability)
    return row


def test_weekly_lines_by_side_match_the_hand_computed_table(lines):
    _repo, _cfg, m = lines
    for week, (i, v, u, b) in H.INTENDED.items():
        row = _row(m, week)
        assert (row["internal"], row["vendor"], row["unattributed"], row["bots"]) == (i, v, u, b), week
        assert row["value"] == pytest.approx(i / (i + v)) if i + v else row["value"] != row["value"]
        assert row["n"] == i + v + u + b
    for cap, weeks in H.INTENDED_CAPABILITY.items():
        for week, (i, v) in weeks.items():
            row = _row(m, week, cap)
            assert (row["internal"], row["vendor"]) == (i, v), (cap, week)
    assert set(m.weekly.loc[m.weekly["kpi"] == KPI, "week"]) == {0, 1, 2, 3, 4}  # weeks 0 .. current only


# -- an independent recomputation: plain git + a roster written here ------------------------------------------------

BERLIN = ZoneInfo(H.TZ)


def _side(email: str, name: str, epoch: int) -> str:
    """The roster of blame_history, by hand: Vera vendor, Ian internal, Hana vendor before 2026-09-21, bots by name,
    client.com internal, acme.com vendor, anybody else unattributed."""
    day = dt.datetime.fromtimestamp(epoch, BERLIN).date()
    if name.endswith("[bot]"):
        return "bots"
    if email == "hana@acme.com":
        return "vendor" if day < dt.date(2026, 9, 21) else "internal"
    domain = email.rsplit("@", 1)[-1]
    return {"client.com": "internal", "acme.com": "vendor"}.get(domain, "unattributed")


def _git(repo, *args) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True).stdout


def recompute(repo) -> dict[tuple[int, str | None], dict[str, int]]:
    """(week, capability) -> lines by side, from `git rev-list`, `git ls-tree`, `git blame --line-porcelain`."""
    out = {}
    for week in range(0, 5):
        end = dt.datetime.combine(H.START + dt.timedelta(days=7 * week), dt.time(0), tzinfo=BERLIN)
        before = (end - dt.timedelta(seconds=1)).isoformat()
        sha = _git(repo, "rev-list", "-1", "--first-parent", f"--before={before}", "main").decode().strip()
        totals = {(week, cap): dict.fromkeys(("internal", "vendor", "unattributed", "bots"), 0)
                  for cap in (None, "data", "training")}
        for entry in _git(repo, "ls-tree", "-r", "-z", sha).split(b"\0"):
            if not entry:
                continue
            meta, path = entry.decode().split("\t", 1)
            mode, kind, blob = meta.split()
            if kind != "blob" or mode not in ("100644", "100755"):
                continue  # symlinks and submodules are not files
            if b"\0" in _git(repo, "cat-file", "blob", blob)[:8000]:
                continue  # what git treats as binary
            # one header per line: '<sha> <orig> <final>' (and '<count>' on a group's first line)
            porcelain = _git(repo, "blame", "--line-porcelain", sha, "--", path).decode()
            for header in porcelain.split("\n"):
                parts = header.split(" ")
                if len(parts) in (3, 4) and len(parts[0]) == 40 and all(p.isdigit() for p in parts[1:]):
                    # the commit's own author fields (the porcelain's author lines would carry the .mailmap)
                    name, email, epoch = _git(repo, "log", "-1", "--format=%an%x00%ae%x00%at",
                                              parts[0]).decode().strip().split("\0")
                    side = _side(email, name, int(epoch))
                    caps = [None] + [c for c, prefix in (("data", "data/"), ("training", "train/"))
                                     if path.startswith(prefix)]
                    for cap in caps:
                        totals[(week, cap)][side] += 1
        out.update(totals)
    return out


def test_an_independent_recomputation_equals_baton_in_every_week(lines):
    repo, _cfg, m = lines
    for (week, cap), sides in recompute(repo.path).items():
        row = _row(m, week, cap)
        assert {s: int(row[s]) for s in sides} == sides, (week, cap)


def test_evidence_lists_files_with_their_lines_by_author_and_reconciles(lines):
    _repo, _cfg, m = lines
    for week in range(0, 5):
        for cap in (None, "data", "training"):
            assert reconcile(m, KPI, week, cap) == [], (week, cap)
    rows = evidence(m, KPI, 4, "training").set_index("person")
    # train/model.py at week 4: m1 m2 m4 (Vera), m5h m6h (Hana before her hire: vendor), M3h (Hana hired), s5i (Ian)
    assert rows.loc["Vera Vendor", ["side", "count", "file_lines"]].tolist() == ["vendor", 3, 7]
    hana = evidence(m, KPI, 4, "training")
    hana = hana[hana["person"] == "Hana Hired"].set_index("side")["count"].to_dict()
    assert hana == {"vendor": 2, "internal": 1}
    assert rows.loc["Ian Internal", "count"] == 1
    ids = set(evidence(m, KPI, 4, None)["id"])
    assert "repo:logo.png" not in ids and "repo:data/blob.bin" not in ids and "repo:link" not in ids
    assert "repo:data/schema.yaml" in ids and "repo:data/load.py" not in ids


def test_the_mailmap_is_not_applied_and_the_vendor_keeps_lines_written_before_a_hire(lines):
    _repo, _cfg, m = lines
    rows = evidence(m, KPI, 0, None)
    assert set(rows["side"]) == {"vendor"}  # .mailmap would make Vera's lines Ian's (internal)
    assert rows.loc[rows["person"] == "Vera Vendor", "count"].sum() == 11
