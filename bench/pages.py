"""Page first renders (issue 11 item 4: "every page's first render ≤ 1 s once metrics are cached and ≤ 3 s cold").

    python bench/pages.py --config engagement.toml [--db URL] [--pages overview,ladder] [--profile cached|cold|both]

Everything runs in ONE process, as on a running server: first the server start-up is timed (importing
streamlit, pandas, plotly and every module app.py and pages/ import, found by reading their source, lazy imports
included; then one run of app.py without an engagement file, which starts the script-runner machinery). Then,
for every page of app.py's navigation (pages/_shared/nav.py), each render through Streamlit's AppTest opening
the page's URL directly (as a browser opening /ladder does: the first run goes to that page, not via Overview):

- cold: an empty metrics disk cache ($BATON_CACHE_DIR = a fresh temporary folder; engagement/cachedir.py,
  metrics/cache.py) and Streamlit's caches cleared (st.cache_data, st.cache_resource: the DB engine too);
- cached: the disk cache as the cold render left it, Streamlit's caches cleared again (a fresh server reusing
  the disk cache, SPEC issue 11's "once metrics are cached");
- warm: a second visitor in the same process (nothing cleared).

Every time is AppTest.from_file + run() wall time (the script run and AppTest turning its output into elements;
a browser's own drawing is not included). The OS page cache of the DB file is warm after the first page. A run
that raised shows its exception in the table (at.exception). With --profile, a page whose cached (or cold) render
is over its target is rendered that way once more under cProfile (in the script thread); the top costs are printed.

The engagement file and the DB reach app.py through BATON_CONFIG / BATON_DB_URL (pages/_shared/data.py
resolve_config_path, resolve_db_url), as in tests/conftest.py's `app` fixture.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import cProfile
import importlib
import io
import logging
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder is first on the path, and this file (a module named `pages`) would win over the
# project's pages/ (a namespace package, which yields to any module of that name anywhere on the path).
sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
APP = ROOT / "app.py"
CACHED_TARGET_S = 1.0  # issue 11: first render once metrics are cached
COLD_TARGET_S = 3.0  # issue 11: first render cold
TARGETS = {"cold": COLD_TARGET_S, "cached": CACHED_TARGET_S}
TIMEOUT_S = 600  # AppTest's default (3 s) would abort a cold render at scale


@dataclass
class PageTiming:
    page: str
    cold_s: float
    cached_s: float
    warm_s: float | None = None
    problems: list[str] = field(default_factory=list)  # "cold: ValueError: ..." per run that raised

    @property
    def meets_targets(self) -> bool:
        return not self.problems and self.cold_s <= COLD_TARGET_S and self.cached_s <= CACHED_TARGET_S


@dataclass
class PagesResult:
    startup_s: float  # imports + one run of app.py without an engagement file
    pages: list[PageTiming]
    profiles: dict[str, str] = field(default_factory=dict)  # page -> printed profile


def app_modules() -> list[str]:
    """Every project-or-library module app.py, pages/ and pages/_shared/ import, function-level imports included."""
    names: set[str] = {"streamlit", "streamlit.testing.v1", "pandas", "plotly.graph_objects", "plotly.express"}
    for path in [APP, *sorted((ROOT / "pages").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module != "__future__":
                names.add(node.module)
    return sorted(names)


def page_paths() -> list[str]:
    """url paths of app.py's visible pages, in navigation order (each is pages/<url path>.py)."""
    tree = ast.parse((ROOT / "pages" / "_shared" / "nav.py").read_text())
    paths = []
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "Page":
            kw = {k.arg: k.value for k in call.keywords}
            if isinstance(kw.get("visibility"), ast.Constant) and kw["visibility"].value == "hidden":
                continue
            url = kw.get("url_path")
            if isinstance(url, ast.Constant):
                paths.append(url.value)
    return paths


@contextlib.contextmanager
def engagement_env(config: Path | None, db_url: str | None, cache_dir: Path | None):
    """BATON_CONFIG / BATON_DB_URL / BATON_CACHE_DIR for the renders inside, restored afterwards."""
    values = {"BATON_CONFIG": str(config) if config else None, "BATON_DB_URL": db_url,
              "BATON_CACHE_DIR": str(cache_dir) if cache_dir else None}
    saved = {k: os.environ.get(k) for k in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def quiet_streamlit_logs() -> None:
    """Outside a server, cache decorators and clears warn ("No runtime found", "missing ScriptRunContext"); AppTest
    runs set Streamlit's log levels again, so they are lowered before each clear, to keep the table readable."""
    from streamlit import config
    from streamlit import logger as streamlit_logger

    streamlit_logger.set_log_level("error")  # loggers made later (lazy imports) start at this level
    for name in [n for n in logging.root.manager.loggerDict if n.startswith("streamlit")]:
        logging.getLogger(name).setLevel(logging.ERROR)
    # A page's exception is reported in the table (message and the page's own frame), not as a full traceback.
    logging.getLogger("streamlit.error_util").setLevel(logging.CRITICAL)
    config.set_option("logger.enableRich", False)


def clear_streamlit_caches() -> None:
    import streamlit as st

    quiet_streamlit_logs()
    st.cache_data.clear()
    st.cache_resource.clear()


# A server scans the installed packages for custom components once, at start-up; each AppTest scans them again on
# its first run (~0.5-1.5 s here: every package's metadata parsed). Reusing the first AppTest's registry keeps
# that scan in the start-up, where a server pays it.
_components: dict[str, object] = {}


def render(page: str | None) -> tuple[float, list[str]]:
    """(wall seconds, exceptions) of one visit: AppTest opening pages/<page>.py directly (None: the app's root)."""
    from streamlit.testing.v1 import AppTest

    started = time.perf_counter()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    if "registry" in _components and hasattr(at, "_bidi_component_manager"):
        at._bidi_component_manager = _components["registry"]
    if page:
        # Before the first run AppTest hashes the file name, which is the page's url_path here (nav.py): the run
        # requests that page, as a browser opening /<page> does.
        at.switch_page(f"pages/{page}.py")
    at.run()
    seconds = time.perf_counter() - started
    if getattr(at, "_bidi_component_manager", None) is not None:
        _components.setdefault("registry", at._bidi_component_manager)
    return seconds, [exception_text(e) for e in at.exception]


def exception_text(element) -> str:
    """An exception a run showed: its message and the innermost frame of the project's own code."""
    message = (str(element.value).splitlines() or ["(no message)"])[0]
    frames = [line.strip().splitlines()[0] for line in element.stack_trace
              if str(ROOT) in line and "/.venv/" not in line]
    return f"{message} ({frames[-1].replace(str(ROOT) + '/', '')})" if frames else message


@contextlib.contextmanager
def profiled_script_thread(profile: cProfile.Profile):
    """Profile the script thread AppTest starts (cProfile sees only the thread that enables it)."""
    from streamlit.testing.v1.local_script_runner import LocalScriptRunner

    original = LocalScriptRunner._run_script_thread

    def run_profiled(self) -> None:
        profile.enable()
        try:
            original(self)
        finally:
            profile.disable()

    LocalScriptRunner._run_script_thread = run_profiled
    try:
        yield
    finally:
        LocalScriptRunner._run_script_thread = original


def profile_text(profile: cProfile.Profile, top: int) -> str:
    """Top functions by cumulative time, then by own time (the project's code and the libraries)."""
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def start_server() -> float:
    """Import what a running server has imported, and run app.py once without an engagement (no DB, no metrics)."""
    started = time.perf_counter()
    for name in app_modules():
        importlib.import_module(name)
        quiet_streamlit_logs()  # again after each: parsing Streamlit's config (on some imports) resets the levels
    with engagement_env(None, None, None):
        _, problems = render(None)
    if problems:
        raise SystemExit(f"app.py without an engagement file raised: {problems}")
    return time.perf_counter() - started


def say(text: str) -> None:
    print(text, flush=True)


def measure(config: Path, db_url: str | None, pages: list[str] | None = None, warm: bool = True,
            profile: tuple[str, ...] = (), profile_top: int = 25, say=say) -> PagesResult:
    """Start-up, then cold / cached (/ warm) first renders of every page; prints the table as it goes."""
    with contextlib.chdir(ROOT):  # as `streamlit run app.py` from the project (.streamlit/ is read from the cwd)
        return _measure(config.resolve(), db_url, pages, warm, profile, profile_top, say)


def _measure(config: Path, db_url: str | None, pages: list[str] | None, warm: bool, profile: tuple[str, ...],
             profile_top: int, say) -> PagesResult:
    startup = start_server()
    say(f"server start-up (imports of streamlit, pandas, plotly and the app; one run without an engagement): "
        f"{startup:.2f} s")
    result = PagesResult(startup, [])
    work = Path(tempfile.mkdtemp(prefix="baton-pagebench-"))
    try:
        say(f"{'page':<12} {'cold s':>8} {'cached s':>9} {'warm s':>7}  targets: cold <= {COLD_TARGET_S:g} s, "
            f"cached <= {CACHED_TARGET_S:g} s")
        for page in pages or page_paths():
            cache = work / page
            with engagement_env(config, db_url, cache):
                clear_streamlit_caches()
                cold, cold_problems = render(page)
                clear_streamlit_caches()
                cached, cached_problems = render(page)
                warm_s, warm_problems = render(page) if warm else (None, [])
            timing = PageTiming(page, cold, cached, warm_s,
                                [f"{kind}: {p}" for kind, ps in (("cold", cold_problems), ("cached", cached_problems),
                                                                 ("warm", warm_problems)) for p in ps])
            result.pages.append(timing)
            flags = ("" if timing.cold_s <= COLD_TARGET_S else " cold>target") + \
                    ("" if timing.cached_s <= CACHED_TARGET_S else " cached>target")
            warm_text = f"{warm_s:7.2f}" if warm_s is not None else f"{'-':>7}"
            say(f"{page:<12} {cold:8.2f} {cached:9.2f} {warm_text}{flags}"
                + (f"  EXCEPTION {'; '.join(timing.problems)}" if timing.problems else ""))
        colds = [t.cold_s for t in result.pages]
        cacheds = [t.cached_s for t in result.pages]
        say(f"{'median':<12} {statistics.median(colds):8.2f} {statistics.median(cacheds):9.2f}")
        say(f"{'max':<12} {max(colds):8.2f} {max(cacheds):9.2f}   "
            f"{sum(t.meets_targets for t in result.pages)}/{len(result.pages)} pages meet both targets")
        for timing in result.pages:
            for kind in profile:
                if (timing.cached_s if kind == "cached" else timing.cold_s) <= TARGETS[kind]:
                    continue
                folder = work / f"{timing.page}-profile" if kind == "cold" else work / timing.page
                with engagement_env(config, db_url, folder):
                    clear_streamlit_caches()
                    prof = cProfile.Profile()
                    with profiled_script_thread(prof):
                        seconds, _ = render(timing.page)
                text = profile_text(prof, profile_top)
                result.profiles[f"{timing.page} {kind}"] = text
                say(f"\n--- profile of {timing.page}, {kind} render under cProfile: {seconds:.2f} s ---\n{text}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


PROFILE_KINDS = {None: (), "cached": ("cached",), "cold": ("cold",), "both": ("cold", "cached")}


def measure_in_fresh_process(config: Path, db_url: str | None, **options) -> PagesResult:
    """measure() in a new interpreter (spawned, nothing imported yet), so the start-up is a server's start-up."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(measure, config, db_url, **options).result()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True, help="the engagement file (TOML)")
    parser.add_argument("--db", help="database URL (default: $BATON_DB_URL, else baton.db beside the config)")
    parser.add_argument("--pages", help="comma-separated url paths (default: every page of the navigation)")
    parser.add_argument("--no-warm", action="store_true", help="skip the second render in the same process")
    parser.add_argument("--profile", choices=["cached", "cold", "both"],
                        help="cProfile the cached (and/or cold) render of every page over its target")
    parser.add_argument("--profile-top", type=int, default=25)
    args = parser.parse_args()
    print(f"load {os.getloadavg()}, {os.cpu_count()} cores", flush=True)
    pages = args.pages.split(",") if args.pages else None
    result = measure(args.config, args.db or os.environ.get("BATON_DB_URL"), pages, warm=not args.no_warm,
                     profile=PROFILE_KINDS[args.profile], profile_top=args.profile_top)
    print(f"load at the end {os.getloadavg()}", flush=True)
    return 1 if any(t.problems for t in result.pages) else 0


if __name__ == "__main__":
    sys.exit(main())
