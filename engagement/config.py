"""The engagement file (SPEC §2): one typed, validated object for all configuration.

`load_config(path)` reads a TOML file and returns an `EngagementConfig`, or raises `ConfigError`
whose lines each name the file, the key path and what was expected, e.g.
`engagement.toml: people[3].affiliations[0].from: expected a date like 2026-09-07, got "next week"`.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from engagement.errors import UserError

DEFAULT_BOTS = ["*[bot]", "dependabot*", "renovate*", "github-actions*"]
DEFAULT_CAPABILITY_KEYS = ["data", "training", "evaluation", "deployment", "operations"]
class ConfigError(UserError):
    """An engagement file that cannot be used; `problems` holds one message per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class CriterionCheck(Protocol):
    """What checks a milestone criterion's metric and filters: the metric registry, which lives in the
    metrics layer (above this one). It is passed in by the caller (`metrics.load_engagement`), so that
    this base layer imports nothing of the project; without it, criteria are checked for shape only."""

    def __call__(self, metric: str, capability: str | None, runbook: str | None, side: str | None,
                 capability_keys: list[str]) -> list[str]: ...


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Engagement(_Strict):
    name: str
    start: dt.date
    weeks: int = Field(8, ge=1, le=520)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'expected an IANA time zone like "Europe/Berlin", got "{value}"') from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Affiliation(_Strict):
    side: Literal["vendor", "internal"]
    org: str | None = None
    from_: dt.date | None = Field(None, alias="from")
    until: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Affiliation:
        if self.from_ and self.until and self.until <= self.from_:
            raise ValueError(f"expected until ({self.until}) after from ({self.from_})")
        return self

    def describe(self) -> str:
        return f"{self.side} from {self.from_ or 'the beginning'} until {self.until or 'open end'}"


class Person(_Strict):
    name: str
    emails: list[str] = []
    github: list[str] = []
    jira: list[str] = []
    gitlab: list[str] = []  # GitLab usernames (SPEC §12)
    mlflow: list[str] = []  # MLflow users: the `mlflow.user` tag or `user_id` (an OS login; emails go in `emails`)
    affiliations: list[Affiliation] = []

    @model_validator(mode="after")
    def _no_overlap(self) -> Person:
        far_past, far_future = dt.date.min, dt.date.max
        spans = sorted(
            ((a.from_ or far_past, a.until or far_future, i) for i, a in enumerate(self.affiliations)),
        )
        for (_s1, e1, i1), (s2, _e2, i2) in zip(spans, spans[1:], strict=False):
            if s2 < e1:
                a, b = sorted((i1, i2))
                raise ValueError(
                    f"affiliations[{a}] ({self.affiliations[a].describe()}) overlaps "
                    f"affiliations[{b}] ({self.affiliations[b].describe()}) of {self.name}"
                )
        return self


class Classify(_Strict):
    internal_email_domains: list[str] = []
    vendor_email_domains: list[str] = []
    bots: list[str] = Field(default_factory=lambda: list(DEFAULT_BOTS))


class GitSource(_Strict):
    path: str
    branch: str = "main"
    name: str | None = None

    @property
    def display_name(self) -> str:
        return self.name or Path(self.path).name.removesuffix(".git")


class GitHubSource(_Strict):
    repo: str
    token_env: str = "GITHUB_TOKEN"
    base_url: str = "https://api.github.com"
    # Collect the repository's GitHub Issues as tickets (runbooks, drills) too; off unless asked.
    issues: bool = False
    # JUnit XML reports for eval_coverage: the workflows (file name `eval.yml`, path
    # `.github/workflows/eval.yml` or display name) whose completed runs publish JUnit XML in artifacts,
    # and which artifacts (name globs) hold them. Off (empty) unless asked.
    junit_workflows: list[str] = Field(default_factory=list)
    junit_artifacts: list[str] = Field(default_factory=lambda: ["*"])
    # A recording directory (`python -m collectors collect --record DIR`) that serves this source instead of
    # base_url, which still names the source and its links (SPEC §8). `base_url = "replay:DIR"` is the same.
    replay: str | None = None


class JiraSource(_Strict):
    base_url: str
    jql: str
    email_env: str | None = None
    token_env: str = "JIRA_TOKEN"
    # Added for tickets: "cloud" pages /rest/api/3/search/jql by nextPageToken; "server" (Server/Data
    # Center) pages /rest/api/2/search by startAt. Without email_env the token is sent as a bearer token.
    api: Literal["cloud", "server"] = "cloud"
    name: str | None = None
    overlap_minutes: int = Field(10, ge=0)  # re-scan window behind the cursor (search is eventually consistent)
    page_size: int = Field(50, ge=1, le=100)
    # A recording directory (`python -m collectors collect --record DIR`) that serves this source instead of
    # base_url, which still names the source and the ticket links (SPEC §8): the demo engagement uses it.
    replay: str | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.base_url.split("://", 1)[-1].split("/", 1)[0]


class MlflowSource(_Strict):
    """An MLflow tracking server (SPEC §12): open-source `mlflow server` or Databricks (any path prefix)."""

    tracking_uri: str  # http(s) URL (a path prefix such as https://host/mlflow is kept), or replay:DIR
    experiments: list[str] = []  # names or ids; empty: every active experiment
    token_env: str | None = None  # bearer token (Databricks personal access token)
    username_env: str | None = None  # basic auth (mlflow server --app-name basic-auth): user and password
    password_env: str | None = None
    name: str | None = None
    ui_url: str | None = None  # where evidence links point (default: tracking_uri)
    # What counts as production in the registry, and which version tag names who promoted it.
    production_aliases: list[str] = Field(default_factory=lambda: ["production", "prod", "champion"])
    production_stages: list[str] = Field(default_factory=lambda: ["Production"])
    promoted_by_tag: str = "promoted_by"
    trigger_tag: str = "ci.trigger"  # a run tag naming what started it (its value "schedule" counts apart)
    models: list[str] = []  # registered model names; empty: every model
    replay: str | None = None  # a `collect --record` directory served instead (tracking_uri still names it)

    @property
    def display_name(self) -> str:
        return self.name or self.tracking_uri.split("://", 1)[-1].strip("/") or "mlflow"


class GitLabSource(_Strict):
    """A GitLab project (SPEC §12), gitlab.com or self-managed."""

    project: str  # group/project path or numeric id
    base_url: str = "https://gitlab.com"  # the instance; /api/v4 is added (or replay:DIR)
    token_env: str = "GITLAB_TOKEN"
    name: str | None = None
    replay: str | None = None  # a `collect --record` directory served instead (base_url still names it)

    @property
    def display_name(self) -> str:
        return self.name or str(self.project).rsplit("/", 1)[-1]


class Sources(_Strict):
    git: list[GitSource] = []
    github: list[GitHubSource] = []
    jira: list[JiraSource] = []
    mlflow: list[MlflowSource] = []
    gitlab: list[GitLabSource] = []


class Capability(_Strict):
    key: str
    paths: list[str] = []
    ci_workflows: list[str] = []
    ticket_labels: list[str] = []


def _default_capabilities() -> list[Capability]:
    dirs = {"data": "data", "training": "train", "evaluation": "eval", "deployment": "deploy", "operations": "ops"}
    return [Capability(key=k, paths=[f"{d}/**"], ticket_labels=[k]) for k, d in dirs.items()]


class PipelineKind(_Strict):
    workflows: list[str] = []  # GitHub workflow path / file / name; GitLab pipeline name, job name or stage
    tags: list[str] = []
    mlflow_experiments: list[str] = []  # MLflow experiment names or ids whose runs are of this kind (SPEC §12)


class Pipeline(_Strict):
    data_cut: PipelineKind = PipelineKind()
    train: PipelineKind = PipelineKind()
    deploy: PipelineKind = PipelineKind()
    rollback: PipelineKind = PipelineKind()


class Runbooks(_Strict):
    label: str = "runbook"
    name_prefix: str = "runbook:"


class Drills(_Strict):
    label: str = "drill"
    sla_minutes: dict[str, int] = Field(default_factory=lambda: {"sev1": 60, "sev2": 240, "sev3": 1440})
    postmortem_label: str = "postmortem"
    postmortem_days: int = 5
    # Severity from a Jira field instead of a label (e.g. "priority" or "customfield_10042"); its value's
    # name (or the value itself) must be a key of sla_minutes.
    severity_field: str | None = None


class LadderThresholds(_Strict):
    """Stage thresholds of SPEC §6 (internal share of a capability's weekly activity)."""

    pairs: float = Field(0.10, ge=0, le=1)
    leads: float = Field(0.50, ge=0, le=1)
    shadows: float = Field(0.80, ge=0, le=1)
    shadows_max_vendor_items: int = Field(1, ge=0)

    @model_validator(mode="after")
    def _ascending(self) -> LadderThresholds:
        if not self.pairs <= self.leads <= self.shadows:
            raise ValueError("expected pairs <= leads <= shadows")
        return self


class Criterion(_Strict):
    metric: str
    op: Literal[">=", ">", "<=", "<", "=="]
    value: float
    capability: str | None = None
    runbook: str | None = None
    side: Literal["internal", "vendor"] | None = None


class Milestone(_Strict):
    id: str
    due_week: int = Field(ge=0)
    title: str
    capability: str | None = None
    criteria: list[Criterion] = []


# -- Handover readiness (SPEC §10): [readiness], [competency.<capability>], [raci.<capability>] ---------------------
# Operation kinds of exit_readiness (metrics/readiness.py); "runbook:<name>" names one runbook.
OPERATIONS = ("commit", "pr_merge", "review", "train_run", "data_cut", "deploy", "rollback", "runbook", "drill",
              "mlflow_run", "model_promotion")
# Evidence kinds a competency rubric level may require (metrics/competency.py); "runbook:<name>" too.
COMPETENCY_EVIDENCE = ("commit", "merged_change", "review", "data_cut", "train_run", "deploy", "rollback", "runbook",
                       "drill_ack", "drill_pass", "contract_change", "fixed_data_cut", "fixed_train_run",
                       "fixed_deploy", "fixed_rollback", "change_then_train", "rehearsal")


class Readiness(_Strict):
    operations: dict[str, list[str]] = {}  # capability -> operation kinds (default: kinds with evidence on it)
    min_people: int = Field(2, ge=1)
    window_weeks: int = Field(4, ge=1)


class CompetencyRubric(_Strict):
    """Each level: alternatives (any one suffices), each "kind" or "kind + kind" (all of them in the window)."""

    beginner: list[str] = []
    intermediate: list[str] = []
    independent: list[str] = []
    contract_paths: list[str] = Field(default_factory=lambda: ["**/schema*", "**/*contract*"])


class Raci(_Strict):
    responsible: dict[int, Literal["vendor", "internal"]] = {}  # from week -> side
    accountable: dict[int, Literal["vendor", "internal"]] = {}


def _handover_problems(cfg: EngagementConfig, keys: list[str]) -> list[str]:
    """Capability keys and kinds named by [readiness], [competency] and [raci]."""
    problems = []
    for section, caps in (("readiness.operations", cfg.readiness.operations), ("competency", cfg.competency),
                          ("raci", cfg.raci)):
        problems += [f"{section}.{c}: expected a capability key (one of {', '.join(keys)})" for c in caps
                     if c not in keys]
    for cap, ops in cfg.readiness.operations.items():
        problems += [f"readiness.operations.{cap}: unknown operation {op!r} (expected one of {', '.join(OPERATIONS)} "
                     f"or runbook:<name>)" for op in ops if op not in OPERATIONS and not op.startswith("runbook:")]
    for cap, rubric in cfg.competency.items():
        for level in ("beginner", "intermediate", "independent"):
            for alternative in getattr(rubric, level):
                problems += [f"competency.{cap}.{level}: unknown evidence {kind!r} (expected one of "
                             f"{', '.join(COMPETENCY_EVIDENCE)} or runbook:<name>)"
                             for kind in (k.strip() for k in alternative.split("+"))
                             if kind not in COMPETENCY_EVIDENCE and not kind.startswith("runbook:")]
    for cap, plan in cfg.raci.items():
        problems += [f"raci.{cap}.{role}: expected weeks >= 0, got {week}" for role in ("responsible", "accountable")
                     for week in getattr(plan, role) if week < 0]
    return problems


class EngagementConfig(_Strict):
    engagement: Engagement
    people: list[Person] = []
    classify: Classify = Classify()
    sources: Sources = Sources()
    capabilities: list[Capability] = Field(default_factory=_default_capabilities)
    pipeline: Pipeline = Pipeline()
    runbooks: Runbooks = Runbooks()
    drills: Drills = Drills()
    targets: dict[str, float] = {}
    plan: dict[str, dict[int, int]] = {}
    milestones: list[Milestone] = []
    ladder: LadderThresholds = LadderThresholds()
    readiness: Readiness = Readiness()
    competency: dict[str, CompetencyRubric] = {}
    raci: dict[str, Raci] = {}
    # Where the file was read from; relative source paths resolve against its folder.
    file: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo) -> EngagementConfig:
        check: CriterionCheck | None = (info.context or {}).get("criterion_check")
        known_kpis: list[str] | None = (info.context or {}).get("kpi_keys")
        keys = [c.key for c in self.capabilities]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"capabilities: duplicate key(s) {', '.join(dupes)}")
        problems = []
        for cap, weeks in self.plan.items():
            if cap not in keys:
                problems.append(f"plan.{cap}: expected a capability key (one of {', '.join(keys)})")
            for week, stage in weeks.items():
                if week < 0 or not 0 <= stage <= 4:
                    problems.append(f"plan.{cap}.{week}: expected week >= 0 = stage 0..4, got {week} = {stage}")
        for key in self.targets if known_kpis is not None else []:
            if key not in known_kpis:
                problems.append(f"targets.{key}: expected a KPI key (one of {', '.join(sorted(known_kpis))})")
        ids = [m.id for m in self.milestones]
        for i, m in enumerate(self.milestones):
            if ids.index(m.id) != i:
                problems.append(f"milestones[{i}].id: expected a unique milestone id, {m.id!r} is used twice")
            if m.capability and m.capability not in keys:
                problems.append(f"milestones[{i}].capability: expected a capability key, got {m.capability!r}")
            for j, c in enumerate(m.criteria if check else []):
                problems.extend(f"milestones[{i}].criteria[{j}]: milestone {m.id}, criterion {j + 1}: {p}"
                                for p in check(c.metric, c.capability, c.runbook, c.side, keys))
        problems += _handover_problems(self, keys)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def capability_keys(self) -> list[str]:
        return [c.key for c in self.capabilities]

    def resolve_path(self, path: str) -> Path:
        p = Path(path).expanduser()
        if not p.is_absolute() and self.file is not None:
            p = (self.file.parent / p).resolve()
        return p


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


_TYPE_WORDS = {
    "date_from_datetime_parsing": "a date like 2026-09-07",
    "date_parsing": "a date like 2026-09-07",
    "date_type": "a date like 2026-09-07",
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "string_type": "a string",
    "list_type": "a list",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "model_type": "a table",
    "dict_type": "a table",
    "model_attributes_type": "a table",
}


def _describe(error: dict[str, Any], fields_of: dict[str, list[str]]) -> str:
    kind, value = error["type"], error.get("input")
    shown = f'"{value}"' if isinstance(value, str) else repr(value)
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, got {shown}"
    if kind == "extra_forbidden":
        return "unknown key (typo?)"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        return f"expected {error['ctx']['expected']}, got {shown}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return f"{error['msg']}, got {shown}"


def _format_errors(file_label: str, exc: ValidationError) -> list[str]:
    lines = []
    for error in exc.errors():
        loc = tuple(p for p in error["loc"] if p not in ("function-after",))
        # Pydantic reports the alias-less name for `from`; show what the user wrote.
        loc = tuple("from" if p == "from_" else p for p in loc)
        where = _key_path(loc)
        message = _describe(error, {})
        if error["type"] == "value_error" and not where:
            lines.extend(f"{file_label}: {part}" for part in message.split("; "))
            continue
        lines.append(f"{file_label}: {where}: {message}" if where else f"{file_label}: {message}")
    return lines


def parse_config(data: dict[str, Any], file: Path | None = None, *, criterion_check: CriterionCheck | None = None,
                 kpi_keys: Collection[str] | None = None) -> EngagementConfig:
    """Validate an already-parsed TOML document: milestone criteria against `criterion_check` and `[targets]` keys
    against `kpi_keys` when given (both come from the metrics layer, which this base layer cannot import)."""
    label = file.name if file else "engagement"
    context = {"criterion_check": criterion_check, "kpi_keys": None if kpi_keys is None else sorted(kpi_keys)}
    try:
        cfg = EngagementConfig.model_validate(data, context=context)
    except ValidationError as exc:
        raise ConfigError(_format_errors(label, exc)) from None
    return cfg.model_copy(update={"file": file.resolve() if file else None})


def load_config(path: str | Path, *, criterion_check: CriterionCheck | None = None,
                kpi_keys: Collection[str] | None = None) -> EngagementConfig:
    """Read and validate an engagement file; raise ConfigError naming file, key path and expectation."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the engagement file ({exc.strerror})"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError([f"{path.name}: expected UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path.name}: invalid TOML: {exc}"]) from None
    return parse_config(data, path, criterion_check=criterion_check, kpi_keys=kpi_keys)


def summarize(cfg: EngagementConfig) -> str:
    """A short human summary printed by `python -m collectors check`."""
    e = cfg.engagement
    lines = [
        f"Engagement: {e.name} — starts {e.start}, {e.weeks} weeks, timezone {e.timezone}",
        f"People: {len(cfg.people)} "
        f"({sum(1 for p in cfg.people for a in p.affiliations[-1:] if a.side == 'internal')} internal now, "
        f"{sum(1 for p in cfg.people for a in p.affiliations[-1:] if a.side == 'vendor')} vendor now)",
        f"Sources: {len(cfg.sources.git)} git, {len(cfg.sources.github)} GitHub, {len(cfg.sources.jira)} Jira, "
        f"{len(cfg.sources.gitlab)} GitLab, {len(cfg.sources.mlflow)} MLflow",
    ]
    lines += [f"  git: {cfg.resolve_path(s.path)} @ {s.branch}" for s in cfg.sources.git]
    lines.append(f"Capabilities: {', '.join(cfg.capability_keys)}")
    lines.append(f"Milestones: {len(cfg.milestones)}" + "".join(f"\n  {m.id} (week {m.due_week}): {m.title}"
                                                              for m in cfg.milestones))
    return "\n".join(lines)
