"""The handover binder and the system-KPI settings of the engagement file (SPEC §11).

`[[artifacts]]` entries `{ key, title, paths = [globs], capability = "…", max_age_weeks = 8 }` name what the
client must hold at the end: `paths` are gitignore-style globs (as capability paths: `*` stays inside a path
segment, `**` crosses segments, a leading `/` anchors at the repository root). Without any `[[artifacts]]`
the default binder of SPEC §11 applies (`DEFAULT_BINDER`). `[cost].per_minute` turns training minutes into
money (`train_run_minutes`). Imported by engagement/config.py; imports nothing of the project.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Artifact(_Strict):
    """One binder entry (SPEC §11)."""

    key: str = Field(min_length=1)
    title: str = ""
    paths: list[str] = Field(min_length=1)
    capability: str | None = None
    max_age_weeks: int = Field(8, ge=1, le=520)

    @property
    def label(self) -> str:
        return self.title or self.key.replace("_", " ").capitalize()


class Cost(_Strict):
    """What a minute of training compute costs (SPEC §11 `train_run_minutes`); no money is shown without it."""

    per_minute: float | None = Field(None, ge=0)
    currency: str = "EUR"


def _artifact(key: str, title: str, paths: list[str], capability: str | None = None) -> Artifact:
    return Artifact(key=key, title=title, paths=paths, capability=capability)


# SPEC §11's default binder: what a buyer expects to find in the client's repositories at hand-over. The globs
# name the usual places; an engagement whose repository differs lists its own `[[artifacts]]`. Contents are not
# inspected (a lock file is trusted to pin, a thresholds file to hold thresholds).
DEFAULT_BINDER: tuple[Artifact, ...] = (
    _artifact("readme", "README and setup instructions", ["/README*", "/SETUP*", "/docs/setup*", "/INSTALL*"]),
    _artifact("lock_file", "Pinned dependency lock file",
              ["**/poetry.lock", "**/uv.lock", "**/Pipfile.lock", "**/pdm.lock", "**/conda-lock.yml",
               "**/requirements*.lock", "**/requirements*.txt", "**/package-lock.json"]),
    _artifact("environment", "Environment as code (Dockerfile, IaC)",
              ["**/Dockerfile*", "**/docker-compose*.yml", "**/docker-compose*.yaml", "**/*.tf", "**/environment.yml",
               "**/environment.yaml", "**/helm/**", "**/terraform/**", "**/k8s/**"], "deployment"),
    _artifact("data_contracts", "Data contracts", ["**/data_contracts/**", "**/data-contracts/**", "**/contracts/**",
                                                   "**/*schema*.yaml", "**/*schema*.yml", "**/*schema*.json"], "data"),
    _artifact("eval_harness", "Evaluation harness with thresholds",
              ["**/*threshold*.yaml", "**/*threshold*.yml", "**/*threshold*.json", "**/*threshold*.toml"],
              "evaluation"),
    _artifact("model_card", "Model card", ["**/MODEL_CARD*", "**/model_card*", "**/model-card*", "**/ModelCard*"],
              "training"),
    _artifact("runbook_training", "Runbook: training / retraining", ["**/runbooks/*train*", "**/runbooks/*retrain*"],
              "training"),
    _artifact("runbook_deployment", "Runbook: deployment", ["**/runbooks/*deploy*", "**/runbooks/*release*"],
              "deployment"),
    _artifact("runbook_rollback", "Runbook: rollback", ["**/runbooks/*rollback*"], "deployment"),
    _artifact("runbook_incident", "Runbook: incident response", ["**/runbooks/*incident*", "**/runbooks/*oncall*",
                                                                "**/runbooks/*on-call*"], "operations"),
    _artifact("monitoring", "Monitoring and alert definitions", ["**/alerts/**", "**/*alert*.yaml", "**/*alert*.yml",
                                                                "**/monitoring/**", "**/*monitoring*.yaml",
                                                                "**/*monitoring*.yml"], "operations"),
    _artifact("architecture", "Architecture notes", ["**/ARCHITECTURE*", "**/architecture*", "**/adr/**",
                                                    "**/decisions/**"]),
    _artifact("data_handling", "Data-handling record (permitted uses, retention and deletion, de-identification, "
              "training-data location)", ["**/DATA_HANDLING*", "**/data_handling*", "**/data-handling*",
                                         "**/data-retention*", "**/privacy*"], "data"),
)
