"""The engagement file (SPEC §2): one typed, validated object for all configuration.

`load_config(path)` reads a TOML file and returns an `EngagementConfig`, or raises `ConfigError`
whose lines each name the file, the key path and what was expected, e.g.
`engagement.toml: people[3].affiliations[0].from: expected a date like 2026-09-07, got "next week"`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from engagement.binder import DEFAULT_BINDER, Artifact, Cost
from engagement.errors import UserError
from engagement.redact import redact

DEFAULT_BOTS = ["*[bot]", "dependabot*", "renovate*", "github-actions*"]
DEFAULT_CAPABILITY_KEYS = ["data", "training", "evaluation", "deployment", "operations"]
# Dates an engagement file may hold (SPEC §2): a year like 1 or 9999 is a typo, and one that would make a
# collector walk 2000 years of weeks or overflow a timestamp.
EARLIEST_DATE = dt.date(1970, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
ENGAGEMENT_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


def _in_range(value: dt.date | None) -> dt.date | None:
    if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"expected a date between {EARLIEST_DATE} and {LATEST_DATE}, got {value}")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("expected a non-empty text")
    return value


def _gitignore_glob(value: str) -> str:
    """A path glob pathspec can compile; an invalid one (e.g. "[") silently matches nothing otherwise."""
    import pathspec

    try:
        (pattern,) = pathspec.GitIgnoreSpec.from_lines([value]).patterns
    except ValueError as exc:
        raise ValueError(f'expected a gitignore-style glob like "data/**", got "{value}" ({exc})') from None
    if pattern.include is None and value.strip() and not value.strip().startswith("#"):
        raise ValueError(f'expected a gitignore-style glob like "data/**", got "{value}"')
    return value


Date = Annotated[dt.date, AfterValidator(_in_range)]
Int = Annotated[int, Strict()]  # `weeks = true` is not 1
Bool = Annotated[bool, Strict()]  # `issues = "yes"` is not true
Number = Annotated[float, Strict()]  # ints are numbers, booleans are not
Text = Annotated[str, AfterValidator(_not_blank)]
PathGlob = Annotated[str, AfterValidator(_gitignore_glob)]


def derive_engagement_id(name: str) -> str:
    """The default `[engagement].id`: the name as a slug ("Fraud model handoff" -> "fraud-model-handoff");
    a name without a letter or digit gets "engagement-" and 8 hex digits of its sha256."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:80].strip("-")
    return slug or "engagement-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


class ConfigError(UserError):
    """An engagement file that cannot be used; `problems` holds one message per problem."""

    def __init__(self, problems: list[str]):
        self.problems = [redact(p) for p in problems]
        super().__init__("\n".join(self.problems))


class CriterionCheck(Protocol):
    """What checks a milestone criterion's metric and filters: the metric registry, which lives in the
    metrics layer (above this one). It is passed in by the caller (`metrics.load_engagement`), so that
    this base layer imports nothing of the project; without it, criteria are checked for shape only."""

    def __call__(self, metric: str, capability: str | None, runbook: str | None, side: str | None,
                 capability_keys: list[str]) -> list[str]: ...


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Engagement(_Strict):
    name: Text
    start: Date
    weeks: Int = Field(8, ge=1, le=520)
    timezone: str = "UTC"
    # The stable key of signatures, frozen weeks and the audit log (never the display name, which may be
    # renamed). Absent: derived from the name (`derive_engagement_id`); see README "Engagement id".
    id: str | None = None
    # SPEC §9: store only pseudonyms of names, emails, logins and account ids from the start.
    pseudonymize: Bool = False
    _id_derived: bool = PrivateAttr(False)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str | None) -> str | None:
        if value is not None and not ENGAGEMENT_ID.match(value):
            raise ValueError(f'expected lower-case letters, digits, ".", "_" or "-" (up to 100), like '
                             f'"fraud-model-handoff", got "{value}"')
        return value

    @model_validator(mode="after")
    def _default_id(self) -> Engagement:
        if self.id is None:
            object.__setattr__(self, "id", derive_engagement_id(self.name))
            self._id_derived = True
        return self

    @property
    def id_derived(self) -> bool:
        """True when `[engagement].id` is absent and the id comes from the name (renaming would change it)."""
        return self._id_derived

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
    from_: Date | None = Field(None, alias="from")
    until: Date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Affiliation:
        if self.from_ and self.until and self.until <= self.from_:
            raise ValueError(f"expected until ({self.until}) after from ({self.from_})")
        return self

    def describe(self) -> str:
        return f"{self.side} from {self.from_ or 'the beginning'} until {self.until or 'open end'}"


class Person(_Strict):
    name: Text
    emails: list[Text] = []
    github: list[Text] = []
    jira: list[Text] = []
    gitlab: list[Text] = []  # GitLab usernames (SPEC §12)
    mlflow: list[Text] = []  # MLflow users: the `mlflow.user` tag or `user_id` (an OS login; emails go in `emails`)
    affiliations: list[Affiliation] = []

    @field_validator("emails")
    @classmethod
    def _emails(cls, values: list[str]) -> list[str]:
        for value in values:
            if "@" not in value.strip()[1:-1]:
                raise ValueError(f'expected email addresses like "dana@client.com", got "{value}"')
        return values

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
    issues: Bool = False
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
    overlap_minutes: Int = Field(10, ge=0)  # re-scan window behind the cursor (search is eventually consistent)
    page_size: Int = Field(50, ge=1, le=100)
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
    key: Text
    paths: list[PathGlob] = []
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
    # SPEC §11: evaluation runs, environment rebuilds, and which deploy runs go to staging
    eval: PipelineKind = PipelineKind()
    rebuild: PipelineKind = PipelineKind()
    deploy_staging: PipelineKind = PipelineKind(workflows=["*staging*"])


class Runbooks(_Strict):
    label: str = "runbook"
    name_prefix: str = "runbook:"


class Drills(_Strict):
    label: str = "drill"
    sla_minutes: dict[str, Annotated[int, Strict(), Field(gt=0)]] = Field(
        default_factory=lambda: {"sev1": 60, "sev2": 240, "sev3": 1440})
    postmortem_label: str = "postmortem"
    postmortem_days: Int = Field(5, ge=0)
    # Severity from a Jira field instead of a label (e.g. "priority" or "customfield_10042"); its value's
    # name (or the value itself) must be a key of sla_minutes.
    severity_field: str | None = None


class LadderThresholds(_Strict):
    """Stage thresholds of SPEC §6 (internal share of a capability's weekly activity)."""

    pairs: Number = Field(0.10, ge=0, le=1)
    leads: Number = Field(0.50, ge=0, le=1)
    shadows: Number = Field(0.80, ge=0, le=1)
    shadows_max_vendor_items: Int = Field(1, ge=0)

    @model_validator(mode="after")
    def _ascending(self) -> LadderThresholds:
        if not self.pairs <= self.leads <= self.shadows:
            raise ValueError("expected pairs <= leads <= shadows")
        return self


class Criterion(_Strict):
    metric: str
    op: Literal[">=", ">", "<=", "<", "=="]
    value: Number
    capability: str | None = None
    runbook: str | None = None
    side: Literal["internal", "vendor"] | None = None


class Milestone(_Strict):
    id: Text
    due_week: Int = Field(ge=0, le=520)
    title: str
    capability: str | None = None
    criteria: list[Criterion] = []


class Retention(_Strict):
    """SPEC §9: raw texts (commit subjects, PR and ticket titles, descriptions, comments) older than `days` are
    dropped by each collect; counts and KPIs stay."""

    days: Int | None = Field(None, ge=1)


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
    min_people: Int = Field(2, ge=1)
    window_weeks: Int = Field(4, ge=1)


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
    targets: dict[str, Number] = {}
    plan: dict[str, dict[int, Int]] = {}
    milestones: list[Milestone] = []
    ladder: LadderThresholds = LadderThresholds()
    retention: Retention = Retention()
    artifacts: list[Artifact] = []  # SPEC §11: the binder (`binder` falls back to the default one)
    cost: Cost = Cost()
    readiness: Readiness = Readiness()
    competency: dict[str, CompetencyRubric] = {}
    raci: dict[str, Raci] = {}
    # Where the file was read from; relative source paths resolve against its folder.
    file: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo) -> EngagementConfig:
        check: CriterionCheck | None = (info.context or {}).get("criterion_check")
        known_kpis: list[str] | None = (info.context or {}).get("kpi_keys")
        share_kpis: list[str] | None = (info.context or {}).get("share_kpis")
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
        for key, value in self.targets.items():
            if known_kpis is not None and key not in known_kpis:
                problems.append(f"targets.{key}: expected a KPI key (one of {', '.join(sorted(known_kpis))})")
            elif share_kpis is not None and key in share_kpis and not 0 <= value <= 1:
                problems.append(f"targets.{key}: expected a share between 0 and 1 (0.5 = 50%), got {value:g}")
            elif value < 0:
                problems.append(f"targets.{key}: expected a number >= 0, got {value:g}")
        problems += _roster_problems(self.people)
        ids = [m.id for m in self.milestones]
        for i, m in enumerate(self.milestones):
            if ids.index(m.id) != i:
                problems.append(f"milestones[{i}].id: expected a unique milestone id, {m.id!r} is used twice")
            if m.capability and m.capability not in keys:
                problems.append(f"milestones[{i}].capability: expected a capability key, got {m.capability!r}")
            for j, c in enumerate(m.criteria if check else []):
                problems.extend(f"milestones[{i}].criteria[{j}]: milestone {m.id}, criterion {j + 1}: {p}"
                                for p in check(c.metric, c.capability, c.runbook, c.side, keys))
        problems += _artifact_problems(self.artifacts, keys)
        problems += _handover_problems(self, keys)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def binder(self) -> list[Artifact]:
        """The `[[artifacts]]` of the file, else SPEC §11's default binder."""
        return list(self.artifacts) or list(DEFAULT_BINDER)

    @property
    def capability_keys(self) -> list[str]:
        return [c.key for c in self.capabilities]

    def resolve_path(self, path: str) -> Path:
        p = Path(path).expanduser()
        if not p.is_absolute() and self.file is not None:
            p = (self.file.parent / p).resolve()
        return p


def _normal_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def _roster_problems(people: list[Person]) -> list[str]:
    """Two people with one name would merge their work; one identity under two people moves it silently."""
    problems, names, owners = [], {}, {}
    for i, person in enumerate(people):
        key = _normal_name(person.name)
        if key in names:
            problems.append(f"people[{i}].name: expected a unique name, {person.name!r} is also people[{names[key]}]")
        names.setdefault(key, i)
        for kind in ("emails", "github", "jira", "gitlab", "mlflow"):
            for j, value in enumerate(getattr(person, kind)):
                ident = (kind, value.strip().casefold())
                first = owners.get(ident)
                if first is not None and first[0] != i:
                    problems.append(f"people[{i}].{kind}[{j}]: expected each identity under one person, {value!r} is "
                                    f"also under people[{first[0]}] ({people[first[0]].name})")
                owners.setdefault(ident, (i, j))
    return problems


def _artifact_problems(artifacts: list[Artifact], capability_keys: list[str]) -> list[str]:
    keys = [a.key for a in artifacts]
    problems = [f"artifacts[{i}].key: expected a unique artifact key, {a.key!r} is used twice"
                for i, a in enumerate(artifacts) if keys.index(a.key) != i]
    return problems + [f"artifacts[{i}].capability: expected a capability key (one of {', '.join(capability_keys)}), "
                       f"got {a.capability!r}" for i, a in enumerate(artifacts)
                       if a.capability is not None and a.capability not in capability_keys]


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
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind in bounds:
        limit = next(iter(error["ctx"].values()))
        return f"expected a number {bounds[kind]} {limit}, got {shown}"
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
                 kpi_keys: Collection[str] | None = None,
                 share_kpis: Collection[str] | None = None) -> EngagementConfig:
    """Validate an already-parsed TOML document: milestone criteria against `criterion_check`, `[targets]` keys
    against `kpi_keys` and targets of `share_kpis` against 0..1 when given (all come from the metrics layer, which
    this base layer cannot import)."""
    label = file.name if file else "engagement"
    context = {"criterion_check": criterion_check, "kpi_keys": None if kpi_keys is None else sorted(kpi_keys),
               "share_kpis": None if share_kpis is None else sorted(share_kpis)}
    try:
        cfg = EngagementConfig.model_validate(data, context=context)
    except ValidationError as exc:
        raise ConfigError(_format_errors(label, exc)) from None
    return cfg.model_copy(update={"file": file.resolve() if file else None})


def load_config(path: str | Path, *, criterion_check: CriterionCheck | None = None,
                kpi_keys: Collection[str] | None = None, share_kpis: Collection[str] | None = None
                ) -> EngagementConfig:
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
    return parse_config(data, path, criterion_check=criterion_check, kpi_keys=kpi_keys, share_kpis=share_kpis)


def register_secrets(cfg: EngagementConfig) -> None:
    """Tell engagement.redact the values of the environment variables the sources name for credentials
    (`token_env`, `password_env`, with `email_env` / `username_env` as the HTTP Basic user), so no later message,
    log or page can show them."""
    from engagement.redact import register_secret

    users = ("email_env", "username_env")
    for kind in type(cfg.sources).model_fields:
        for source in getattr(cfg.sources, kind):
            user_env = next((getattr(source, f, None) for f in users if getattr(source, f, None)), None)
            user = os.environ.get(user_env) if user_env else None
            for field in type(source).model_fields:
                if field.endswith("_env") and field not in users:
                    register_secret(os.environ.get(getattr(source, field) or ""), user=user)


def summarize(cfg: EngagementConfig) -> str:
    """A short human summary printed by `python -m collectors check`."""
    e = cfg.engagement
    derived = " (derived from the name: set [engagement].id to keep it when renaming)" if e.id_derived else ""
    lines = [
        f"Engagement: {e.name} — starts {e.start}, {e.weeks} weeks, timezone {e.timezone}",
        f"Engagement id: {e.id}{derived}",
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
