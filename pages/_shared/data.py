"""Where the dashboard's data comes from: the engagement file, the DB, and the caches in front of them.

`bootstrap()` (called by app.py on every rerun) resolves the engagement file and the DB URL, shows an error
page and stops when either cannot be used, draws the sidebar (repository filter) and stores a `Context` the
pages read with `context()`. KPIs are computed by metrics/ once per collection run: `load_metrics` is cached
by the newest collection run (and its status), the engagement file's modification time, the filter and the
purges done (db.privacy: the roster as the stored data needs it).

Before the login gate nothing about the DB or the engagement file is shown when login ([auth]) is configured:
a problem with either shows "the dashboard is not configured; see the server log", and the details (passwords
and tokens redacted) go to the server log. In local single-user mode the page shows them, redacted. After the
gate, every page shows a red banner when the ledger's hash chain fails verification (metrics.integrity).
"""

from __future__ import annotations

import logging
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from sqlalchemy.engine import Engine

from db import engine as db_engine
from db import ledger, privacy, queries
from engagement.config import ConfigError, EngagementConfig, register_secrets
from engagement.redact import redact
from metrics import service
from metrics.engagement import EngagementMetrics
from metrics.engagement_file import load_engagement as read_engagement_file
from pages._shared.nav import app_pages

CONFIG_ENV = "BATON_CONFIG"
NOT_CONFIGURED = "The dashboard is not configured; see the server log."
log = logging.getLogger("baton.pages")
DB_URL_ENV = db_engine.DB_URL_ENV  # BATON_DB_URL
_CONTEXT_KEY = "_baton_context"
REPO_FILTER_KEY = "repos"


def _secret(name: str) -> str | None:
    """A value from .streamlit/secrets.toml, None when there is no secrets file or no such key."""
    try:
        value = st.secrets.get(name)
    except Exception:  # noqa: BLE001 - no secrets file at all raises; absence is normal
        return None
    return str(value) if value else None


def resolve_config_path() -> str | None:
    """The engagement file: $BATON_CONFIG, else `config` in Streamlit secrets; absolute; None when unset."""
    raw = os.environ.get(CONFIG_ENV) or _secret("config")
    return str(Path(raw).expanduser().resolve()) if raw else None


def resolve_db_url(config_path: str) -> str:
    """The DB: $BATON_DB_URL, else `db_url` in Streamlit secrets, else baton.db beside the engagement file."""
    return os.environ.get(DB_URL_ENV) or _secret("db_url") or db_engine.resolve_db_url(None, Path(config_path))


def _fence(text: str) -> str:
    """Text shown verbatim inside a markdown code fence (no markdown, no HTML)."""
    return "```text\n" + text.replace("```", "'''") + "\n```"


@st.cache_resource(show_spinner=False)
def engine_for(db_url: str) -> Engine:
    """One engine per DB URL for the whole server; opening it runs the migrations."""
    return db_engine.make_engine(db_url)


@st.cache_data(show_spinner=False, max_entries=16)
def load_engagement(config_path: str, stamp: tuple[int, int]) -> EngagementConfig:
    """The validated engagement file; `stamp` (mtime, size) makes an edited file load again."""
    return read_engagement_file(config_path)


def file_stamp(path: str) -> tuple[int, int]:
    try:
        st_ = os.stat(path)
    except OSError:
        return (0, 0)
    return (st_.st_mtime_ns, st_.st_size)


# A resource, not data: every visitor shares the one computed object, so its `facts` (the attributed frames the
# evidence, ladder cells and readiness tables read, built on first use) are built once per server and data
# version. st.cache_data returned a pickled copy per visit, and the copy's facts were rebuilt from the database on
# every page (bench/pages.py: 5-11 s per visit on ipython). Pages never write into it (pandas copy-on-write
# keeps derived frames apart; nothing assigns into m's frames).
@st.cache_resource(show_spinner="Computing the KPIs…", max_entries=32, ttl="1h")
def load_metrics(config_path: str, db_url: str, run_id: int, repos: tuple[str, ...],
                 run_state: str = "", config_stamp: tuple[int, int] = (0, 0),
                 accepted: tuple[str, ...] = (), purges: int = 0) -> EngagementMetrics:
    """Every KPI for the engagement, computed once per collection run, engagement-file version and filter.

    run_id/run_state/config_stamp/purges are cache keys only; the ttl lets "the current week" move on.
    `accepted` (milestones accepted by two keys) feeds the ladder's stage 4 and keys the cache too. Computed on
    the roster the stored data needs (db.privacy.effective_config, inside metrics.service)."""
    cfg = load_engagement(config_path, config_stamp)
    return service.engagement_metrics(cfg, engine_for(db_url), list(repos) or None, accepted=accepted)


@st.cache_data(show_spinner=False, max_entries=16)
def source_names(db_url: str, run_id: int) -> list[str]:
    sources = queries.load_sources(engine_for(db_url))
    return sorted(sources["name"].unique().tolist())


@dataclass(frozen=True)
class Context:
    config_path: str
    db_url: str
    cfg: EngagementConfig
    engine: Engine
    run_id: int
    run_state: str
    repos: tuple[str, ...]
    config_stamp: tuple[int, int]

    def metrics(self) -> EngagementMetrics:
        """Every KPI through metrics.service (the same computation as the CLI and the pack), with the milestones
        accepted so far."""
        accepted = service.accepted_milestones(self.cfg, self.engine)
        return load_metrics(self.config_path, self.db_url, self.run_id, self.repos, self.run_state,
                            self.config_stamp, tuple(sorted(accepted)), privacy.privacy_version(self.engine))

    def witness(self) -> ledger.Witness:
        return ledger.witness_for(Path(self.config_path), self.engine)

    @property
    def db_label(self) -> str:
        return db_engine.redact_url(self.db_url)

    def collect_command(self) -> str:
        """The exact shell command that fills this dashboard's DB."""
        cmd = ["python", "-m", "collectors", "collect", "--config", self.config_path]
        beside_config = f"sqlite:///{Path(self.config_path).parent / 'baton.db'}"
        if self.db_url != beside_config:  # not the collector's own default: name the DB explicitly
            cmd += ["--db", self.db_label]
        return shlex.join(cmd)


def _login_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all raises: no login configured
        return False


def _not_configured(detail: str) -> None:
    """Stop with the one line anonymous visitors may see; the details go to the server log only."""
    log.error("the dashboard cannot start: %s", redact(detail))
    st.title("Baton")
    st.error(NOT_CONFIGURED)
    st.stop()


def _missing_config_page() -> None:
    if _login_configured():
        _not_configured(f"no engagement file: set {CONFIG_ENV} or the `config` secret")
    st.title("Baton")
    st.error("No engagement file: tell Baton which engagement to show.")
    st.markdown(f"Pass the path of the engagement TOML file (SPEC §2) in the `{CONFIG_ENV}` environment variable:")
    st.code(f"{CONFIG_ENV}=path/to/engagement.toml streamlit run app.py", language="bash")
    st.markdown("or as `config` in `.streamlit/secrets.toml` (the DB URL may go beside it as `db_url`, "
                f"or in `{DB_URL_ENV}`; by default it is `baton.db` beside the engagement file):")
    st.code('config = "path/to/engagement.toml"\n# db_url = "postgresql+psycopg://user@host/baton"', language="toml")
    st.markdown("To try Baton on the demo engagement:")
    st.code("python -m collectors demo --out demo\n"
            "python -m collectors collect --config demo/engagement.toml\n"
            f"{CONFIG_ENV}=demo/engagement.toml streamlit run app.py", language="bash")


def _sidebar(ctx: Context) -> tuple[str, ...]:
    names = source_names(ctx.db_url, ctx.run_id)
    with st.sidebar:
        st.caption(f"**{ctx.cfg.engagement.name}**  \nstarts {ctx.cfg.engagement.start:%b %-d, %Y}, "
                   f"{ctx.cfg.engagement.weeks} weeks, {ctx.cfg.engagement.timezone}")
        if len(names) > 1:
            chosen = st.multiselect("Repositories", names, key=REPO_FILTER_KEY, placeholder="All repositories",
                                    help="Compute every KPI from these repositories only (empty: all).")
            return tuple(sorted(n for n in chosen if n in names))
    return ()


def bootstrap() -> Context:
    """Resolve the engagement file and DB; on a problem show it and stop the run. Stores the page context."""
    config_path = resolve_config_path()
    if config_path is None:
        _missing_config_page()
        st.stop()
    stamp = file_stamp(config_path)
    try:
        cfg = load_engagement(config_path, stamp)
    except ConfigError as exc:
        if _login_configured():
            _not_configured(f"the engagement file {config_path} cannot be used: " + "; ".join(exc.problems))
        st.title("Baton")
        st.error(f"The engagement file cannot be used ({len(exc.problems)} problem(s)); fix it and reload:\n\n"
                 + _fence("\n".join(exc.problems)))
        st.caption(f"Engagement file: {config_path} (from {CONFIG_ENV} or the `config` secret)")
        st.stop()
    register_secrets(cfg)
    db_url = resolve_db_url(config_path)
    try:
        engine = engine_for(db_url)
        run_id, run_state = queries.data_version(engine)
    except Exception as exc:  # noqa: BLE001 - any DB failure becomes an error page, never a traceback
        detail = str(exc).splitlines()[0] if str(exc) else ""
        detail = redact(detail, (_password(db_url),))
        if _login_configured():
            _not_configured(f"cannot open the database {db_engine.redact_url(db_url)}: {detail}")
        st.title("Baton")
        st.error(f"Cannot open the database {db_engine.redact_url(db_url)}:\n\n"
                 + _fence(f"{type(exc).__name__}: {detail}"))
        st.stop()
    ctx = Context(config_path, db_url, cfg, engine, run_id, run_state, (), stamp)
    from pages._shared.access import gate

    gate(engine)  # states local single-user mode, or stops anyone not logged in / without a role
    _integrity_banner(ctx)
    repos = _sidebar(ctx)
    ctx = Context(config_path, db_url, cfg, engine, run_id, run_state, repos, stamp)
    st.session_state[_CONTEXT_KEY] = ctx
    return ctx


def ledger_problems(db_url: str, config_path: str, head: tuple[int, str]) -> list[str]:
    """The ledger chain check, on every run of every page: not cached, since an edit in place changes no
    cache key a cheap query could read (the ledger is small: hundreds of rows)."""
    from metrics.integrity import chain_report

    engine = engine_for(db_url)
    return chain_report(engine, ledger.witness_for(Path(config_path), engine))


def _integrity_banner(ctx: Context) -> None:
    problems = ledger_problems(ctx.db_url, ctx.config_path, ledger.head_of(ctx.engine))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        st.error(f"**The audit log failed verification**: {problems[0]}{more}. Signatures, revocations and frozen "
                 "weeks may have been altered in the database; run `python -m metrics verify` for the details.",
                 icon=":material/gpp_bad:")


@st.cache_data(show_spinner=False, ttl=300, max_entries=8)
def _evidence_problems(db_url: str, config_path: str, head: tuple[int, str], run_id: int, run_state: str,
                       config_stamp: tuple[int, int], _m: EngagementMetrics) -> list[str]:
    from metrics.integrity import verify

    engine = engine_for(db_url)
    return verify(engine, _m, ledger.witness_for(Path(config_path), engine)).problems


def evidence_banner(ctx: Context, m: EngagementMetrics) -> None:
    """A red banner when `metrics verify` finds an alteration, evidence included (milestones, review pages)."""
    if ctx.repos:  # signatures cover all repositories: a filtered computation cannot verify them
        return
    problems = _evidence_problems(ctx.db_url, ctx.config_path, ledger.head_of(ctx.engine), ctx.run_id,
                                  ctx.run_state, ctx.config_stamp, m)
    chain = ledger_problems(ctx.db_url, ctx.config_path, ledger.head_of(ctx.engine))
    extra = [p for p in problems if p not in chain]
    if extra:
        more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
        st.error(f"**Acceptance failed verification**: {extra[0]}{more}. Run `python -m metrics verify` for the "
                 "details.", icon=":material/gpp_bad:")


def _password(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).password
    except Exception:  # noqa: BLE001
        return None


def context() -> Context:
    """The context app.py's bootstrap() stored for this very run.

    There is none when Streamlit ran the page without app.py: a server started next to a `pages/` folder
    begins in its legacy pages-folder mode, and a first visit straight to a page URL (e.g. /ladder) runs
    pages/ladder.py alone. Calling st.navigation switches the process to app.py's navigation for good; the
    rerun then goes through app.py to the same page (a page's identity is its url path)."""
    ctx = st.session_state.get(_CONTEXT_KEY)
    if ctx is None:
        st.navigation(app_pages(), position="hidden")
        st.rerun()
    return ctx


def release() -> None:
    """Forget this run's context (app.py calls it after the page ran), so a page never sees a stale one."""
    st.session_state.pop(_CONTEXT_KEY, None)
