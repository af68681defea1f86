"""People: the roster's sides over time and the identities no rule attributes (SPEC §3)."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from engagement.config import EngagementConfig
from metrics.identity import noreply_login


def roster_table(cfg: EngagementConfig) -> pd.DataFrame:
    """One row per (person, affiliation): side, org, from (inclusive), until (exclusive), identities."""
    rows = []
    for p in cfg.people:
        ids = ", ".join([*p.emails, *(f"@{g}" for g in p.github), *(f"jira:{j}" for j in p.jira)])
        for a in p.affiliations or [None]:
            rows.append({"person": p.name, "side": a.side if a else None, "org": a.org if a else None,
                         "from": a.from_ if a else None, "until": a.until if a else None, "identities": ids})
    return pd.DataFrame(rows, columns=["person", "side", "org", "from", "until", "identities"])


def normalised_name(name: str | None) -> str:
    """A name compared loosely: accents dropped, case folded, punctuation as spaces, word order ignored
    ("Ortiz, Inés" == "ines ortiz")."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(sorted(re.sub(r"[^0-9a-z]+", " ", text).split()))


def roster_suggestions(cfg: EngagementConfig, name: str | None, email: str | None, login: str | None = None
                       ) -> list[str]:
    """Roster people an unattributed identity may belong to, each with its reason (SPEC §3). Suggestions only:
    nothing is merged until a manager edits the roster.

    - the same normalised name as a roster person;
    - a GitHub noreply email (or a login) whose login is a roster person's GitHub login;
    - the same email local part as one of a roster person's emails, at another domain."""
    out: list[str] = []

    def add(person: str, reason: str) -> None:
        text = f"{person} ({reason})"
        if text not in out:
            out.append(text)

    email = (email or "").strip().lower()
    local, _, domain = email.partition("@")
    via = (noreply_login(email) or "").lower()
    login = (login or "").strip().lower()
    key = normalised_name(name)
    for p in cfg.people:
        if key and normalised_name(p.name) == key:
            add(p.name, f"same name as the roster's {p.name}")
        logins = {g.lower() for g in p.github}
        if via and via in logins:
            add(p.name, f"noreply login {via} is their GitHub login")
        if login and login in logins:
            add(p.name, f"login {login} is their GitHub login")
        for known in p.emails:
            k_local, _, k_domain = known.lower().partition("@")
            if local and domain and not via and local == k_local and domain != k_domain:
                add(p.name, f"same email name {local}@ as their {known}")
    return out


def unattributed_identities(events: pd.DataFrame, cfg: EngagementConfig) -> pd.DataFrame:
    """Identities whose events are unattributed, by event count, with suggested roster entries and their reasons
    (`roster_suggestions`), or the roster person whose affiliations do not cover the dates. Never merged."""
    cols = ["name", "email", "events", "first", "last", "suggestion"]
    un = events[events["side"] == "unattributed"]
    if un.empty:
        return pd.DataFrame(columns=cols)
    grouped = (un.assign(email=un["email"].fillna("").str.lower(), name=un["name"].fillna(""),
                         person=un["person"].fillna(""))
               .groupby(["name", "email", "person"], as_index=False)
               .agg(events=("at", "size"), first=("at", "min"), last=("at", "max")))

    def suggest(name: str, email: str, person: str) -> str:
        if person:
            return f"on the roster as {person}, but no affiliation covers these dates: extend one?"
        found = roster_suggestions(cfg, name, email)
        if not found:
            return "no roster entry looks like this identity: add it to a person, or its domain to [classify]"
        return "maybe " + "; or ".join(found) + f": add {email} to their emails?"

    identities = zip(grouped["name"], grouped["email"], grouped["person"], strict=True)
    grouped["suggestion"] = [suggest(*row) for row in identities]
    return grouped.sort_values(["events", "email"], ascending=[False, True])[cols].reset_index(drop=True)
