"""Scale bench (issue 11): every number as a ratio or a time measured in THIS run, on this machine.

    python bench/scale.py                                  # `make bench`: synthetic 200k-commit engagement
    python bench/scale.py --repo PATH --branch main        # a real history (e.g. a `fetch`ed mirror)
    python bench/scale.py ... --pg postgresql+psycopg://postgres@127.0.0.1:5432/test   # + PostgreSQL ingest

What it does, in order (each step prints one line):
1. The repository: --repo, else a deterministic synthetic history (bench/synth_repo.py, git fast-import;
   kept in --data between runs, since building 200k commits takes minutes).
2. Ingest: plain `git log --numstat` with the collector's exact fields and options (client.log_command)
   against collectors.git.source.collect_git into a fresh SQLite file (and PostgreSQL schema), alternated
   --rounds times; the best of each is compared, so load from other processes hits both alike.
   Also shown: a bare `git log --numstat` (git's default output).
3. Generated activity: --prs pull requests with reviews, --runs Actions runs, --tickets tickets with events,
   written straight into the database (deterministic), not through the collectors' recordings.
4. `python -m collectors collect` once (the normal path, which also counts evaluation tests), then the
   no-change rerun, the fast path (collectors/fastpath.py): median of 5, including Python start-up.
5. `python -m metrics weekly` cold (BATON_METRICS_CACHE=off: reads + compute), with its peak memory, median of 3.
6. The same command with the caches on: once to fill them, then a rerun with nothing changed (median of 3),
   answered by metrics/outputcache.py before the heavy imports; then again with the stored outputs removed, so
   metrics/service.py's disk cache of computed frames (metrics/cache.py, what the pages reuse) answers. The
   outputs must be identical to the cold one.
7. Page first renders (bench/pages.py, in a fresh process: the server start-up, then every page cold and cached
   through AppTest); --no-pages skips them.
8. `python -m metrics pack` of the last complete week (HTML, PDF, CSVs): once with the cache off (cold), then
   median of --pack-runs through the disk cache the weekly runs filled.

`uptime` and the core count are printed first: the machine is shared, so read ratios, not seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
DEFAULT_DATA = Path(tempfile.gettempdir()) / "baton-bench-data"


def say(text: str) -> None:
    print(text, flush=True)


def run_peak(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB of the process, stdout) via wait4's rusage."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            detail = err.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{detail}")
        return wall, usage.ru_maxrss / 1024, out.read().decode(errors="replace")


def git_log_seconds(repo: Path, branch: str, same_fields: bool = True) -> float:
    from collectors.git.client import log_command

    args = log_command(repo, branch) if same_fields else ["git", "-C", str(repo), "log", "--numstat", branch]
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    while proc.stdout.read(1 << 20):
        pass
    if proc.wait() != 0:
        raise SystemExit(f"git log failed in {repo}")
    return time.perf_counter() - started


def ingest_seconds(url: str, repo: Path, branch: str) -> tuple[float, int]:
    """collect_git into a fresh database, timed from the call (engine ready, schema migrated)."""
    from collectors.git.source import collect_git
    from db.engine import make_engine

    engine = make_engine(url)
    started = time.perf_counter()
    result = collect_git(engine, repo, branch, progress=False)
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, result.commits_seen


def fresh_sqlite(folder: Path, name: str) -> str:
    for suffix in ("", "-wal", "-shm"):
        (folder / f"{name}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{folder / name}"


def pg_schema(base: str) -> tuple[str, callable]:
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", drop


def top_authors(repo: Path, branch: str, n: int = 8) -> list[tuple[str, str]]:
    """The n most frequent (name, email) authors; an email or name seen already (shortlog lists one per pair,
    and the roster allows each identity under one person only) is skipped."""
    out = subprocess.run(["git", "-C", str(repo), "shortlog", "-sne", branch], capture_output=True, check=True)
    people, seen = [], set()
    for line in out.stdout.decode(errors="replace").splitlines():
        name, _, email = line.split("\t", 1)[1].rpartition(" <")
        name, email = name.strip(), email.rstrip(">")
        if name.lower() in seen or email.lower() in seen:
            continue
        seen |= {name.lower(), email.lower()}
        people.append((name, email))
        if len(people) == n:
            break
    return people


def engagement_toml(folder: Path, repo: Path, branch: str, start: dt.date, people: list[tuple[str, str]]) -> Path:
    """A plausible engagement over the repository: top authors alternately internal/vendor (by email),
    GitHub logins user0.. for the generated activity, a few capabilities, a pipeline."""
    lines = ["# Generated by bench/scale.py", "[engagement]", 'name = "scale bench"', f"start = {start}",
             "weeks = 26", 'timezone = "Europe/Berlin"', ""]
    for i, (name, email) in enumerate(people):
        side = "internal" if i % 2 else "vendor"
        lines += ["[[people]]", f"name = {name!r}".replace("'", '"'), f'emails = ["{email}"]',
                  f'github = ["user{i}"]', f'affiliations = [{{ side = "{side}", org = "{side}-org" }}]', ""]
    lines += ["[[sources.git]]", f'path = "{repo}"', f'branch = "{branch}"', "",
              "[[capabilities]]", 'key = "evaluation"', 'paths = ["tests/**", "**/tests/**", "eval/**"]', "",
              "[[capabilities]]", 'key = "training"', 'paths = ["train/**", "src/**", "*/core/**"]', "",
              "[[capabilities]]", 'key = "deployment"', 'paths = ["deploy/**", "setup.py", "pyproject.toml"]', "",
              "[[capabilities]]", 'key = "operations"', 'paths = ["docs/**", ".github/**", "ops/**"]', "",
              "[pipeline.train]", 'workflows = [".github/workflows/train.yml"]', "",
              "[pipeline.deploy]", 'workflows = [".github/workflows/deploy.yml"]', ""]
    toml = folder / "engagement.toml"
    toml.write_text("\n".join(lines))
    return toml


def generate_activity(url: str, start: dt.date, logins: list[str], prs: int, runs: int, tickets: int,
                      seed: int = 11) -> None:
    """Deterministic PRs (+ reviews), Actions runs and tickets (+ events), written straight into the DB."""
    from sqlalchemy import insert

    from db.engine import make_engine
    from db.models import CollectionRun, GitHubPullRequest, GitHubReview, GitHubWorkflowRun, Ticket, TicketEvent
    from db.runs import ensure_source, utcnow

    rng = random.Random(seed)
    engine = make_engine(url)
    t0 = dt.datetime.combine(start - dt.timedelta(days=182), dt.time(8))
    span = 365 * 24 * 3600
    with engine.begin() as conn:
        gh = ensure_source(conn, "github", "bench/model", "bench/model")
        jira = ensure_source(conn, "jira", "https://jira.bench/ project = ML", "jira.bench")
        pr_rows, review_rows = [], []
        for n in range(1, prs + 1):
            created = t0 + dt.timedelta(seconds=rng.randrange(span))
            merged = created + dt.timedelta(hours=rng.randrange(1, 96)) if rng.random() < 0.8 else None
            pr_rows.append({"source_id": gh, "number": n, "title": f"Change {n}", "state": "closed" if merged
                            else "open", "html_url": f"https://github.com/bench/model/pull/{n}",
                            "author_login": rng.choice(logins), "author_type": "User", "created_at": created,
                            "updated_at": merged or created, "closed_at": merged, "merged_at": merged,
                            "base_ref": "main", "head_ref": f"topic-{n}", "merge_commit_sha": None, "labels": ""})
            for r in range(rng.randrange(1, 4)):
                review_rows.append({"source_id": gh, "review_id": n * 10 + r, "number": n,
                                    "reviewer_login": rng.choice(logins), "reviewer_type": "User",
                                    "state": rng.choice(["APPROVED", "COMMENTED", "CHANGES_REQUESTED"]),
                                    "submitted_at": created + dt.timedelta(hours=r + 1)})
        run_rows = []
        for n in range(1, runs + 1):
            created = t0 + dt.timedelta(seconds=rng.randrange(span))
            path = rng.choice([".github/workflows/ci.yml"] * 6 + [".github/workflows/train.yml",
                                                                   ".github/workflows/deploy.yml"])
            who = rng.choice(logins)
            run_rows.append({"source_id": gh, "run_id": 10_000_000 + n, "run_attempt": 1, "workflow_path": path,
                             "name": path.rsplit("/", 1)[1], "event": rng.choice(["push", "pull_request",
                                                                                   "workflow_dispatch", "schedule"]),
                             "actor_login": who, "actor_type": "User", "triggering_login": who,
                             "triggering_type": "User", "head_sha": f"{n:040x}", "head_branch": "main",
                             "status": "completed", "conclusion": rng.choice(["success"] * 4 + ["failure"]),
                             "created_at": created, "run_started_at": created,
                             "updated_at": created + dt.timedelta(minutes=rng.randrange(2, 90))})
        ticket_rows, event_rows = [], []
        for n in range(1, tickets + 1):
            created = t0 + dt.timedelta(seconds=rng.randrange(span))
            label = rng.choice(["runbook", "drill", "bug", "feature", "training"])
            done = rng.random() < 0.7
            resolved = created + dt.timedelta(hours=rng.randrange(1, 200)) if done else None
            key = f"ML-{n}"
            ticket_rows.append({"source_id": jira, "key": key, "title": f"runbook: task {n}" if label == "runbook"
                                else f"Ticket {n}", "labels": label, "status_category": "done" if done else "new",
                                "status_name": "Done" if done else "To Do", "created_at": created,
                                "updated_at": resolved or created, "resolved_at": resolved,
                                "assignee_login": rng.choice(logins), "reporter_login": rng.choice(logins),
                                "severity": rng.choice(["sev1", "sev2", "sev3"]) if label == "drill" else None})
            event_rows.append({"source_id": jira, "ticket_key": key, "event_id": f"{n}-1", "kind": "status",
                               "at": created + dt.timedelta(minutes=5), "actor_login": rng.choice(logins),
                               "to_category": "indeterminate", "to_name": "In Progress", "from_category": "new"})
            if resolved:
                event_rows.append({"source_id": jira, "ticket_key": key, "event_id": f"{n}-2", "kind": "status",
                                   "at": resolved, "actor_login": rng.choice(logins), "to_category": "done",
                                   "to_name": "Done", "from_category": "indeterminate"})
        for table, rows in ((GitHubPullRequest, pr_rows), (GitHubReview, review_rows),
                            (GitHubWorkflowRun, run_rows), (Ticket, ticket_rows), (TicketEvent, event_rows)):
            for i in range(0, len(rows), 5000):
                conn.execute(insert(table.__table__), rows[i:i + 5000])
        for source in (gh, jira):  # as a collection would log it (data version moves)
            conn.execute(insert(CollectionRun.__table__).values(
                source_id=source, started_at=utcnow(), finished_at=utcnow(), status="success",
                items_seen=1, items_written=1, items_removed=0))
    engine.dispose()
    say(f"generated activity: {len(pr_rows)} PRs, {len(review_rows)} reviews, {len(run_rows)} Actions runs, "
        f"{len(ticket_rows)} tickets, {len(event_rows)} ticket events (written directly, not via collectors)")


def has_activity(url: str) -> bool:
    from sqlalchemy import text

    from db.engine import make_engine

    with make_engine(url).connect() as conn:
        return bool(conn.execute(text("SELECT COUNT(*) FROM sources WHERE kind = 'github'")).scalar_one())


def median_run(cmd: list[str], times: int, env: dict | None = None) -> tuple[float, float, str]:
    results = [run_peak(cmd, env) for _ in range(times)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results), results[-1][2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, help="a real repository (default: synthesise --commits)")
    parser.add_argument("--branch", default="main")
    parser.add_argument("--commits", type=int, default=200_000)
    parser.add_argument("--prs", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=50_000)
    parser.add_argument("--tickets", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=2, help="alternations of git log and ingest")
    parser.add_argument("--pg", default=os.environ.get("BATON_BENCH_PG_URL"), help="PostgreSQL base URL")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="kept between runs (synthetic repo)")
    parser.add_argument("--weekly-runs", type=int, default=3, help="cold weekly runs (median)")
    parser.add_argument("--reuse-db", action="store_true", help="skip the ingest step when its DB is in --data")
    parser.add_argument("--no-pages", action="store_true", help="skip the page first renders (bench/pages.py)")
    parser.add_argument("--pages-profile", choices=["cached", "cold", "both"],
                        help="cProfile the renders over their target (bench/pages.py --profile)")
    parser.add_argument("--pack-runs", type=int, default=3, help="pack runs through the cache (median; 0 skips)")
    args = parser.parse_args()

    from collectors.git.parallel import available_cores

    say(f"machine: {os.cpu_count()} cores ({available_cores()} usable), load {os.getloadavg()}")
    args.data.mkdir(parents=True, exist_ok=True)
    if args.repo:
        repo = args.repo.resolve()
    else:
        from bench.synth_repo import synthesize

        repo = args.data / f"synth-{args.commits}.git"
        if not (repo / "HEAD").exists():
            started = time.perf_counter()
            # Starts so that the history ends before now: the synthesiser spaces commits ~58 minutes apart, and a
            # tip in the future would (rightly) keep the no-change fast path off.
            begin = dt.datetime(2026, 12, 1, tzinfo=dt.UTC) - dt.timedelta(minutes=61 * args.commits)
            info = synthesize(repo, commits=args.commits, seed=7, start=begin, bare=True)
            say(f"synthesised {info.commits} commits in {time.perf_counter() - started:.0f} s")
    from collectors.git.client import count_commits, resolve_tip

    commits = count_commits(repo, resolve_tip(repo, args.branch))
    say(f"repository: {repo} ({commits} commits on {args.branch})")

    work = args.data / f"run-{repo.name}"
    work.mkdir(parents=True, exist_ok=True)
    if not (args.reuse_db and (work / "ingest.db").exists()):
        measure_ingest(repo, args.branch, commits, work, args.rounds, args.pg)
    else:
        say(f"ingest: reusing {work / 'ingest.db'}")
    followups(repo, args, work)
    say(f"load at the end {os.getloadavg()}")
    return 0


def measure_ingest(repo: Path, branch: str, commits: int, work: Path, rounds: int, pg: str | None) -> None:
    """Plain git log vs the collector, alternated; the best of each is compared."""
    git_log_seconds(repo, branch)  # warm the page cache for both sides
    logs, ingests, pg_ingests = [], [], []
    for _ in range(rounds):
        logs.append(git_log_seconds(repo, branch))
        seconds, seen = ingest_seconds(fresh_sqlite(work, "ingest.db"), repo, branch)
        assert seen == commits, (seen, commits)
        ingests.append(seconds)
        if pg:
            url, drop = pg_schema(pg)
            try:
                pg_ingests.append(ingest_seconds(url, repo, branch)[0])
            finally:
                drop()
    bare = git_log_seconds(repo, branch, same_fields=False)
    git_s, ingest_s = min(logs), min(ingests)
    say(f"plain git log --numstat, collector's fields: {git_s:.2f} s (runs: {', '.join(f'{x:.2f}' for x in logs)}); "
        f"git's default output: {bare:.2f} s")
    say(f"ingest into fresh SQLite: {ingest_s:.2f} s (runs: {', '.join(f'{x:.2f}' for x in ingests)}) -> "
        f"{git_s / ingest_s:.2f}x the throughput of one plain git log ({commits / ingest_s:.0f} commits/s)")
    if pg_ingests:
        say(f"ingest into fresh PostgreSQL: {min(pg_ingests):.2f} s -> {git_s / min(pg_ingests):.2f}x")
    say(f"load now {os.getloadavg()}")


def followups(repo: Path, args: argparse.Namespace, work: Path) -> None:
    """The engagement over the collected DB (the last SQLite ingest), generated activity, rerun, weekly."""
    url = f"sqlite:///{work / 'ingest.db'}"
    tip_date = dt.datetime.fromtimestamp(int(subprocess.run(
        ["git", "-C", str(repo), "log", "-1", "--format=%ct", args.branch], capture_output=True, check=True,
        text=True).stdout), dt.UTC).date()
    start = tip_date - dt.timedelta(days=7 * 26)
    start -= dt.timedelta(days=start.weekday())
    people = top_authors(repo, args.branch)
    toml = engagement_toml(work, repo, args.branch, start, people)
    # As a user's Python runs: bytecode written and reused (a sandbox's PYTHONDONTWRITEBYTECODE=1 would recompile
    # the project on every command, ~1 s each).
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
           "BATON_CACHE_DIR": str(work / "cache")}
    if (args.prs or args.runs or args.tickets) and not has_activity(url):
        generate_activity(url, start, [f"user{i}" for i in range(len(people))], args.prs, args.runs, args.tickets)

    collect = [PYTHON, "-m", "collectors", "collect", "--config", str(toml), "--db", url, "--quiet"]
    first_s, _, _ = run_peak(collect, env)
    say(f"collect (normal path, no new commits; counts evaluation tests the first time): {first_s:.2f} s")
    rerun_s, rerun_mem, out = median_run(collect, 5, env)
    say(f"no-change rerun (fast path, incl. Python start-up), median of 5: {rerun_s:.3f} s "
        f"(target <= 0.3 s), peak {rerun_mem:.0f} MiB")

    weekly = [PYTHON, "-m", "metrics", "weekly", "--config", str(toml), "--db", url, "--format", "csv"]
    cold_env = {**env, "BATON_METRICS_CACHE": "off"}  # metrics/service.py computes every time
    weekly_s, weekly_mem, out = median_run(weekly, args.weekly_runs, cold_env)
    say(f"python -m metrics weekly (cold: columnar reads + compute, cache off), median of {args.weekly_runs}: "
        f"{weekly_s:.2f} s (target <= 2 s), {len(out.splitlines()) - 1} rows, peak {weekly_mem:.0f} MiB "
        "(target <= 2048)")
    fill_s, fill_mem, fill_out = run_peak(weekly, env)
    warm_s, warm_mem, warm_out = median_run(weekly, 3, env)
    assert warm_out == fill_out == out, "the cached weekly differs from the computed one"
    say(f"weekly, first with caches on (compute + store): {fill_s:.2f} s, peak {fill_mem:.0f} MiB")
    say(f"weekly rerun, nothing changed (metrics/outputcache.py answers before heavy imports), median of 3: "
        f"{warm_s:.3f} s (target <= 2 s), peak {warm_mem:.0f} MiB; output identical")
    results = []
    for _ in range(3):
        shutil.rmtree(work / "cache" / "outputs", ignore_errors=True)
        results.append(run_peak(weekly, env))
    assert all(r[2] == out for r in results), "the weekly from the metrics cache differs from the computed one"
    say(f"weekly from metrics/service.py's disk cache only (outputs removed: imports + cached frames + print), "
        f"median of 3: {statistics.median(r[0] for r in results):.2f} s, peak {max(r[1] for r in results):.0f} MiB")
    if not args.no_pages:
        from bench.pages import PROFILE_KINDS, measure_in_fresh_process

        measure_in_fresh_process(toml, url, profile=PROFILE_KINDS[args.pages_profile])
        say(f"load now {os.getloadavg()}")
    if args.pack_runs:
        measure_pack(toml, url, env, last_complete_week(toml, out), args.pack_runs, work)


def last_complete_week(toml: Path, weekly_csv: str) -> int:
    """The week before today's engagement week, or the last week with rows when the engagement is over."""
    import csv
    import io
    import tomllib

    from engagement.weeks import current_week

    engagement = tomllib.loads(toml.read_text())["engagement"]
    weeks = {int(row["week"]) for row in csv.DictReader(io.StringIO(weekly_csv))}
    this_week = current_week(engagement["start"], engagement["timezone"])
    return max((w for w in weeks if w < this_week), default=max(weeks))


def measure_pack(toml: Path, url: str, env: dict, week: int, runs: int, work: Path) -> None:
    """`python -m metrics pack` (HTML, PDF through Chromium, CSVs): cold (cache off) once, then cached."""
    def pack(out: Path, pack_env: dict) -> float:
        shutil.rmtree(out, ignore_errors=True)
        cmd = [PYTHON, "-m", "metrics", "pack", "--config", str(toml), "--db", url, "--week", str(week),
               "--out", str(out)]
        return run_peak(cmd, pack_env)[0]

    cold_s = pack(work / "pack-cold", {**env, "BATON_METRICS_CACHE": "off"})
    cached = [pack(work / f"pack-{i}", env) for i in range(runs)]
    say(f"python -m metrics pack --week {week} (HTML, PDF, CSVs): cold (cache off) {cold_s:.2f} s; through the "
        f"disk cache, median of {runs}: {statistics.median(cached):.2f} s "
        f"(runs: {', '.join(f'{x:.2f}' for x in cached)}; target <= 5 s)")

if __name__ == "__main__":
    sys.exit(main())
