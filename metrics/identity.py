"""Identity resolution and attribution (SPEC §3), computed once, here, at metric time.

An event's actor is resolved in this order:
1. bot: name, login or email local part matches a `bots` glob (only `*` and `?` are wildcards;
   brackets are literal), or the source says so (GitHub type "Bot", Jira accountType "app");
2. roster: email, GitHub login (also through a GitHub noreply email), Jira account id, GitLab username
   or MLflow user (SPEC §12), case-insensitive, each matched only against its own kind of identity;
   the side is the affiliation in force on the event's local date (`from` inclusive, `until`
   exclusive); no affiliation that day -> unattributed;
3. email domain: exact match against internal / vendor domains;
4. otherwise unattributed.
Resolution runs once per distinct identity; events get their side by vectorised joins.

A frame mixing sources says which kind of login each row's `login` is in a `login_kind` column (`github`, the
default, `gitlab` or `mlflow`): a GitLab username never matches a roster GitHub login of the same spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engagement.config import EngagementConfig
from engagement.weeks import local_dates, week_of

SIDES = ("internal", "vendor", "unattributed", "bot")
IDENTITY_COLUMNS = ("name", "email", "login", "jira_id", "source_bot", "gitlab", "mlflow")
LOGIN_KINDS = ("gitlab", "mlflow")  # `login_kind` values whose login moves to its own identity column
NOREPLY = re.compile(r"^(?:\d+\+)?(?P<login>[^@]+)@users\.noreply\.github\.com$", re.IGNORECASE)
DELETED_LOGINS = {"ghost"}


def glob_regex(patterns: list[str]) -> re.Pattern[str] | None:
    """One case-insensitive regex for globs where only `*` and `?` are wildcards, all else literal."""
    if not patterns:
        return None
    parts = [re.escape(p).replace(r"\*", ".*").replace(r"\?", ".") for p in patterns]
    return re.compile("^(?:" + "|".join(parts) + ")$", re.IGNORECASE | re.DOTALL)


def noreply_login(email: str | None) -> str | None:
    """The GitHub login behind a noreply email (`12345+login@...` or `login@...`), else None."""
    m = NOREPLY.match(email or "")
    return m.group("login") if m else None


@dataclass(frozen=True)
class Resolution:
    person: str | None
    side: str | None  # bot | domain side | None (roster person: side depends on the date)
    rule: str


class IdentityResolver:
    """Resolve one identity (name, email, login, jira id, source bot flag) to a person or a side."""

    def __init__(self, cfg: EngagementConfig):
        self.bots = glob_regex(cfg.classify.bots)
        self.by_email, self.by_login, self.by_jira, self.by_gitlab, self.by_mlflow = {}, {}, {}, {}, {}
        for person in cfg.people:
            for g in getattr(person, "gitlab", ()):
                self.by_gitlab[g.lower()] = person.name
            for m in getattr(person, "mlflow", ()):
                self.by_mlflow[m.lower()] = person.name
            for e in person.emails:
                self.by_email[e.lower()] = person.name
            for g in person.github:
                self.by_login[g.lower()] = person.name
            for j in person.jira:
                self.by_jira[j.lower()] = person.name
        self.internal_domains = {d.lower() for d in cfg.classify.internal_email_domains}
        self.vendor_domains = {d.lower() for d in cfg.classify.vendor_email_domains}

    def _is_bot(self, *names: str | None) -> str | None:
        if self.bots is None:
            return None
        for n in names:
            if n and self.bots.match(n):
                return n
        return None

    def resolve(self, name: str | None, email: str | None, login: str | None, jira_id: str | None,
                source_bot: bool = False, gitlab: str | None = None, mlflow: str | None = None) -> Resolution:
        email = (email or "").strip().lower() or None
        login = (login or "").strip().lower() or None
        jira_id = (jira_id or "").strip().lower() or None
        gitlab = (gitlab or "").strip().lower() or None
        mlflow = (mlflow or "").strip().lower() or None
        local_part = email.rsplit("@", 1)[0] if email and "@" in email else email
        via_noreply = noreply_login(email)
        if source_bot:
            return Resolution(None, "bot", "source marks it a bot")
        hit = self._is_bot(name, login, local_part, via_noreply, gitlab, mlflow)
        if hit:
            return Resolution(None, "bot", f"bot pattern matches {hit!r}")
        if email and email in self.by_email:
            return Resolution(self.by_email[email], None, "roster email")
        if login and login in self.by_login:
            return Resolution(self.by_login[login], None, "roster GitHub login")
        if via_noreply and via_noreply.lower() in self.by_login:
            return Resolution(self.by_login[via_noreply.lower()], None, "roster login via noreply email")
        if jira_id and jira_id in self.by_jira:
            return Resolution(self.by_jira[jira_id], None, "roster Jira account")
        if gitlab and gitlab in self.by_gitlab:
            return Resolution(self.by_gitlab[gitlab], None, "roster GitLab username")
        if mlflow and mlflow in self.by_mlflow:
            return Resolution(self.by_mlflow[mlflow], None, "roster MLflow user")
        if login in DELETED_LOGINS or gitlab in DELETED_LOGINS:
            return Resolution(None, "unattributed", "deleted account")
        domain = email.rsplit("@", 1)[1] if email and "@" in email else None
        if domain in self.internal_domains:
            return Resolution(None, "internal", f"internal email domain {domain}")
        if domain in self.vendor_domains:
            return Resolution(None, "vendor", f"vendor email domain {domain}")
        return Resolution(None, "unattributed", "no rule matches")


def affiliation_table(cfg: EngagementConfig) -> pd.DataFrame:
    """One row per (person, affiliation) with datetime64 bounds; open ends are the far past/future."""
    rows = [
        {"person": p.name, "aff_side": a.side, "org": a.org,
         "aff_from": pd.Timestamp(a.from_) if a.from_ else pd.Timestamp.min,
         "aff_until": pd.Timestamp(a.until) if a.until else pd.Timestamp.max}
        for p in cfg.people for a in p.affiliations
    ]
    cols = ["person", "aff_side", "org", "aff_from", "aff_until"]
    return pd.DataFrame(rows, columns=cols)


def attribute(events: pd.DataFrame, cfg: EngagementConfig, at: str = "at") -> pd.DataFrame:
    """Add `person`, `side`, `org`, `rule`, `local_date` and `week` to events.

    `events` needs a UTC time column `at` and any of the identity columns name, email, login,
    jira_id, source_bot (missing ones count as empty). Row order and index are preserved.
    """
    out = events.copy()
    for col in IDENTITY_COLUMNS:
        if col not in out:
            out[col] = False if col == "source_bot" else None
    if "login_kind" in out:  # GitLab / MLflow logins resolve against their own roster identities
        for kind in LOGIN_KINDS:
            mine = out["login_kind"].eq(kind).to_numpy()
            if mine.any():
                out[kind] = out[kind].astype(object)
                out.loc[mine, kind] = out.loc[mine, "login"]
                out["login"] = out["login"].astype(object)
                out.loc[mine, "login"] = None
    out["source_bot"] = out["source_bot"].fillna(False).astype(bool)
    tz, start = cfg.engagement.timezone, cfg.engagement.start
    out["local_date"] = local_dates(out[at], tz)
    out["week"] = week_of(out["local_date"], start)

    keys = out[list(IDENTITY_COLUMNS)].astype(object).where(out[list(IDENTITY_COLUMNS)].notna(), None)
    unique = keys.drop_duplicates()
    resolver = IdentityResolver(cfg)
    resolved = [resolver.resolve(*row) for row in unique.itertuples(index=False, name=None)]
    unique = unique.assign(person=[r.person for r in resolved], fixed_side=[r.side for r in resolved],
                           rule=[r.rule for r in resolved])
    row_id = "_row"
    merged = keys.assign(**{row_id: np.arange(len(out))}).merge(unique, on=list(IDENTITY_COLUMNS), how="left")
    merged = merged.sort_values(row_id)
    out["person"] = merged["person"].to_numpy()
    out["rule"] = merged["rule"].to_numpy()
    side = np.array(merged["fixed_side"], dtype=object)  # a writable copy

    # Roster people: the affiliation in force on the event's local date decides the side.
    on_roster = pd.notna(out["person"]).to_numpy()
    out["org"] = None
    if on_roster.any():
        dated = pd.DataFrame({row_id: np.flatnonzero(on_roster), "person": out["person"].to_numpy()[on_roster],
                              "local_date": out["local_date"].to_numpy()[on_roster]})
        hits = dated.merge(affiliation_table(cfg), on="person", how="inner")
        hits = hits[(hits["aff_from"] <= hits["local_date"]) & (hits["local_date"] < hits["aff_until"])]
        side[on_roster] = "unattributed"
        side[hits[row_id].to_numpy()] = hits["aff_side"].to_numpy()
        org = np.full(len(out), None, dtype=object)
        org[hits[row_id].to_numpy()] = hits["org"].to_numpy()
        out["org"] = org
        uncovered = on_roster.copy()
        uncovered[hits[row_id].to_numpy()] = False
        if uncovered.any():
            out.loc[out.index[uncovered], "rule"] = "roster person with no affiliation on that date"
    out["side"] = side
    return out


def side_counts(events: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Count events per side within groups: internal, vendor, unattributed, bots, and the internal share
    `value` = internal / (internal + vendor), NaN when no attributed events (bots and unattributed are
    excluded from the denominator and reported beside it)."""
    counts = pd.crosstab([events[c] for c in by], events["side"]) if len(events) else pd.DataFrame()
    counts = counts.reindex(columns=list(SIDES), fill_value=0).rename(columns={"bot": "bots"})
    counts = counts.rename_axis(columns=None).reset_index() if len(counts) else pd.DataFrame(
        columns=[*by, "internal", "vendor", "unattributed", "bots"])
    for col in ("internal", "vendor", "unattributed", "bots"):
        counts[col] = counts[col].astype("int64")
    attributed = counts["internal"] + counts["vendor"]
    counts["value"] = (counts["internal"] / attributed.where(attributed > 0)).astype("float64")
    return counts
