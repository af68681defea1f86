"""The sources an engagement file configures (SPEC §2 `[sources]`), as driver sources (collectors/driver.py).

Order: git repositories (commits, evaluation tests, week-end commits and binder files, surviving lines at the week
ends from week 0 to the current week), GitHub repositories (PRs, reviews, runs, JUnit), Jira queries, GitHub Issues,
GitLab projects (MRs, approvals, notes, pipelines, jobs), MLflow tracking servers (runs, model registry).
Relative paths (`path`, `replay`, `base_url = "replay:DIR"`) are read beside the engagement file.
`record_dir` gives every REST source a `Recorder` (`collect --record DIR`), one file per source.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from collectors.driver import Source
from collectors.git.blame import week_end_instants
from collectors.git.source import GitRepoSource
from collectors.git.week_ends import WeekEndSettings
from collectors.github.issues_source import GitHubIssuesSource
from collectors.github.source import GitHubSource
from collectors.gitlab.source import GitLabProjectSource
from collectors.http import REPLAY_PREFIX, Recorder, is_replay
from collectors.jira.source import JiraTicketSource
from collectors.mlflow.source import MlflowRunSource
from engagement.config import EngagementConfig

EVALUATION = "evaluation"


def replay_dir(cfg: EngagementConfig, base_url: str, replay: str | None) -> Path | None:
    """The recording a source is served from: `replay = "DIR"` or `base_url = "replay:DIR"`, else None."""
    if replay:
        return cfg.resolve_path(replay)
    if is_replay(base_url):
        return cfg.resolve_path(base_url[len(REPLAY_PREFIX):])
    return None


def configured_sources(cfg: EngagementConfig, *, only: list[str] | None = None, record_dir: Path | None = None,
                       max_wait: float = 900.0, now: dt.datetime | None = None) -> list[Source]:
    """Every source of the engagement file (only those named in `only`, when given)."""
    def wanted(*names: str) -> bool:
        return not only or any(n in only for n in names)

    def recorder(name: str, service: str, base_url: str) -> Recorder | None:
        if record_dir is None:
            return None
        return Recorder(record_dir, name, service=service, base_url="" if is_replay(base_url) else base_url)

    eval_paths = next((c.paths for c in cfg.capabilities if c.key == EVALUATION and c.paths), None)
    sources: list[Source] = []
    for git in cfg.sources.git:
        if wanted(git.display_name):
            sources.append(GitRepoSource(cfg.resolve_path(git.path), git.branch, name=git.display_name,
                                         eval_paths=list(eval_paths) if eval_paths else None,
                                         week_ends=WeekEndSettings.from_config(cfg),
                                         blame_ends=week_end_instants(cfg, now)))
    for gh in cfg.sources.github:
        if wanted(gh.repo):
            sources.append(GitHubSource(None, None, gh.repo, None, gh.junit_workflows, gh.junit_artifacts,
                                        base_url=gh.base_url, token_env=gh.token_env, max_wait=max_wait,
                                        replay=replay_dir(cfg, gh.base_url, gh.replay),
                                        recorder=recorder(f"github-{gh.repo}", "GitHub", gh.base_url)))
    for jira in cfg.sources.jira:
        if wanted(jira.display_name):
            sources.append(JiraTicketSource(jira, severity_field=cfg.drills.severity_field,
                                            replay=replay_dir(cfg, jira.base_url, jira.replay),
                                            recorder=recorder(f"jira-{jira.display_name}", "Jira", jira.base_url)))
    for gh in cfg.sources.github:
        if gh.issues and wanted(gh.repo):
            sources.append(GitHubIssuesSource(gh, replay=replay_dir(cfg, gh.base_url, gh.replay), max_wait=max_wait,
                                              recorder=recorder(f"github-issues-{gh.repo}", "GitHub", gh.base_url)))
    for gl in cfg.sources.gitlab:
        if wanted(gl.display_name, str(gl.project)):
            sources.append(GitLabProjectSource(gl, replay=replay_dir(cfg, gl.base_url, gl.replay), max_wait=max_wait,
                                               recorder=recorder(f"gitlab-{gl.project}", "GitLab", gl.base_url)))
    train_experiments = [e for kind in (cfg.pipeline.data_cut, cfg.pipeline.train, cfg.pipeline.deploy,
                                        cfg.pipeline.rollback) for e in kind.mlflow_experiments]
    for ml in cfg.sources.mlflow:
        if wanted(ml.display_name, ml.tracking_uri):
            sources.append(MlflowRunSource(ml, extra_experiments=train_experiments, max_wait=max_wait,
                                           replay=replay_dir(cfg, ml.tracking_uri, ml.replay),
                                           recorder=recorder(f"mlflow-{ml.display_name}", "MLflow", ml.tracking_uri)))
    return sources
