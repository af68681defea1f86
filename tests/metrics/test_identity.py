"""Attribution (SPEC §3), rule by rule, as a table: identity + local date -> side."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from metrics.engagement_file import parse_engagement
from metrics.identity import attribute, glob_regex, side_counts

CFG = parse_engagement({
    "engagement": {"name": "X", "start": dt.date(2026, 9, 7), "timezone": "Europe/Berlin"},
    "people": [
        {"name": "Dana Ortiz", "emails": ["dana@client.com", "Dana.Ortiz@Gmail.com"], "github": ["dortiz"],
         "jira": ["5b10ac8d82e05b22cc7d4ef5"],
         "affiliations": [{"side": "vendor", "org": "Acme", "until": dt.date(2026, 10, 7)},
                          {"side": "internal", "org": "Client", "from": dt.date(2026, 10, 7)}]},
        {"name": "Vic Vendor", "emails": ["vic@acme-consulting.com"],
         "affiliations": [{"side": "vendor", "from": dt.date(2026, 9, 1), "until": dt.date(2026, 11, 1)}]},
        {"name": "Ina Internal", "emails": ["ina@example.org"], "github": ["ina-x"],
         "affiliations": [{"side": "internal"}]},
        {"name": "Bot Tom", "emails": ["tom@client.com"], "github": ["botbuilder[bot]"],
         "affiliations": [{"side": "internal"}]},
    ],
    "classify": {"internal_email_domains": ["client.com"], "vendor_email_domains": ["acme-consulting.com"],
                 "bots": ["*[bot]", "dependabot*", "renovate*", "github-actions*", "ci-?"]},
})

# (case, at UTC, identity columns, expected side, expected person)
TABLE = [
    ("bot glob with literal brackets", "2026-09-10T10:00:00Z", {"name": "dependabot[bot]", "email": "x@y.z"},
     "bot", None),
    ("brackets are not a character class", "2026-09-10T10:00:00Z",
     {"name": "Robot", "email": "robot@client.com"}, "internal", None),
    ("bot by email local part", "2026-09-10T10:00:00Z",
     {"name": "Renovate", "email": "renovate-bot@acme-consulting.com"}, "bot", None),
    ("bot by noreply email", "2026-09-10T10:00:00Z",
     {"name": "x", "email": "49699333+dependabot[bot]@users.noreply.github.com"}, "bot", None),
    ("? is one character", "2026-09-10T10:00:00Z", {"name": "ci-7", "email": "c@q.com"}, "bot", None),
    ("? is only one character", "2026-09-10T10:00:00Z", {"name": "ci-77", "email": "c@q.com"},
     "unattributed", None),
    ("source says bot", "2026-09-10T10:00:00Z", {"login": "some-app", "source_bot": True}, "bot", None),
    ("bot rule beats roster", "2026-09-10T10:00:00Z", {"login": "botbuilder[bot]"}, "bot", None),
    ("roster email, case-insensitive", "2026-09-10T10:00:00Z", {"email": "DANA.ORTIZ@gmail.com"}, "vendor",
     "Dana Ortiz"),
    ("roster GitHub login", "2026-09-10T10:00:00Z", {"login": "DOrtiz"}, "vendor", "Dana Ortiz"),
    ("noreply with id resolves through login", "2026-09-10T10:00:00Z",
     {"email": "12345+dortiz@users.noreply.github.com"}, "vendor", "Dana Ortiz"),
    ("noreply without id resolves through login", "2026-09-10T10:00:00Z",
     {"email": "ina-x@users.noreply.github.com"}, "internal", "Ina Internal"),
    ("roster Jira account", "2026-09-10T10:00:00Z", {"jira_id": "5b10ac8d82e05b22cc7d4ef5"}, "vendor",
     "Dana Ortiz"),
    # Dana switches sides on Wednesday 2026-10-07 (Berlin): until is exclusive, from is inclusive.
    ("switch: last vendor minute (local)", "2026-10-06T21:59:00Z", {"email": "dana@client.com"}, "vendor",
     "Dana Ortiz"),
    ("switch: first internal minute (local)", "2026-10-06T22:00:00Z", {"email": "dana@client.com"}, "internal",
     "Dana Ortiz"),
    ("roster beats email domain", "2026-09-10T10:00:00Z", {"email": "dana@client.com"}, "vendor", "Dana Ortiz"),
    ("before the first affiliation: unattributed", "2026-08-31T12:00:00Z", {"email": "vic@acme-consulting.com"},
     "unattributed", "Vic Vendor"),
    ("after the last affiliation: unattributed", "2026-11-01T12:00:00Z", {"email": "vic@acme-consulting.com"},
     "unattributed", "Vic Vendor"),
    ("internal email domain", "2026-09-10T10:00:00Z", {"email": "newhire@client.com"}, "internal", None),
    ("vendor email domain", "2026-09-10T10:00:00Z", {"email": "sam@ACME-consulting.com"}, "vendor", None),
    ("subdomain is not an exact match", "2026-09-10T10:00:00Z", {"email": "sam@eu.client.com"}, "unattributed",
     None),
    ("deleted account", "2026-09-10T10:00:00Z", {"login": "ghost"}, "unattributed", None),
    ("nothing matches", "2026-09-10T10:00:00Z", {"name": "Stranger", "email": "s@gmail.com"}, "unattributed",
     None),
]


@pytest.mark.parametrize(("case", "at", "identity", "side", "person"), TABLE, ids=[t[0] for t in TABLE])
def test_attribution_rule(case, at, identity, side, person):
    events = pd.DataFrame([{"at": pd.Timestamp(at), **identity}])
    got = attribute(events, CFG).iloc[0]
    assert got["side"] == side, got["rule"]
    assert (got["person"] if isinstance(got["person"], str) else None) == person


def test_attribution_of_a_whole_table_at_once_keeps_order_and_index():
    events = pd.DataFrame([{"at": pd.Timestamp(at), **ident} for _, at, ident, _, _ in TABLE],
                          index=range(100, 100 + len(TABLE)))
    got = attribute(events, CFG)
    assert list(got.index) == list(events.index)
    assert list(got["side"]) == [t[3] for t in TABLE]


def test_person_switching_sides_mid_week_splits_that_week():
    # Week 5 runs Mon 2026-10-05 .. Sun 2026-10-11; Dana turns internal on Wednesday the 7th.
    times = ["2026-10-05T09:00:00Z", "2026-10-06T09:00:00Z", "2026-10-07T09:00:00Z", "2026-10-09T09:00:00Z"]
    events = pd.DataFrame({"at": pd.to_datetime(times, utc=True), "email": "dana@client.com"})
    counts = side_counts(attribute(events, CFG), ["week"]).iloc[0]
    assert (counts["week"], counts["internal"], counts["vendor"], counts["value"]) == (5, 2, 2, 0.5)


def test_side_counts_exclude_bots_and_unattributed_from_the_share():
    events = pd.DataFrame({"week": [1, 1, 1, 1, 1, 2], "side": ["internal", "vendor", "vendor", "bot",
                                                                "unattributed", "bot"]})
    counts = side_counts(events, ["week"]).set_index("week")
    assert counts.loc[1, ["internal", "vendor", "unattributed", "bots"]].tolist() == [1, 2, 1, 1]
    assert counts.loc[1, "value"] == pytest.approx(1 / 3)
    assert pd.isna(counts.loc[2, "value"])  # only a bot: no share, not 0


def test_glob_only_star_and_question_mark_are_wildcards():
    rx = glob_regex(["*[bot]", "a.b+c"])
    assert rx.match("my-app[bot]") and not rx.match("robot") and not rx.match("b")
    assert rx.match("a.b+c") and not rx.match("aXb+c")
