"""The surviving-lines collector (collectors/git/blame.py) on a real history (tests/support/blame_history.py):
incremental weeks give what one run from scratch gives, a rerun blames nothing, an interrupted run resumes, a
rewritten history is followed, the source repository is never written to, bad input is one line and a failed run."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

import collectors.git.blame as blame_module
from collectors.__main__ import main as collectors_main
from collectors.git.blame import collect_blame
from collectors.git.source import collect_git
from collectors.runs import CollectError
from db.engine import make_engine
from db.models import CollectionRun, GitBlameLines, GitTreeFile, GitWeekEnd
from metrics.engagement_file import parse_engagement
from tests.conftest import GitRepo
from tests.support import blame_history as H

WEEK2 = dt.datetime(2026, 9, 16, 12, tzinfo=dt.UTC)  # weeks 0..2 blamed


@pytest.fixture
def history(tmp_path):
    repo = GitRepo(tmp_path / "repo")
    shas = H.build(repo)
    return repo, shas, parse_engagement(H.engagement())


def _stored(engine) -> tuple[set, set, set]:
    """What the blame tables say, independent of the order the rows were written in."""
    with engine.connect() as conn:
        ends = set(conn.execute(select(GitWeekEnd.ends_at, GitWeekEnd.sha)).all())
        t = GitTreeFile
        files = set(conn.execute(select(t.sha, t.path, t.binary, t.lines)).all())
        lines = set(conn.execute(select(GitTreeFile.sha, GitTreeFile.path, GitBlameLines.commit, GitBlameLines.lines)
                                 .join(GitBlameLines, (GitBlameLines.source_id == GitTreeFile.source_id)
                                       & (GitBlameLines.blamed_at == GitTreeFile.blamed_at)
                                       & (GitBlameLines.path == GitTreeFile.path))).all())
    return ends, files, lines


def _fresh(history, tmp_path, name) -> tuple:
    repo, _shas, cfg = history
    engine = make_engine(f"sqlite:///{tmp_path / name}")
    collect_git(engine, repo.path, "main")
    result = collect_blame(engine, cfg, repo.path, "main", now=H.NOW, workers=2, progress=False)
    return engine, result


def test_week_ends_are_the_newest_first_parent_commits_committed_before_each_week_ends(history, db_url):
    repo, shas, cfg = history
    engine = make_engine(db_url)
    collect_git(engine, repo.path, "main")
    collect_blame(engine, cfg, repo.path, "main", now=H.NOW, workers=2, progress=False)
    with engine.connect() as conn:
        ends = dict(conn.execute(select(GitWeekEnd.ends_at, GitWeekEnd.sha)).all())
    berlin_midnight_utc = {0: dt.datetime(2026, 9, 6, 22), 1: dt.datetime(2026, 9, 13, 22),
                           2: dt.datetime(2026, 9, 20, 22), 3: dt.datetime(2026, 9, 27, 22),
                           4: dt.datetime(2026, 10, 4, 22)}
    # c12 was committed at week 3's last instant + 0 s: it is week 4's, so week 3 ends at c10.
    expected = {0: "c2", 1: "m1", 2: "c7", 3: "c10", 4: "c11"}
    assert {w: ends[at] for w, at in berlin_midnight_utc.items()} == {w: shas[c] for w, c in expected.items()}
    with engine.connect() as conn:
        tree = {r.path: r for r in conn.execute(select(GitTreeFile.path, GitTreeFile.binary, GitTreeFile.lines)
                                                .where(GitTreeFile.sha == shas["c10"])).all()}
    assert tree["logo.png"].binary and tree["logo.png"].lines is None and tree["data/blob.bin"].binary
    assert "link" not in tree  # a symlink is not a file
    assert (tree["train/model.py"].binary, tree["train/model.py"].lines) == (False, 7)


def test_weeks_collected_one_by_one_equal_one_run_from_scratch(history, tmp_path):
    repo, _shas, cfg = history
    engine = make_engine(f"sqlite:///{tmp_path / 'weekly.db'}")
    collect_git(engine, repo.path, "main")
    early = collect_blame(engine, cfg, repo.path, "main", now=WEEK2, workers=2, progress=False)
    # week 0: 4 text files blamed in full; week 1: 4 changed, 3 walked from week 0's end (train/model.py's line 2
    # came through the merged branch to a commit before week 0's end: a full blame); week 2: 2 changed, both walked
    # from week 1's end (data/loader.py through its rename)
    assert (early.week_ends, early.trees, early.files_blamed, early.range_blames) == (3, 3, 10, 5)
    later = collect_blame(engine, cfg, repo.path, "main", now=H.NOW, workers=2, progress=False)
    # weeks 3 and 4 blame only what changed since the week before, walking only the commits since then
    assert later.trees == 2
    assert later.files_blamed == 4  # week 3: train/model.py, data/schema.yaml; week 4: data/loader.py, README.md
    assert later.range_blames == 4
    assert later.files_reused == 4 + 6  # week 3 keeps 4 of week 2's 6 files, week 4 keeps 6 of week 3's 8
    again = collect_blame(engine, cfg, repo.path, "main", now=H.NOW, workers=2, progress=False)
    assert (again.trees, again.files_blamed) == (0, 0)
    scratch, _ = _fresh(history, tmp_path, "scratch.db")
    assert _stored(engine) == _stored(scratch)


def test_an_interrupted_run_keeps_the_files_written_and_the_rerun_completes_them(history, tmp_path, monkeypatch):
    repo, _shas, cfg = history
    engine = make_engine(f"sqlite:///{tmp_path / 'cut.db'}")
    collect_git(engine, repo.path, "main")
    real, calls = blame_module.blame_file, []

    def interrupted(*args, **kwargs):  # Ctrl-C arrives while the 4th file is being blamed
        calls.append(args[2])
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(blame_module, "blame_file", interrupted)
    monkeypatch.setattr(blame_module, "WRITE_EVERY", 1)
    with pytest.raises(KeyboardInterrupt):
        collect_blame(engine, cfg, repo.path, "main", now=H.NOW, workers=1, progress=False)
    with engine.connect() as conn:
        assert conn.execute(select(CollectionRun.status).order_by(CollectionRun.id.desc())).scalar() == "interrupted"
        kept = conn.execute(select(GitTreeFile.path).where(GitTreeFile.blamed_at.is_not(None))).scalars().all()
    assert 2 <= len(kept) <= 3  # the files finished before the 4th (whichever of them the writer took first)
    monkeypatch.setattr(blame_module, "blame_file", real)
    resumed = collect_blame(engine, cfg, repo.path, "main", now=H.NOW, workers=2, progress=False)
    scratch, full = _fresh(history, tmp_path, "scratch.db")
    assert resumed.files_blamed == full.files_blamed - len(kept)  # nothing blamed twice
    assert _stored(engine) == _stored(scratch)


def test_a_rewritten_history_is_followed(history, tmp_path):
    repo, shas, cfg = history
    engine, _ = _fresh(history, tmp_path, "rewrite.db")
    repo.git("reset", "-q", "--hard", shas["c12"])  # force-push: c11 replaced by an internal change
    new_tip = repo.commit("c11'", {"data/loader.py": "A1i\nA2i\nA3i\na4\nA5v\n"}, author=H.IAN,
                          date="2026-09-29T10:00:00+02:00")
    collect_git(engine, repo.path, "main")
    result = collect_blame(engine, cfg, repo.path, "main", now=H.NOW, workers=2, progress=False)
    assert (result.trees, result.files_blamed) == (1, 2)  # week 4's tree: data/loader.py and README.md
    with engine.connect() as conn:
        ends = dict(conn.execute(select(GitWeekEnd.ends_at, GitWeekEnd.sha)).all())
    assert ends[dt.datetime(2026, 10, 4, 22)] == new_tip


def test_the_source_repository_is_not_written_to(history, tmp_path):
    repo, _shas, cfg = history
    git_dir = repo.path / ".git"
    before = {p: p.stat().st_mtime_ns for p in git_dir.rglob("*")}
    _fresh(history, tmp_path, "ro.db")
    after = {p: p.stat().st_mtime_ns for p in git_dir.rglob("*")}
    assert after == before


def test_bad_input_is_one_line_and_a_failed_run(history, tmp_path, capsys):
    repo, _shas, cfg = history
    engine = make_engine(f"sqlite:///{tmp_path / 'bad.db'}")
    with pytest.raises(CollectError, match="branch 'nope' not found"):
        collect_blame(engine, cfg, repo.path, "nope", now=H.NOW, progress=False)
    with engine.connect() as conn:
        run = conn.execute(select(CollectionRun.status, CollectionRun.error).order_by(CollectionRun.id.desc())).first()
    assert run.status == "failed" and "branch 'nope' not found" in run.error


def test_collect_command_reports_surviving_lines(history, tmp_path, capsys):
    repo, _shas, _cfg = history
    toml = tmp_path / "engagement.toml"
    toml.write_text('[engagement]\nname = "Lines"\nstart = 2026-09-07\nweeks = 4\ntimezone = "Europe/Berlin"\n'
                    f'[[sources.git]]\npath = "{repo.path}"\nbranch = "main"\n')
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert collectors_main(["collect", "--config", str(toml), "--db", url, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "repo: surviving lines at" in out and "files blamed" in out
    with make_engine(url).connect() as conn:
        assert conn.execute(select(GitWeekEnd.sha)).first() is not None
