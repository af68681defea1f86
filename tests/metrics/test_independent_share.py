"""internal_commit_share on a ~2,000-commit repository equals an independent, plain-Python reading of
SPEC §3-§5 in every week (counts and value), through the real collector and `python -m metrics weekly`."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from bench.synth_repo import synthesize
from tests.support.paths import ROOT

START = dt.date(2024, 1, 15)
TZ = "America/New_York"
SWITCH = dt.date(2024, 2, 14)  # Fatima moves vendor -> internal (a Wednesday)
ROSTER = f"""
[engagement]
name = "Independent check"
start = {START}
weeks = 12
timezone = "{TZ}"

[[people]]
name = "Alice Nguyen"
emails = ["ALICE@client.com"]
affiliations = [{{ side = "internal" }}]

[[people]]
name = "Priya Raman"
emails = ["priya.raman@client.com", "priya.raman84@gmail.com"]
affiliations = [{{ side = "internal", from = 2023-06-01 }}]

[[people]]
name = "Fatima Haddad"
emails = ["fatima@client.com"]
affiliations = [{{ side = "vendor", until = {SWITCH} }}, {{ side = "internal", from = {SWITCH} }}]

[[people]]
name = "Octo Cat"
github = ["octo"]
affiliations = [{{ side = "vendor" }}]

[[people]]
name = "Carol Diaz"
emails = ["carol@acme-consulting.com"]
affiliations = [{{ side = "vendor" }}]

[classify]
internal_email_domains = ["client.com"]
vendor_email_domains = ["acme-consulting.com"]
bots = ["*[bot]", "dependabot*"]

[[sources.git]]
path = "repo"
"""


def independent_side(email: str, name: str, local_date: dt.date) -> str:
    """SPEC §3 read plainly, one commit at a time."""
    email = email.lower()
    local = email.split("@")[0]
    if name.endswith("[bot]") or local.endswith("[bot]") or name.lower().startswith("dependabot"):
        return "bot"
    if email in ("alice@client.com",):
        return "internal"
    if email in ("priya.raman@client.com", "priya.raman84@gmail.com"):
        return "internal" if local_date >= dt.date(2023, 6, 1) else "unattributed"
    if email == "fatima@client.com":
        return "vendor" if local_date < SWITCH else "internal"
    if email.endswith("@users.noreply.github.com") and local.split("+")[-1] == "octo":
        return "vendor"
    if email == "carol@acme-consulting.com":
        return "vendor"
    domain = email.split("@")[-1]
    return {"client.com": "internal", "acme-consulting.com": "vendor"}.get(domain, "unattributed")


@pytest.mark.slow
def test_weekly_commit_share_equals_independent_computation(tmp_path):
    info = synthesize(tmp_path / "repo", commits=2000, seed=11,
                      start=dt.datetime(2024, 1, 8, 9, tzinfo=dt.UTC))
    assert info.commits == 2000
    toml = tmp_path / "engagement.toml"
    toml.write_text(ROSTER)
    db = f"sqlite:///{tmp_path / 'baton.db'}"
    subprocess.run([sys.executable, "-m", "collectors", "collect", "--config", str(toml), "--db", db, "--quiet"],
                   cwd=ROOT, check=True, capture_output=True)
    out = subprocess.run([sys.executable, "-m", "metrics", "weekly", "--config", str(toml), "--db", db,
                          "--format", "json", "--kpi", "internal_commit_share"],
                         cwd=ROOT, check=True, capture_output=True, text=True)
    ours = {r["week"]: r for r in json.loads(out.stdout) if r["capability"] is None}

    log = subprocess.run(["git", "-C", str(tmp_path / "repo"), "log", "--no-merges", "--format=%ae%x00%an%x00%aI",
                          "main"], check=True, capture_output=True, text=True).stdout
    expected: dict[int, Counter] = {}
    zone = ZoneInfo(TZ)
    for line in log.splitlines():
        email, name, when = line.split("\x00")
        local_date = dt.datetime.fromisoformat(when).astimezone(zone).date()
        days = (local_date - START).days
        week = 0 if days < 0 else days // 7 + 1
        expected.setdefault(week, Counter())[independent_side(email, name, local_date)] += 1

    assert len(expected) >= 8 and 0 in expected  # the data spans the baseline and many weeks
    assert set(expected) <= set(ours)
    for week, row in ours.items():
        c = expected.get(week, Counter())
        assert (row["internal"], row["vendor"], row["unattributed"], row["bots"]) == (
            c["internal"], c["vendor"], c["unattributed"], c["bot"]), f"week {week}"
        attributed = c["internal"] + c["vendor"]
        assert row["value"] == (pytest.approx(c["internal"] / attributed) if attributed else None), f"week {week}"
    switch_week = (SWITCH - START).days // 7 + 1
    assert ours[switch_week]["internal"] > 0 and ours[switch_week]["vendor"] > 0
