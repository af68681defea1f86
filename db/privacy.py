"""Data rights (SPEC §9): pseudonyms, purge, export, retention, tombstones: plain SQL over the tables.

**Ids and pseudonyms.** A salted HMAC (the salt is one row of `privacy_salt`, made on first use, never
exported) turns a key into `person-` + 16 hex digits:
- a person: key `person:<name, spaces collapsed, case-folded>`; this is the id signatures and frozen weeks
  store (`person_id`) and the pseudonym a purge gives the person, so both keep verifying after a purge;
- an identity: key `<kind>:<value>` with kind email | github | jira | gitlab | mlflow | name (`identity_hash`;
  an MLflow user that is an email is hashed as an email); with
  `pseudonymize = true` the collectors' values are replaced by these from the start (`enforce`), and the
  roster is matched by hashing its identities the same way (`effective_config`).
An email keeps its domain (`person-…@client.com`): the domain says the side (SPEC §3), not who it is; a
GitHub noreply email becomes the noreply email of the pseudonymised login, so it still resolves through it.

**Purge** (`purge`): every name, email, login and Jira account id of the person, in every table, becomes the
person's pseudonym (GitHub numeric account ids become NULL); free text they wrote (commit subjects, PR and
ticket titles, descriptions, comments, checklist items, run titles) becomes "[removed]" (a description keeps
its postmortem URLs: drill_outcome reads them); other free text naming them gets the pseudonym instead of
the name. Their dated sides are kept under the pseudonym (`privacy_pseudonyms`), so every KPI value and count
is unchanged, also once the user deletes the roster entry. Their identities are remembered only as salted
hashes (`privacy_tombstones`): `enforce`, run after every collect, rewrites any that come back. The ledger's
chained rows hold ids only; the purge replaces the personal details of their rows with {"purged": true} and
appends a "purge" row that records that a purge happened and how much it changed, not who.

**Retention** (`[retention] days = N`, `enforce`): the same free texts older than N days become "[removed]".

**Export** (`export_person`): every row that names the person (or their pseudonym), as JSON-ready dicts.

Collectors that write identities should pass rows through `Scrubber.row` (tombstones and pseudonymize at
write time); `enforce` after the run makes the end state right whatever a collector wrote.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from db.models import Base, PrivacySalt, PseudonymousPerson, Source, Tombstone
from engagement.config import Affiliation, EngagementConfig, Person

PSEUDONYM = re.compile(r"^person-[0-9a-f]{16}$")
PSEUDONYM_IN = re.compile(r"person-[0-9a-f]{16}")
NOREPLY = re.compile(r"^(?:\d+\+)?(?P<login>[^@]+)@users\.noreply\.github\.com$", re.IGNORECASE)
NOREPLY_DOMAIN = "users.noreply.github.com"
REMOVED = "[removed]"
POSTMORTEM_URL = re.compile(r"https?://\S*postmortem\S*", re.IGNORECASE)  # as metrics/drills.py reads them

# (table, column, identity kind, condition on the row or None). Kinds: email, github, jira, name, "ref"
# (an assignee's account: a Jira id or a GitHub login, by the source's kind), "people" ("Name <email>" lines).
IDENTITY_COLUMNS: list[tuple[str, str, str, str | None]] = [
    ("commits", "author_name", "name", None), ("commits", "author_email", "email", None),
    ("commits", "committer_name", "name", None), ("commits", "committer_email", "email", None),
    ("commits", "co_authors", "people", None),
    ("git_blame_lines", "author_name", "name", None), ("git_blame_lines", "author_email", "email", None),
    ("tags", "tagger_name", "name", None), ("tags", "tagger_email", "email", None),
    ("github_pull_requests", "author_login", "github", None),
    ("github_reviews", "reviewer_login", "github", None),
    ("github_workflow_runs", "actor_login", "github", None),
    ("github_workflow_runs", "triggering_login", "github", None),
    ("tickets", "reporter_name", "name", None), ("tickets", "reporter_email", "email", None),
    ("tickets", "reporter_login", "github", None), ("tickets", "reporter_jira_id", "jira", None),
    ("tickets", "assignee_name", "name", None), ("tickets", "assignee_email", "email", None),
    ("tickets", "assignee_login", "github", None), ("tickets", "assignee_jira_id", "jira", None),
    ("ticket_events", "actor_name", "name", None), ("ticket_events", "actor_email", "email", None),
    ("ticket_events", "actor_login", "github", None), ("ticket_events", "actor_jira_id", "jira", None),
    ("ticket_events", "from_name", "name", "assignee"), ("ticket_events", "to_name", "name", "assignee"),
    ("ticket_events", "from_id", "ref", "assignee"), ("ticket_events", "to_id", "ref", "assignee"),
    ("checklist_items", "checked_by_name", "name", None), ("checklist_items", "checked_by_login", "github", None),
    ("checklist_items", "checked_by_jira_id", "jira", None),
    # MLflow users: an OS login or, as Databricks writes them, an email ("mlflow" rewrites those as emails)
    ("mlflow_runs", "user_id", "mlflow", None), ("mlflow_runs", "mlflow_user", "mlflow", None),
    ("mlflow_model_versions", "user_id", "mlflow", None), ("mlflow_registry_events", "actor", "mlflow", None),
    ("gitlab_merge_requests", "author_username", "gitlab", None),
    ("gitlab_merge_requests", "author_name", "name", None),
    ("gitlab_merge_requests", "merge_username", "gitlab", None),
    ("gitlab_approvals", "username", "gitlab", None), ("gitlab_approvals", "name", "name", None),
    ("gitlab_notes", "author_username", "gitlab", None), ("gitlab_notes", "author_name", "name", None),
    ("gitlab_pipelines", "user_username", "gitlab", None), ("gitlab_pipelines", "user_name", "name", None),
    ("gitlab_jobs", "user_username", "gitlab", None),
]
# JSON objects holding an identity under a key: (table, column, key, kind).
JSON_IDENTITY_KEYS = [("mlflow_runs", "tags", "mlflow.user", "mlflow")]
# Numeric GitHub account ids and the login column beside them: NULL once the login is a pseudonym.
ACCOUNT_COLUMNS = [("github_pull_requests", "author_id", "author_login"),
                   ("github_reviews", "reviewer_id", "reviewer_login"),
                   ("github_workflow_runs", "actor_id", "actor_login"),
                   ("github_workflow_runs", "triggering_id", "triggering_login"),
                   ("gitlab_merge_requests", "author_id", "author_username"),
                   ("gitlab_pipelines", "user_id", "user_username")]
# Free text written by the row's actor: (table, column, author columns, time column for retention).
AUTHORED_TEXT = [
    ("commits", "subject", ("author_email", "author_name"), "authored_at"),
    ("github_pull_requests", "title", ("author_login",), "created_at"),
    ("github_pull_requests", "head_ref", ("author_login",), "created_at"),
    ("github_workflow_runs", "display_title", ("triggering_login", "actor_login"), "created_at"),
    ("tickets", "title", ("reporter_email", "reporter_login", "reporter_jira_id", "reporter_name"), "created_at"),
    ("tickets", "description", ("reporter_email", "reporter_login", "reporter_jira_id", "reporter_name"),
     "created_at"),
    ("ticket_events", "body", ("actor_email", "actor_login", "actor_jira_id", "actor_name"), "at"),
    ("gitlab_merge_requests", "title", ("author_username", "author_name"), "created_at"),
    ("gitlab_notes", "body", ("author_username", "author_name"), "created_at"),
]
# Other free text that may name someone: the purge replaces their names and identities in it.
MENTION_COLUMNS = [("commits", "subject"), ("commits", "co_authors"), ("github_pull_requests", "title"),
                   ("github_pull_requests", "head_ref"), ("github_pull_requests", "base_ref"),
                   ("github_pull_requests", "labels"), ("github_workflow_runs", "display_title"),
                   ("github_workflow_runs", "head_branch"), ("tickets", "title"), ("tickets", "description"),
                   ("tickets", "labels"), ("ticket_events", "body"), ("ticket_events", "from_name"),
                   ("ticket_events", "to_name"), ("checklist_items", "text"), ("collection_runs", "error"),
                   ("junit_runs", "problems"), ("tags", "tagger_name"), ("mlflow_runs", "run_name"),
                   ("mlflow_runs", "tags"), ("mlflow_runs", "params"), ("mlflow_runs", "source_name"),
                   ("mlflow_model_versions", "tags"), ("mlflow_model_versions", "source"),
                   ("gitlab_merge_requests", "title"), ("gitlab_merge_requests", "source_branch"),
                   ("gitlab_merge_requests", "labels"), ("gitlab_notes", "body"), ("gitlab_pipelines", "ref"),
                   ("gitlab_jobs", "name")]


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --------------------------------------------------------------------------------------------------
# Salt, ids, pseudonyms
# --------------------------------------------------------------------------------------------------

def salt_of(conn: Connection, create: bool = True) -> bytes:
    """The DB's secret salt (made on first use; a concurrent first use keeps the row that won). With
    `create=False`, b"" when the DB has none yet (nothing signed, frozen, purged or pseudonymised)."""
    found = conn.execute(select(PrivacySalt.salt).where(PrivacySalt.id == 1)).scalar()
    if found is None and not create:
        return b""
    if found is None:
        try:
            with conn.begin_nested():
                conn.execute(insert(PrivacySalt).values(id=1, salt=secrets.token_hex(32), created_at=utcnow()))
        except IntegrityError:
            pass
        found = conn.execute(select(PrivacySalt.salt).where(PrivacySalt.id == 1)).scalar_one()
    return bytes.fromhex(found)


def salt(engine: Engine) -> bytes:
    with engine.begin() as conn:
        return salt_of(conn)


def normal_name(name: str) -> str:
    return " ".join(str(name).split()).casefold()


def _digest(key_salt: bytes, key: str) -> str:
    return hmac.new(key_salt, key.encode("utf-8"), hashlib.sha256).hexdigest()


def identity_key(kind: str, value: str) -> str:
    value = str(value).strip()
    return f"{kind}:{normal_name(value) if kind in ('name', 'person') else value.casefold()}"


def identity_hash(key_salt: bytes, kind: str, value: str) -> str:
    """Salted hash of one identity (kind email | github | jira | gitlab | mlflow | name) as tombstones store it."""
    return _digest(key_salt, identity_key(kind, value))


def pseudonym_of_hash(digest: str) -> str:
    return "person-" + digest[:16]


def is_pseudonym(value) -> bool:
    return isinstance(value, str) and bool(PSEUDONYM.match(value.split("@", 1)[0]))


def person_id(key_salt: bytes, label: str | None) -> str | None:
    """The id of a person named `label` (a roster name, a typed-in name, or already a pseudonym)."""
    if label is None or (isinstance(label, float) and label != label) or not str(label).strip():
        return None
    label = str(label)
    return label if PSEUDONYM.match(label) else pseudonym_of_hash(identity_hash(key_salt, "person", label))


def email_id(key_salt: bytes, email: str) -> str:
    """The id of a login email (roles and verified signers are keyed on it)."""
    return pseudonym_of_hash(identity_hash(key_salt, "email", email))


def _domain(email: str) -> str:
    if NOREPLY.match(email):
        return NOREPLY_DOMAIN
    return email.rsplit("@", 1)[1].casefold() if "@" in email else ""


def pseudo_value(kind: str, value: str, pseudonym: str) -> str:
    """`value` (of `kind`) written as `pseudonym`: an email keeps its domain."""
    if kind == "email":
        domain = _domain(value)
        return f"{pseudonym}@{domain}" if domain else pseudonym
    return pseudonym


def identity_pseudonym(key_salt: bytes, kind: str, value: str) -> str:
    """`pseudonymize = true`: the stored form of one identity (a noreply email through its login)."""
    if kind == "email":
        hit = NOREPLY.match(value.strip())
        if hit:
            return f"{pseudonym_of_hash(identity_hash(key_salt, 'github', hit.group('login')))}@{NOREPLY_DOMAIN}"
        return pseudo_value("email", value, pseudonym_of_hash(identity_hash(key_salt, "email", value)))
    return pseudonym_of_hash(identity_hash(key_salt, kind, value))


def _bot_regex(patterns: list[str]) -> re.Pattern[str] | None:
    """The bot globs of [classify] (only * and ? are wildcards), as metrics/identity.py reads them."""
    if not patterns:
        return None
    parts = [re.escape(p).replace(r"\*", ".*").replace(r"\?", ".") for p in patterns]
    return re.compile("^(?:" + "|".join(parts) + ")$", re.IGNORECASE | re.DOTALL)


# --------------------------------------------------------------------------------------------------
# The state: tombstones, pseudonymous people
# --------------------------------------------------------------------------------------------------

@dataclass
class PrivacyState:
    """What the rewrite rules need, read once: the salt, tombstones (hash -> pseudonym), purged pseudonyms."""

    salt: bytes
    tombstones: dict[str, str] = field(default_factory=dict)
    people: dict[str, dict] = field(default_factory=dict)  # pseudonym -> {affiliations, identities}
    pseudonymize: bool = False
    bots: re.Pattern[str] | None = None

    @property
    def purged(self) -> set[str]:
        return set(self.tombstones.values()) | set(self.people)

    def _by_prefix(self, value: str) -> str | None:
        """A per-identity pseudonym (`pseudonymize = true`) whose identity was purged -> the person's."""
        prefix = value.split("@", 1)[0][len("person-"):]
        for digest, person in self.tombstones.items():
            if digest.startswith(prefix):
                return person
        return None

    def _is_bot(self, kind: str, value: str) -> bool:
        if self.bots is None:
            return False
        probe = value.split("@", 1)[0] if kind == "email" else value
        login = NOREPLY.match(value)
        return bool(self.bots.match(probe) or self.bots.match(value) or (login and self.bots.match(login["login"])))

    def rewrite(self, kind: str, value):
        """The stored form of an identity value, or None when it stays as it is."""
        if value is None or not isinstance(value, str) or not value.strip():
            return None
        if kind == "people":
            return self._rewrite_people(value)
        if kind == "mlflow":  # an MLflow user is an OS login or an email
            kind = "email" if "@" in value else "mlflow"
        if is_pseudonym(value):
            person = self._by_prefix(value) if value.split("@", 1)[0] not in self.purged else None
            return pseudo_value(kind, value, person) if person else None
        kinds = ("jira", "github") if kind in ("ref",) else (kind,)
        for k in kinds:
            person = self.tombstones.get(identity_hash(self.salt, k, value))
            if person is None and k == "email" and NOREPLY.match(value.strip()):
                person = self.tombstones.get(identity_hash(self.salt, "github", NOREPLY.match(value.strip())["login"]))
            if person:
                return pseudo_value(k, value, person)
        if self.pseudonymize and not self._is_bot(kinds[0], value):
            return identity_pseudonym(self.salt, kinds[0], value)
        return None

    def _rewrite_people(self, text: str) -> str | None:
        lines, changed = [], False
        for line in text.splitlines():
            hit = re.match(r"^\s*(?P<name>.*?)\s*<(?P<email>[^>]*)>\s*$", line)
            if not hit:
                lines.append(line)
                continue
            name = self.rewrite("name", hit["name"]) or hit["name"]
            email = self.rewrite("email", hit["email"]) or hit["email"]
            changed |= (name, email) != (hit["name"], hit["email"])
            lines.append(f"{name} <{email}>")
        return "\n".join(lines) if changed else None


def state(conn: Connection, cfg: EngagementConfig | None = None) -> PrivacyState:
    """The rules as the DB and the engagement file give them; reading them makes no salt unless pseudonymize
    needs one (a DB nobody signed, froze or purged in stays as the collectors wrote it)."""
    key_salt = salt_of(conn, create=bool(cfg and cfg.engagement.pseudonymize))
    tombstones = dict(conn.execute(select(Tombstone.identity_sha256, Tombstone.pseudonym)).all())
    people = {p: {"affiliations": json.loads(a or "[]")} for p, a in
              conn.execute(select(PseudonymousPerson.pseudonym, PseudonymousPerson.affiliations)).all()}
    return PrivacyState(key_salt, tombstones, people, bool(cfg and cfg.engagement.pseudonymize),
                        _bot_regex(cfg.classify.bots) if cfg else None)


# --------------------------------------------------------------------------------------------------
# Rewriting the tables
# --------------------------------------------------------------------------------------------------

def _source_kinds(conn: Connection) -> dict[int, str]:
    return dict(conn.execute(select(Source.id, Source.kind)).all())


def _rewrite_identities(conn: Connection, st: PrivacyState) -> int:
    """Apply `st.rewrite` to every identity column (by distinct value: identities are few); rows changed."""
    changed = 0
    kinds = _source_kinds(conn)
    for table_name, column, kind, condition in IDENTITY_COLUMNS:
        table = _table(table_name)
        col = table.c[column]
        where = [col.is_not(None)]
        if condition:
            where.append(table.c["kind"] == condition)
        if kind == "ref":
            pairs = conn.execute(select(table.c.source_id, col).where(*where).distinct()).all()
            updates = []
            for source_id, value in pairs:
                k = "github" if kinds.get(source_id) == "github" else "jira"
                person = None
                if is_pseudonym(value):
                    new = st.rewrite(k, value)
                else:
                    person = st.tombstones.get(identity_hash(st.salt, k, value))
                    new = person or (identity_pseudonym(st.salt, k, value) if st.pseudonymize else None)
                if new and new != value:
                    updates.append({"_old": value, "_new": new, "_src": source_id})
            if updates:
                stmt = (update(table).where(col == bindparam("_old"), table.c.source_id == bindparam("_src"),
                                            *where[1:]).values({column: bindparam("_new")}))
                changed += conn.execute(stmt, updates).rowcount or 0
            continue
        values = conn.execute(select(col).where(*where).distinct()).scalars().all()
        updates = [{"_old": v, "_new": new} for v in values if (new := st.rewrite(kind, v)) and new != v]
        if updates:
            stmt = update(table).where(col == bindparam("_old"), *where[1:]).values({column: bindparam("_new")})
            changed += conn.execute(stmt, updates).rowcount or 0
    changed += _rewrite_identity_table(conn, st)
    changed += _rewrite_json_identities(conn, st)
    for table_name, account, login in ACCOUNT_COLUMNS:
        table = _table(table_name)
        cond = table.c[login].in_(sorted(st.purged)) if not st.pseudonymize else table.c[login].like("person-%")
        changed += conn.execute(update(table).where(table.c[account].is_not(None), cond)
                                .values({account: None})).rowcount or 0
    return changed


def _rewrite_json_value(text, key: str, kind: str, st: PrivacyState):
    """A JSON object's text with the identity under `key` rewritten, or None when it stays as it is."""
    try:
        doc = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get(key), str):
        return None
    new = st.rewrite(kind, doc[key])
    if not new or new == doc[key]:
        return None
    return json.dumps({**doc, key: new}, sort_keys=True)


def _rewrite_json_identities(conn: Connection, st: PrivacyState) -> int:
    """Identities inside JSON columns (an MLflow run's `mlflow.user` tag)."""
    changed = 0
    for table_name, column, key, kind in JSON_IDENTITY_KEYS:
        table = _table(table_name)
        col = table.c[column]
        pk = list(table.primary_key.columns)
        for row in conn.execute(select(*pk, col).where(col.like(f'%"{key}"%'))).all():
            new = _rewrite_json_value(row[-1], key, kind, st)
            if new is not None:
                conn.execute(update(table).where(and_(*(c == v for c, v in zip(pk, row[:-1], strict=True))))
                             .values({column: new}))
                changed += 1
    return changed


def _rewrite_identity_table(conn: Connection, st: PrivacyState) -> int:
    """identities (kind, value) is unique: a rewritten row is deleted and its pseudonymous form inserted once."""
    from db.models import Identity
    from db.upsert import upsert

    rows = conn.execute(select(Identity.id, Identity.kind, Identity.value, Identity.display_name)).all()
    gone, add = [], []
    for row in rows:
        value = st.rewrite(row.kind, row.value) if row.kind in ("email", "github", "jira") else None
        name = st.rewrite("name", row.display_name)
        if value or name:
            gone.append(row.id)
            add.append({"kind": row.kind, "value": (value or row.value).lower(),
                        "display_name": name or row.display_name})
    if gone:
        conn.execute(Identity.__table__.delete().where(Identity.id.in_(gone)))
        upsert(conn, Identity.__table__, add, key=["kind", "value"])
    return len(gone)


def _keep_postmortem(text: str | None) -> str:
    urls = POSTMORTEM_URL.findall(text or "")
    return " ".join([REMOVED, *urls])


def _remove_texts(conn: Connection, condition_for) -> int:
    """Set each AUTHORED_TEXT column to "[removed]" where `condition_for(table, authors, time)` holds."""
    changed = 0
    for table_name, column, authors, at in AUTHORED_TEXT:
        table = _table(table_name)
        cond = condition_for(table, authors, at)
        if cond is None:
            continue
        col = table.c[column]
        keep = or_(col.is_(None), col == "", col == REMOVED)
        if column == "description":  # drill_outcome reads postmortem URLs in descriptions: keep those
            rows = conn.execute(select(table.c.source_id, table.c.key, col).where(cond, ~keep)).all()
            for source_id, key, text in rows:
                conn.execute(update(table).where(table.c.source_id == source_id, table.c.key == key)
                             .values({column: _keep_postmortem(text)}))
            changed += len(rows)
        else:
            extra = [table.c["kind"] == "comment"] if table_name == "ticket_events" else []
            changed += conn.execute(update(table).where(cond, ~keep, *extra)
                                    .values({column: REMOVED})).rowcount or 0
    return changed


def _checklists_of_purged(conn: Connection, purged: set[str]) -> int:
    """Checklist items are the ticket description's lines: removed with it."""
    from db.models import ChecklistItem, Ticket

    tickets = select(Ticket.source_id, Ticket.key).where(_authored_by(_table("tickets"), (
        "reporter_email", "reporter_login", "reporter_jira_id", "reporter_name"), purged))
    keys = conn.execute(tickets).all()
    changed = 0
    for source_id, key in keys:
        changed += conn.execute(update(ChecklistItem).where(
            ChecklistItem.source_id == source_id, ChecklistItem.ticket_key == key, ChecklistItem.text != REMOVED)
            .values(text=REMOVED)).rowcount or 0
    return changed


def _authored_by(table: Table, authors: Iterable[str], purged: set[str]):
    conds = []
    for column in authors:
        col = table.c[column]
        conds.append(col.in_(sorted(purged)))
        if "email" in column:
            conds += [col.like(f"{p}@%") for p in sorted(purged)]
    return or_(*conds) if conds else None


def remove_purged_texts(conn: Connection, purged: set[str]) -> int:
    """Free text written by purged people (also when a collect brought it back)."""
    if not purged:
        return 0
    n = _remove_texts(conn, lambda table, authors, _at: _authored_by(table, authors, purged))
    return n + _checklists_of_purged(conn, purged)


def apply_retention(conn: Connection, days: int | None, now: dt.datetime | None = None) -> int:
    """SPEC §9 `[retention] days = N`: free texts older than N days become "[removed]"."""
    if not days:
        return 0
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    n = _remove_texts(conn, lambda table, _authors, at: table.c[at] < cutoff)
    from db.models import ChecklistItem, Ticket

    old = select(Ticket.source_id, Ticket.key).where(Ticket.created_at < cutoff)
    for source_id, key in conn.execute(old).all():
        n += conn.execute(update(ChecklistItem).where(
            ChecklistItem.source_id == source_id, ChecklistItem.ticket_key == key, ChecklistItem.text != REMOVED)
            .values(text=REMOVED)).rowcount or 0
    return n


@dataclass
class EnforceReport:
    identities: int = 0
    texts: int = 0
    retention: int = 0


def enforce(engine: Engine, cfg: EngagementConfig, now: dt.datetime | None = None) -> EnforceReport:
    """After every collect: tombstoned identities back to their pseudonym, their texts removed again,
    `pseudonymize = true` applied to whatever a collector stored, `[retention]` applied."""
    with engine.begin() as conn:
        st = state(conn, cfg)
        report = EnforceReport()
        if st.tombstones or st.pseudonymize:
            report.identities = _rewrite_identities(conn, st)
        report.texts = remove_purged_texts(conn, st.purged)
        report.retention = apply_retention(conn, cfg.retention.days, now)
    return report


class Scrubber:
    """Rewrite rows at write time (for the collectors' identity writes): `scrubber.row("commits", row)`
    returns the row with tombstoned identities as their pseudonym and, with `pseudonymize = true`, every
    identity pseudonymised. Read once per collection (`Scrubber.load(engine, cfg)`)."""

    def __init__(self, st: PrivacyState):
        self.st = st
        self.columns: dict[str, list[tuple[str, str]]] = {}
        for table, column, kind, _cond in IDENTITY_COLUMNS:
            self.columns.setdefault(table, []).append((column, kind))

    @classmethod
    def load(cls, engine: Engine, cfg: EngagementConfig) -> Scrubber:
        with engine.begin() as conn:
            return cls(state(conn, cfg))

    @property
    def active(self) -> bool:
        return bool(self.st.tombstones or self.st.pseudonymize)

    def row(self, table: str, row: dict, source_kind: str = "jira") -> dict:
        if not self.active or (table not in self.columns and table not in {t for t, *_ in JSON_IDENTITY_KEYS}):
            return row
        out = dict(row)
        for column, kind in self.columns.get(table, []):
            if column in out:
                if table == "ticket_events" and column in ("from_id", "to_id", "from_name", "to_name") \
                        and out.get("kind") != "assignee":
                    continue
                new = self.st.rewrite("github" if kind == "ref" and source_kind == "github" else
                                      "jira" if kind == "ref" else kind, out[column])
                if new:
                    out[column] = new
        for table_name, column, key, kind in JSON_IDENTITY_KEYS:
            if table_name == table and column in out:
                new = _rewrite_json_value(out[column], key, kind, self.st)
                if new is not None:
                    out[column] = new
        for table_name, account, login in ACCOUNT_COLUMNS:
            if table_name == table and account in out and is_pseudonym(out.get(login)):
                out[account] = None
        return out


# --------------------------------------------------------------------------------------------------
# Who is meant: a roster person or one identity
# --------------------------------------------------------------------------------------------------

@dataclass
class Subject:
    """The person a purge or an export is about: their pseudonym and every identity to look for."""

    pseudonym: str
    name: str | None
    identities: dict[str, set[str]]  # kind -> values (email, github, jira, name)
    affiliations: list[dict]
    on_roster: bool

    def needles(self) -> list[str]:
        return sorted({v for vs in self.identities.values() for v in vs if len(v) >= 3}, key=len, reverse=True)


def find_subject(conn: Connection, cfg: EngagementConfig, person: str | None = None,
                 identity: str | None = None) -> Subject:
    """The roster person named `person` (or owning `identity`), else the identity alone; ValueError when the
    name matches nobody."""
    key_salt = salt_of(conn)
    target = None
    if person is not None:
        target = next((p for p in cfg.people if normal_name(p.name) == normal_name(person)), None)
        if target is None:
            known = ", ".join(p.name for p in cfg.people) or "none on the roster"
            raise ValueError(f"--person: {person!r} is not on the roster (people: {known}); use --identity "
                             "EMAIL|LOGIN for someone who is not")
    elif identity is not None:
        wanted = identity.strip().casefold()
        target = next((p for p in cfg.people if wanted in {x.casefold() for x in (*p.emails, *p.github, *p.jira,
                                                                                    *p.gitlab, *p.mlflow)}), None)
    if target is not None:
        ids = {"name": {target.name}, "email": set(target.emails), "github": set(target.github),
               "jira": set(target.jira), "gitlab": set(target.gitlab), "mlflow": set(target.mlflow)}
        pseudonym = person_id(key_salt, target.name)
        affiliations = [{"side": a.side, "org": a.org, "from": a.from_.isoformat() if a.from_ else None,
                         "until": a.until.isoformat() if a.until else None} for a in target.affiliations]
        subject = Subject(pseudonym, target.name, ids, affiliations, True)
    else:
        value = identity.strip()
        kind = "email" if "@" in value else "github"
        ids = {"name": set(), "email": set(), "github": set(), "jira": set(), "gitlab": set(), "mlflow": set()}
        ids[kind].add(value)
        if kind == "github":  # a bare id may also be a Jira account id, a GitLab username or an MLflow user
            for other in ("jira", "gitlab", "mlflow"):
                ids[other].add(value)
        subject = Subject(pseudonym_of_hash(identity_hash(key_salt, kind, value)), None, ids, [], False)
    _add_seen_names(conn, subject)
    return subject


def _add_seen_names(conn: Connection, subject: Subject) -> None:
    """Names the sources show beside the subject's identities (a git author name, a Jira display name)."""
    pairs = [("commits", "author_email", "author_name"), ("commits", "committer_email", "committer_name"),
             ("git_blame_lines", "author_email", "author_name"),
             ("tags", "tagger_email", "tagger_name"), ("tickets", "reporter_email", "reporter_name"),
             ("tickets", "reporter_jira_id", "reporter_name"), ("tickets", "reporter_login", "reporter_name"),
             ("tickets", "assignee_email", "assignee_name"), ("tickets", "assignee_jira_id", "assignee_name"),
             ("tickets", "assignee_login", "assignee_name"), ("ticket_events", "actor_email", "actor_name"),
             ("ticket_events", "actor_jira_id", "actor_name"), ("ticket_events", "actor_login", "actor_name"),
             ("checklist_items", "checked_by_jira_id", "checked_by_name"),
             ("checklist_items", "checked_by_login", "checked_by_name"),
             ("gitlab_merge_requests", "author_username", "author_name"),
             ("gitlab_approvals", "username", "name"), ("gitlab_notes", "author_username", "author_name"),
             ("gitlab_pipelines", "user_username", "user_name")]
    values = {v.casefold() for k in ("email", "github", "jira", "gitlab", "mlflow") for v in subject.identities[k]}
    if not values:
        return
    for table_name, id_col, name_col in pairs:
        table = _table(table_name)
        found = conn.execute(select(table.c[name_col]).where(func.lower(table.c[id_col]).in_(sorted(values)))
                             .distinct()).scalars().all()
        subject.identities["name"].update(n for n in found if n and n.strip() and not is_pseudonym(n))
    from db.models import Identity

    found = conn.execute(select(Identity.display_name).where(func.lower(Identity.value).in_(sorted(values)))
                         .distinct()).scalars().all()
    subject.identities["name"].update(n for n in found if n and n.strip() and not is_pseudonym(n))


# --------------------------------------------------------------------------------------------------
# Purge
# --------------------------------------------------------------------------------------------------

@dataclass
class PurgeReport:
    pseudonym: str
    identities: int  # tombstoned
    rows: int  # identity values rewritten
    texts: int  # free texts removed
    mentions: int  # free texts where a name or identity was replaced
    ledger_rows: int  # signatures, freezes, roles whose personal details were removed


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _replace_mentions(conn: Connection, subject: Subject) -> int:
    needles = subject.needles()
    if not needles:
        return 0
    pattern = re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE)
    changed = 0
    for table_name, column in MENTION_COLUMNS:
        table = _table(table_name)
        col = table.c[column]
        pk = list(table.primary_key.columns)
        hits = or_(*(func.lower(col).like(f"%{_escape_like(n.casefold())}%", escape="\\") for n in needles))
        for row in conn.execute(select(*pk, col).where(col.is_not(None), hits)).all():
            new = pattern.sub(subject.pseudonym, row[-1])
            if new != row[-1]:
                conn.execute(update(table).where(and_(*(c == v for c, v in zip(pk, row[:-1], strict=True))))
                             .values({column: new}))
                changed += 1
    return changed


def purge(engine: Engine, cfg: EngagementConfig, person: str | None = None, identity: str | None = None) -> PurgeReport:
    """SPEC §9 purge of a roster person (`person`) or of one identity; see the module docstring. The caller
    appends the audit row (db.ledger; `purge_ledger_details` removes their details from ledger rows)."""
    from db import ledger

    with engine.begin() as conn:
        subject = find_subject(conn, cfg, person, identity)
        key_salt = salt_of(conn)
        now = utcnow()
        hashes = {identity_hash(key_salt, kind, v) for kind, values in subject.identities.items() for v in values}
        if subject.on_roster:
            hashes.add(identity_hash(key_salt, "person", subject.name))
        from db.upsert import upsert

        upsert(conn, Tombstone.__table__, [{"identity_sha256": h, "pseudonym": subject.pseudonym, "created_at": now}
                                           for h in sorted(hashes)], key=["identity_sha256"])
        if subject.on_roster:
            upsert(conn, PseudonymousPerson.__table__, [{
                "pseudonym": subject.pseudonym, "affiliations": ledger.canonical(subject.affiliations),
                "created_at": now}], key=["pseudonym"])
        mentions = _replace_mentions(conn, subject)
        st = state(conn, cfg)
        rows = _rewrite_identities(conn, st)
        texts = remove_purged_texts(conn, {subject.pseudonym})
        details = purge_ledger_details(conn, subject, key_salt)
    return PurgeReport(subject.pseudonym, len(hashes), rows, texts, mentions, details)


def purge_ledger_details(conn: Connection, subject: Subject, key_salt: bytes) -> int:
    """Remove the subject's names, emails and comments from ledger details, and the evidence titles of their
    items from display hints; the chained content (ids, digests) stays as it is."""
    from db import ledger

    ids = {subject.pseudonym} | {email_id(key_salt, e) for e in subject.identities["email"]}
    ids |= {person_id(key_salt, n) for n in subject.identities["name"]}
    changed = 0
    for entry in ledger.entries(conn):
        c = entry.content
        mine = {c.get("signer"), c.get("frozen_by"), c.get("email_id"), c.get("granted_by")} & ids
        new_details = {"purged": True} if mine and entry.details and not entry.purged else None
        hints = dict(entry.hints)
        titles = dict(hints.get("titles", {}))
        for row in _evidence_rows(c):
            if row.get("person") in ids:  # titles are keyed as metrics.acceptance.row_key keys evidence rows
                titles.pop(f"{row.get('kind')}:{row['id']}" if "id" in row else str(row.get("item")), None)
        new_hints = {**hints, "titles": titles} if titles != hints.get("titles", {}) else None
        if new_details is not None or new_hints is not None:
            ledger.set_details(conn, entry.seq, new_details, new_hints)
            changed += 1
    return changed


def _evidence_rows(content: dict) -> list[dict]:
    evidence = content.get("evidence") or {}
    return [r for c in evidence.get("criteria", []) for r in c.get("rows", [])]


# --------------------------------------------------------------------------------------------------
# Export (the right of access)
# --------------------------------------------------------------------------------------------------

def _plain(value):
    if isinstance(value, dt.datetime):
        return value.isoformat() + ("Z" if value.tzinfo is None else "")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def export_person(engine: Engine, cfg: EngagementConfig, person: str | None = None,
                  identity: str | None = None) -> dict:
    """Everything stored about a person: the roster entry, every row naming one of their identities (or
    their pseudonym, after a purge), the ledger rows they signed, froze or were granted. No salt, no URL."""
    from db import ledger

    with engine.begin() as conn:
        subject = find_subject(conn, cfg, person, identity)
        key_salt = salt_of(conn)
        values = {v.casefold() for vs in subject.identities.values() for v in vs}
        values |= {subject.pseudonym}
        st = state(conn, cfg)
        st.pseudonymize = cfg.engagement.pseudonymize
        for kind, vs in subject.identities.items():  # their stored forms under pseudonymize or a purge
            for v in vs:
                new = st.rewrite(kind if kind != "name" else "name", v)
                if new:
                    values.add(new.casefold())
        tables: dict[str, list[dict]] = {}
        by_table: dict[str, list[str]] = {}
        for table_name, column, _kind, _cond in IDENTITY_COLUMNS:
            by_table.setdefault(table_name, []).append(column)
        for table_name, columns in by_table.items():
            table = _table(table_name)
            conds = []
            for column in columns:
                col = table.c[column]
                conds.append(func.lower(col).in_(sorted(values)))
                conds += [func.lower(col).like(f"{_escape_like(subject.pseudonym)}@%", escape="\\")]
            rows = conn.execute(select(table).where(or_(*conds))).mappings().all()
            if rows:
                tables[table_name] = [{k: _plain(v) for k, v in row.items()} for row in rows]
        from db.models import Identity

        ident = conn.execute(select(Identity.kind, Identity.value, Identity.display_name).where(
            or_(func.lower(Identity.value).in_(sorted(values)), func.lower(Identity.display_name).in_(sorted(values)))
        )).mappings().all()
        if ident:
            tables["identities"] = [dict(r) for r in ident]
        ids = {subject.pseudonym} | {email_id(key_salt, e) for e in subject.identities["email"]}
        audit = [{"seq": e.seq, "kind": e.kind, "at": _plain(e.at), "engagement": e.engagement,
                  "content": e.content, "details": e.details}
                 for e in ledger.entries(conn)
                 if {e.content.get("signer"), e.content.get("frozen_by"), e.content.get("email_id")} & ids]
    roster = next((p for p in cfg.people if subject.name and normal_name(p.name) == normal_name(subject.name)), None)
    return {"subject": {"name": subject.name, "pseudonym": subject.pseudonym,
                        "identities": {k: sorted(v) for k, v in subject.identities.items() if v}},
            "roster_entry": roster.model_dump(mode="json", by_alias=True) if roster else None,
            "tables": tables, "ledger": audit,
            "exported_at": _plain(utcnow())}


# --------------------------------------------------------------------------------------------------
# The roster as metrics must read it (purged people, pseudonymised identities)
# --------------------------------------------------------------------------------------------------

def effective_config(cfg: EngagementConfig, engine: Engine) -> EngagementConfig:
    """The engagement file's roster as the stored data needs it (SPEC §9):
    - a purged person's roster entry (matched by name or any identity) is replaced by their pseudonym, with
      their dated sides and the pseudonymous forms of their identities, so their events keep side and week;
    - a purged person without a roster entry any more comes back the same way, from `privacy_pseudonyms`;
    - with `pseudonymize = true`, each roster identity also matches its hashed form.
    Returns `cfg` itself when there is nothing to change."""
    with engine.begin() as conn:
        st = state(conn, cfg)
    if not st.people and not st.tombstones and not cfg.engagement.pseudonymize:
        return cfg
    people: list[Person] = []
    for p in cfg.people:
        hashes = {identity_hash(st.salt, "person", p.name)} | {
            identity_hash(st.salt, kind, v) for kind, vs in (("email", p.emails), ("github", p.github),
                                                              ("jira", p.jira), ("gitlab", p.gitlab),
                                                              ("mlflow", p.mlflow)) for v in vs}
        if hashes & set(st.tombstones) or person_id(st.salt, p.name) in st.people:
            continue
        if cfg.engagement.pseudonymize:
            p = p.model_copy(update={
                "emails": [*p.emails, *(identity_pseudonym(st.salt, "email", e) for e in p.emails)],
                "github": [*p.github, *(identity_pseudonym(st.salt, "github", g) for g in p.github)],
                "jira": [*p.jira, *(identity_pseudonym(st.salt, "jira", j) for j in p.jira)],
                "gitlab": [*p.gitlab, *(identity_pseudonym(st.salt, "gitlab", g) for g in p.gitlab)],
                "mlflow": [*p.mlflow, *(identity_pseudonym(st.salt, "mlflow", u) for u in p.mlflow)]})
        people.append(p)
    domains = _pseudonym_domains(engine, set(st.people))
    for pseudonym, info in sorted(st.people.items()):
        affiliations = [Affiliation.model_validate({k: v for k, v in a.items() if v is not None})
                        for a in info["affiliations"]]
        people.append(Person.model_construct(
            name=pseudonym, emails=[f"{pseudonym}@{d}" for d in sorted(domains.get(pseudonym, ()))],
            github=[pseudonym], jira=[pseudonym], gitlab=[pseudonym], mlflow=[pseudonym], affiliations=affiliations))
    return cfg.model_copy(update={"people": people})


def _pseudonym_domains(engine: Engine, pseudonyms: set[str]) -> dict[str, set[str]]:
    """The email domains each purged person's pseudonymous emails carry in the data."""
    if not pseudonyms:
        return {}
    found: dict[str, set[str]] = {}
    with engine.connect() as conn:
        for table_name, column, kind, _cond in IDENTITY_COLUMNS:
            if kind not in ("email", "mlflow"):
                continue
            col = _table(table_name).c[column]
            values = conn.execute(select(col).where(col.like("person-%@%")).distinct()).scalars().all()
            for value in values:
                local, domain = value.split("@", 1)
                if local in pseudonyms:
                    found.setdefault(local, set()).add(domain)
    return found


def privacy_version(engine: Engine) -> int:
    """Changes whenever a purge does (a cache key for computed metrics)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Tombstone)).scalar_one())
