"""People: the roster's sides over time and the identities no rule attributes (SPEC §3)."""

from __future__ import annotations

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


def unattributed_identities(events: pd.DataFrame, cfg: EngagementConfig) -> pd.DataFrame:
    """Identities whose events are unattributed, by event count, with a suggested roster entry when the
    name matches a roster person or the email's login matches a roster GitHub login. Suggestions only:
    nothing is merged until a manager edits the roster."""
    cols = ["name", "email", "events", "first", "last", "suggestion"]
    un = events[events["side"] == "unattributed"]
    if un.empty:
        return pd.DataFrame(columns=cols)
    grouped = (un.assign(email=un["email"].fillna("").str.lower(), name=un["name"].fillna(""),
                         person=un["person"].fillna(""))
               .groupby(["name", "email", "person"], as_index=False)
               .agg(events=("at", "size"), first=("at", "min"), last=("at", "max")))
    by_name = {p.name.lower(): p.name for p in cfg.people}
    by_login = {g.lower(): p.name for p in cfg.people for g in p.github}

    def suggest(name: str, email: str, person: str) -> str:
        if person:
            return f"on the roster as {person}, but no affiliation covers these dates: extend one?"
        login = (noreply_login(email) or email.split("@")[0]).lower()
        if name.lower() in by_name:
            return f"same name as {by_name[name.lower()]}: add {email} to their emails?"
        if login in by_login:
            return f"same login as {by_login[login]}: add {email} to their emails?"
        return ""

    identities = zip(grouped["name"], grouped["email"], grouped["person"], strict=True)
    grouped["suggestion"] = [suggest(*row) for row in identities]
    return grouped.sort_values(["events", "email"], ascending=[False, True])[cols].reset_index(drop=True)
