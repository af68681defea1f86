"""Who is using the app and what they may do: viewer (reads everything), editor (roster, freezes, collection),
signer (signs milestones).

- With an `[auth]` section in Streamlit secrets, users log in through `st.login` (OIDC) and their roles come
  from the ledger's role grants keyed on their email (granted by an editor on the Sources page, or by
  `python -m metrics role` while the DB has no editor); a logged-in user without a role sees nothing but a
  request to be added. The first run with [auth] records in the DB that login is required: from then on
  only signatures by logged-in users count, whoever opens the DB (db.review_store.login_required).
- Without it the app runs in **local single-user mode**: whoever opens it may do everything, every page says
  so, and names typed in to sign or freeze are stored as unverified.
Each restricted page and action calls `require(role)` itself, at its top: a page reached straight through
its URL checks the role as much as one reached through the navigation. Every button callback re-reads the
role from the DB at the moment it acts (`check_now`): a role withdrawn while the page was open stops working
at the next click.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from db import review_store

ROLES = ("viewer", "editor", "signer")
_ACCESS_KEY = "_baton_access"
LOCAL_MODE_TEXT = ("Local single-user mode: no login is configured (no [auth] in Streamlit secrets). Anyone who "
                   "can open this app can sign and freeze; names typed in are stored as unverified.")


@dataclass(frozen=True)
class Access:
    login: bool  # [auth] is configured
    logged_in: bool
    name: str | None
    email: str | None
    roles: frozenset[str]

    def can(self, role: str) -> bool:
        return role in self.roles

    @property
    def verified(self) -> bool:
        """Names and emails come from the identity provider, not typed in."""
        return self.login and self.logged_in

    @property
    def label(self) -> str:
        if not self.login:
            return "local user (unverified)"
        return f"{self.name or self.email} <{self.email}>" if self.email else str(self.name)


def auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all raises: no login configured
        return False


def parse_roles(raw: str | None) -> frozenset[str]:
    """'editor,signer' -> {viewer, editor, signer}: any role can read."""
    roles = {r.strip().lower() for r in (raw or "").split(",")} & set(ROLES)
    return frozenset(roles | {"viewer"}) if roles else frozenset()


def current_access(engine) -> Access:
    if not auth_configured():
        return Access(False, False, None, None, frozenset(ROLES))
    if not st.user.get("is_logged_in", False):
        return Access(True, False, None, None, frozenset())
    email = str(st.user.get("email") or "").strip().lower() or None
    name = st.user.get("name") or email
    roles = parse_roles(review_store.role_of(engine, email)) if email else frozenset()
    return Access(True, True, name, email, roles)


_LOGIN_RECORDED: set[str] = set()


def _record_login_mode(engine) -> None:
    """[auth] is configured: note in the DB (once per server and DB) that login is required from now on."""
    key = engine.url.render_as_string(hide_password=True)
    if key not in _LOGIN_RECORDED:
        review_store.record_login_mode(engine)
        _LOGIN_RECORDED.add(key)


def gate(engine) -> Access:
    """Called by bootstrap on every run: decide the access, state the mode in the sidebar, and stop the run
    of anyone who may not read (not logged in, or no role)."""
    access = current_access(engine)
    if access.login:
        _record_login_mode(engine)
    st.session_state[_ACCESS_KEY] = access
    with st.sidebar:
        if not access.login:
            st.info(LOCAL_MODE_TEXT, icon=":material/person:")
        elif access.logged_in:
            roles = ", ".join(r for r in ROLES if access.can(r)) or "none"
            st.caption(f"Signed in as {access.label} · roles: {roles}")
            if st.button("Log out", key="_logout"):
                st.logout()
    if access.login and not access.logged_in:
        st.title("Baton")
        st.info("Log in to see this engagement.")
        if st.button("Log in", type="primary", key="_login"):
            st.login()
        st.stop()
    if access.login and not access.can("viewer"):
        st.title("Baton")
        st.error(f"{access.email} has no role in this Baton yet. Ask an editor to add you (Sources page, "
                 "Access).")
        st.stop()
    return access


def access() -> Access:
    """This run's access (set by bootstrap); local mode when none was set."""
    found = st.session_state.get(_ACCESS_KEY)
    if isinstance(found, Access):
        return found
    if auth_configured():  # never grant anything without having checked
        return Access(True, False, None, None, frozenset())
    return Access(False, False, None, None, frozenset(ROLES))


def require(role: str, what: str) -> Access:
    """Stop the page (or the section) unless the user holds `role`; says which role is needed for what."""
    a = access()
    if not a.can(role):
        st.error(f"{what} needs the {role} role; {a.label} has "
                 f"{', '.join(r for r in ROLES if a.can(r)) or 'no role'}.")
        st.stop()
    return a


def allowed(role: str) -> bool:
    return access().can(role)


def check_now(engine, role: str) -> Access | None:
    """For button callbacks: the access as the DB says it is now (not as it was when the page was drawn);
    None unless it holds `role`."""
    fresh = current_access(engine)
    st.session_state[_ACCESS_KEY] = fresh
    return fresh if fresh.can(role) else None
