"""A small real git history for surviving lines (SPEC §10 internal_line_share), line counts written out by hand.

Engagement: start Mon 2026-09-07, Europe/Berlin, 4 weeks, "now" = Wed 2026-09-30 (week 4), so weeks 0..4 are
blamed. Capabilities data (data/**) and training (train/**). People: Vera (vendor, vera@acme.com), Ian (internal,
ian@client.com), Hana (hana@acme.com: vendor until 2026-09-21, internal from then — she keeps her Acme email),
dependabot[bot] (a bot), x@gmail.com (nobody: unattributed). `.mailmap` maps Vera to Ian: it must NOT apply.

Commits (times +02:00; a = the line's text; V/I/H/U/B = who last changed it):
- c1  09-01 Vera   data/load.py a1..a5, train/model.py m1..m4, README.md r1 r2, .mailmap (1 line),
                   logo.png (binary), link -> README.md (a symlink: not a file)
- c2  09-03 Hana   train/model.py: m2 -> M2h, adds m5h m6h (Hana is vendor on 09-03)     <- week 0 ends here
- side branch from c1: s1 09-09 Ian appends s5i to train/model.py
- c3  09-08 Ian    data/load.py: a2 a3 -> A2i A3i; adds data/schema.yaml s1..s3
- c4  09-09 x@gmail.com README.md adds r3
- m1  09-10 Ian    merges the side branch; train/model.py resolved to m1 m2 m3 m4 m5h m6h s5i: line 2 goes back to
                   c1's m2 (blame: through the side branch to c1, i.e. not through week 0's end commit) <- week 1
- c5  09-15 Vera   git mv data/load.py data/loader.py, a5 -> A5v (blame follows the rename)
- c6  09-16 bot    adds requirements.txt (1 line)
- c7  09-17 Ian    deletes data/schema.yaml                                                 <- week 2
- c8  09-22 Hana   train/model.py m3 -> M3h (internal since 09-21, still her Acme email)
- c9  09-23 Ian    re-adds data/schema.yaml t1 t2
- c10 09-24 Ian    changes logo.png, adds data/blob.bin (both binary)                       <- week 3
- c12 authored 09-27 20:00 by Ian, committed 2026-09-28 00:00:00 exactly (the instant week 3 ends, so week 4's):
                   README.md adds r4
- c11 09-29 Vera   data/loader.py a1 -> A1v                                                 <- week 4 (the tip)
"""

from __future__ import annotations

import datetime as dt
import subprocess

START = dt.date(2026, 9, 7)
TZ = "Europe/Berlin"
NOW = dt.datetime(2026, 9, 30, 12, tzinfo=dt.UTC)
VERA, IAN, HANA = "Vera Vendor <vera@acme.com>", "Ian Internal <ian@client.com>", "Hana Hired <hana@acme.com>"
BOT, NOBODY = "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>", "X <x@gmail.com>"

# week -> (internal, vendor, unattributed, bots) surviving lines, engagement-wide, by hand from the docstring:
# w0: load 5V, model m1 m3 m4 V + M2h m5h m6h H(vendor), README 2V, .mailmap 1V                 -> 0 I, 14 V
# w1: load a1 a4 a5 V + A2i A3i I, schema 3I, model m1 m2 m3 m4 V, m5h m6h H(vendor), s5i I, README r1 r2 V
#     + r3 U, .mailmap V                                                                        -> 6 I, 12 V, 1 U
# w2: loader 3V 2I, schema gone, model 6V 1I, README 2V 1U, .mailmap V, requirements B          -> 3 I, 12 V, 1 U, 1 B
# w3: loader 3V 2I, schema t1 t2 I, model m1 m2 m4 m5h m6h V + M3h s5i I, README 2V 1U, .mailmap V, req B
#                                                                                               -> 6 I, 11 V, 1 U, 1 B
# w4: loader A1v a4 A5v V + A2i A3i I, schema 2I, model 5V 2I, README 2V 1U + r4 I, .mailmap V, req B
#                                                                                               -> 7 I, 11 V, 1 U, 1 B
INTENDED = {0: (0, 14, 0, 0), 1: (6, 12, 1, 0), 2: (3, 12, 1, 1), 3: (6, 11, 1, 1), 4: (7, 11, 1, 1)}
# capability -> week -> (internal, vendor) lines of its files
INTENDED_CAPABILITY = {
    "data": {0: (0, 5), 1: (5, 3), 2: (2, 3), 3: (4, 3), 4: (4, 3)},
    "training": {0: (0, 6), 1: (1, 6), 2: (1, 6), 3: (2, 5), 4: (2, 5)},
}


def engagement() -> dict:
    return {
        "engagement": {"name": "Lines", "start": START, "weeks": 4, "timezone": TZ},
        "people": [
            {"name": "Vera Vendor", "emails": ["vera@acme.com"], "affiliations": [{"side": "vendor"}]},
            {"name": "Ian Internal", "emails": ["ian@client.com"], "affiliations": [{"side": "internal"}]},
            {"name": "Hana Hired", "emails": ["hana@acme.com"], "affiliations": [
                {"side": "vendor", "until": dt.date(2026, 9, 21)}, {"side": "internal", "from": dt.date(2026, 9, 21)}]},
        ],
        "classify": {"internal_email_domains": ["client.com"], "vendor_email_domains": ["acme.com"]},
        "sources": {"git": [{"path": "repo", "branch": "main"}]},
        "capabilities": [{"key": "data", "paths": ["data/**"]}, {"key": "training", "paths": ["train/**"]}],
    }


def build(repo) -> dict[str, str]:
    """Write the history into `repo` (tests.conftest.GitRepo); returns name -> sha."""
    shas = {}
    shas["c1"] = repo.commit("c1", {
        "data/load.py": "a1\na2\na3\na4\na5\n", "train/model.py": "m1\nm2\nm3\nm4\n", "README.md": "r1\nr2\n",
        ".mailmap": "Ian Internal <ian@client.com> <vera@acme.com>\n", "logo.png": b"\x89PNG\x00\x01\x02\n"},
        author=VERA, date="2026-09-01T10:00:00+02:00")
    (repo.path / "link").symlink_to("README.md")
    repo.git("add", "link")
    repo.git("commit", "-q", "--amend", "--no-edit", env=_env(VERA, "2026-09-01T10:00:00+02:00"))
    shas["c1"] = repo.git("rev-parse", "HEAD")
    shas["c2"] = repo.commit("c2", {"train/model.py": "m1\nM2h\nm3\nm4\nm5h\nm6h\n"}, author=HANA,
                             date="2026-09-03T10:00:00+02:00")
    repo.git("checkout", "-q", "-b", "side", shas["c1"])
    shas["s1"] = repo.commit("s1", {"train/model.py": "m1\nm2\nm3\nm4\ns5i\n"}, author=IAN,
                             date="2026-09-09T09:00:00+02:00")
    repo.git("checkout", "-q", "main")
    shas["c3"] = repo.commit("c3", {"data/load.py": "a1\nA2i\nA3i\na4\na5\n", "data/schema.yaml": "s1\ns2\ns3\n"},
                             author=IAN, date="2026-09-08T10:00:00+02:00")
    shas["c4"] = repo.commit("c4", {"README.md": "r1\nr2\nr3\n"}, author=NOBODY, date="2026-09-09T10:00:00+02:00")
    subprocess.run(["git", "-C", str(repo.path), "merge", "-q", "--no-ff", "--no-commit", "side"],
                   capture_output=True, env=_env(IAN, "2026-09-10T10:00:00+02:00"))  # conflicts: resolved below
    (repo.path / "train/model.py").write_text("m1\nm2\nm3\nm4\nm5h\nm6h\ns5i\n")
    repo.git("add", "train/model.py")
    repo.git("commit", "-q", "-m", "m1: merge side", env=_env(IAN, "2026-09-10T10:00:00+02:00"))
    shas["m1"] = repo.git("rev-parse", "HEAD")
    repo.git("mv", "data/load.py", "data/loader.py")
    shas["c5"] = repo.commit("c5", {"data/loader.py": "a1\nA2i\nA3i\na4\nA5v\n"}, author=VERA,
                             date="2026-09-15T10:00:00+02:00")
    shas["c6"] = repo.commit("c6", {"requirements.txt": "numpy==2.1\n"}, author=BOT, date="2026-09-16T10:00:00+02:00")
    shas["c7"] = repo.commit("c7", delete=("data/schema.yaml",), author=IAN, date="2026-09-17T10:00:00+02:00")
    shas["c8"] = repo.commit("c8", {"train/model.py": "m1\nm2\nM3h\nm4\nm5h\nm6h\ns5i\n"}, author=HANA,
                             date="2026-09-22T10:00:00+02:00")
    shas["c9"] = repo.commit("c9", {"data/schema.yaml": "t1\nt2\n"}, author=IAN, date="2026-09-23T10:00:00+02:00")
    shas["c10"] = repo.commit("c10", {"logo.png": b"\x89PNG\x00\x03\n", "data/blob.bin": b"\x00\x01data\n"},
                              author=IAN, date="2026-09-24T10:00:00+02:00")
    (repo.path / "README.md").write_text("r1\nr2\nr3\nr4\n")
    repo.git("add", "README.md")
    env = {**_env(IAN, "2026-09-27T20:00:00+02:00"), "GIT_COMMITTER_DATE": "2026-09-28T00:00:00+02:00"}
    repo.git("commit", "-q", "-m", "c12", env=env)
    shas["c12"] = repo.git("rev-parse", "HEAD")
    shas["c11"] = repo.commit("c11", {"data/loader.py": "A1v\nA2i\nA3i\na4\nA5v\n"}, author=VERA,
                              date="2026-09-29T10:00:00+02:00")
    return shas


def _env(who: str, date: str) -> dict[str, str]:
    name, email = who.rsplit(" <", 1)
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email.rstrip(">"), "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email.rstrip(">"), "GIT_COMMITTER_DATE": date}

