"""Parsing what `git log` says about real commits made with git."""

from __future__ import annotations

import datetime as dt

from collectors.git.client import list_tags, resolve_tip, stream_commits


def commits_by_subject(repo):
    return {c.subject: c for c in stream_commits(repo.path, resolve_tip(repo.path, "main"))}


def test_root_commit_binary_file_and_offsets(git_repo):
    git_repo.commit("root", {"a.txt": "one\ntwo\n", "model.bin": b"\x00\x01\x02"},
                    author="Ann <ann@x.com>", date="2026-09-08T10:15:00+02:00")
    (root,) = stream_commits(git_repo.path, "main")
    assert root.parents == ()
    assert root.authored_at == dt.datetime(2026, 9, 8, 10, 15, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    stats = {f.path: (f.added, f.deleted) for f in root.files}
    assert stats == {"a.txt": (2, 0), "model.bin": (None, None)}  # binary: no line counts


def test_rename_merge_trailers_empty_message_and_future_date(git_repo):
    git_repo.commit("root", {"src/old_name.py": "x = 1\n" * 20})
    git_repo.git("checkout", "-q", "-b", "feature")
    git_repo.git("mv", "src/old_name.py", "src/new_name.py")
    git_repo.commit("rename\n\nbody\n\nCo-authored-by: Bo Li <bo@client.com>\nCo-authored-by: Cy <cy@x.com>",
                    {"src/new_name.py": "x = 1\n" * 20 + "y = 2\n"}, date="2026-09-09T10:00:00+02:00")
    git_repo.git("checkout", "-q", "main")
    git_repo.commit("", {"b.txt": "b\n"}, date="2026-09-09T11:00:00+02:00")
    env = {"GIT_AUTHOR_DATE": "2026-09-10T10:00:00+02:00", "GIT_COMMITTER_DATE": "2026-09-10T10:00:00+02:00",
           "GIT_AUTHOR_NAME": "M", "GIT_AUTHOR_EMAIL": "m@x", "GIT_COMMITTER_NAME": "M", "GIT_COMMITTER_EMAIL": "m@x"}
    git_repo.git("merge", "-q", "--no-ff", "-m", "Merge feature", "feature", env=env)
    git_repo.commit("from the future", {"c.txt": "c\n"}, date="2031-01-01T00:00:00-05:00")
    commits = commits_by_subject(git_repo)
    assert len(commits) == 5
    rename = commits["rename"]
    (f,) = rename.files
    assert (f.old_path, f.path, f.added, f.deleted) == ("src/old_name.py", "src/new_name.py", 1, 0)
    assert rename.co_authors == ("Bo Li <bo@client.com>", "Cy <cy@x.com>")
    merge = commits["Merge feature"]
    assert len(merge.parents) == 2 and merge.files == ()
    assert commits[""].files[0].path == "b.txt"  # empty message
    future = commits["from the future"]
    assert future.authored_at.astimezone(dt.UTC) == dt.datetime(2031, 1, 1, 5, tzinfo=dt.UTC)


def test_non_utf8_author_name_and_unusual_paths(git_repo):
    git_repo.commit("root", {"a.txt": "a\n"})
    # A Latin-1 encoded author name with no encoding header, as old tools wrote them.
    tree = git_repo.git("write-tree")
    head = git_repo.git("rev-parse", "HEAD")
    raw = (f"tree {tree}\nparent {head}\n".encode() + b"author Jos\xe9 M\xfcller <jose@x.com> 1789000000 +0200\n"
           b"committer Jos\xe9 M\xfcller <jose@x.com> 1789000000 +0200\n\nlatin-1 author\n")
    sha = git_repo.git("hash-object", "-t", "commit", "-w", "--stdin", input=raw)
    git_repo.git("update-ref", "refs/heads/main", sha)
    git_repo.commit("odd path", {"dir with space/ü\tx.txt": "1\n"})
    commits = commits_by_subject(git_repo)
    assert commits["latin-1 author"].author_name == "José Müller"
    assert commits["odd path"].files[0].path == "dir with space/ü\tx.txt"


def test_tags_with_dates_lightweight_and_annotated(git_repo):
    git_repo.commit("root", {"a.txt": "a\n"}, date="2026-09-08T10:00:00+02:00")
    sha = git_repo.git("rev-parse", "HEAD")
    git_repo.git("tag", "data-v1")
    env = {"GIT_COMMITTER_DATE": "2026-09-09T12:00:00+02:00", "GIT_COMMITTER_NAME": "T",
           "GIT_COMMITTER_EMAIL": "t@x"}
    git_repo.git("tag", "-a", "data-v2", "-m", "cut", env=env)
    tags = {t.name: t for t in list_tags(git_repo.path)}
    assert tags["data-v1"].sha == sha and tags["data-v2"].sha == sha
    assert tags["data-v1"].tagged_at.isoformat() == "2026-09-08T10:00:00+02:00"
    assert tags["data-v2"].tagged_at.isoformat() == "2026-09-09T12:00:00+02:00"
    assert tags["data-v2"].tagger_email == "t@x"
