"""People page suggestions (SPEC §3, issue 10 §5): an unattributed identity gets the roster people it may belong to,
each with its reason — the same normalised name, a noreply login equal to a roster login, the same email local
part at another domain — and nothing is ever merged."""

from __future__ import annotations

from metrics.people import normalised_name, roster_suggestions, unattributed_identities
from tests.metrics.kpis.world import commits, config, metrics

CFG = config(people=[
    {"name": "Inés Ortiz", "emails": ["ines.ortiz@client.com"], "github": ["iortiz"],
     "affiliations": [{"side": "internal"}]},
    {"name": "Marco Bianchi", "emails": ["marco@acme.com"], "github": ["mbianchi"],
     "affiliations": [{"side": "vendor", "until": "2026-09-14"}]},
])


def test_names_compare_without_accents_case_punctuation_or_order():
    assert normalised_name("Ortiz, INES") == normalised_name("Inés Ortiz") == "ines ortiz"
    assert normalised_name("Ines Ortega") != normalised_name("Inés Ortiz")


def test_each_rule_suggests_with_its_reason():
    assert roster_suggestions(CFG, "ines ortiz", "ines@gmail.com") == [
        "Inés Ortiz (same name as the roster's Inés Ortiz)"]
    assert roster_suggestions(CFG, "IO", "999+iortiz@users.noreply.github.com") == [
        "Inés Ortiz (noreply login iortiz is their GitHub login)"]
    assert roster_suggestions(CFG, "someone", "ines.ortiz@gmail.com") == [
        "Inés Ortiz (same email name ines.ortiz@ as their ines.ortiz@client.com)"]
    assert roster_suggestions(CFG, "Alex Chen", "alex.chen.dev@gmail.com") == []


def test_unattributed_identities_list_suggestions_and_are_never_merged():
    m = metrics(CFG, **commits([
        ("a1", "2026-09-08 10:00", "Ortiz, Ines <ines.o@gmail.com>", ["x.py"]),
        ("a2", "2026-09-09 10:00", "Ortiz, Ines <ines.o@gmail.com>", ["x.py"]),
        ("a3", "2026-09-09 11:00", "Marco <marco@personal.org>", ["x.py"]),
        ("a4", "2026-09-16 10:00", "Marco Bianchi <marco@acme.com>", ["x.py"]),  # roster, after his "until"
        ("a5", "2026-09-16 11:00", "Alex Chen <alex.chen.dev@gmail.com>", ["x.py"]),
    ]))
    table = unattributed_identities(m.commits, CFG).set_index("email")
    assert table.loc["ines.o@gmail.com", "events"] == 2
    assert table.loc["ines.o@gmail.com", "suggestion"] == (
        "maybe Inés Ortiz (same name as the roster's Inés Ortiz): add ines.o@gmail.com to their emails?")
    assert table.loc["marco@personal.org", "suggestion"].startswith(
        "maybe Marco Bianchi (same email name marco@ as their marco@acme.com)")
    assert table.loc["marco@acme.com", "suggestion"] == (
        "on the roster as Marco Bianchi, but no affiliation covers these dates: extend one?")
    assert table.loc["alex.chen.dev@gmail.com", "suggestion"].startswith("no roster entry looks like this identity")
    # suggestions only: the commits stay unattributed until the roster is edited
    assert set(m.commits.loc[m.commits["sha"].isin(["a1", "a2", "a3", "a4", "a5"]), "side"]) == {"unattributed"}
