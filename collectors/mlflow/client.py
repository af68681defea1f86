"""The MLflow tracking REST client (SPEC §12) on the shared `collectors.http.HttpClient` (SPEC §8).

Endpoints, all under `<tracking_uri>/api/2.0/mlflow/` (a path prefix in `tracking_uri`, as behind a proxy or on
Databricks, is kept: `https://host/ml` -> `https://host/ml/api/2.0/mlflow/...`):
- `GET experiments/get-by-name?experiment_name=`, `GET experiments/get?experiment_id=`, `POST experiments/search`
  (`page_token` paging) to resolve the configured experiments;
- `POST runs/search {experiment_ids, filter, max_results, order_by, page_token}`: `next_page_token` is absent on
  the last page (recorded); `GET runs/get?run_id=` to re-read a run that was still RUNNING;
- `GET registered-models/search`, `GET model-versions/search?filter=name='m'` (`max_results` + `page_token`),
  `GET registered-models/get?name=` for the model's aliases.
Errors come as `{error_code, message}`; `HttpClient` names the URL, status and message in one line. The
open-source server has no rate limit and no auth unless basic auth is on; Databricks takes a bearer token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from collectors.http import HttpClient, HttpError, Recorder
from collectors.runs import CollectError

API = "/api/2.0/mlflow"
RUN_PAGE_SIZE = 500  # runs per runs/search page (the server allows up to 50,000)
REGISTRY_PAGE_SIZE = 100  # model-versions/search and registered-models/search allow up to 200 / 1000
HINTS = {401: "check the token (token_env) or the basic-auth user and password (username_env, password_env)",
         403: "the credentials lack permission on this experiment or model",
         404: "not found: check tracking_uri (a Databricks workspace URL, or the server's path prefix)"}


def _escape(value: str) -> str:
    """A value inside a single-quoted MLflow filter string."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


class MlflowClient:
    """Talks to one MLflow tracking server. Auth: a bearer token or basic (user, password); none in replay."""

    def __init__(self, tracking_uri: str, *, token: str | None = None, basic: tuple[str, str] | None = None,
                 max_wait: float = 900.0, retries: int = 5, backoff_factor: float = 1.0, timeout: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep, recorder: Recorder | None = None,
                 replay: str | Path | None = None):
        self.http = HttpClient(tracking_uri, service="MLflow", token=token, auth_scheme="Bearer", basic=basic,
                               headers={"Accept": "application/json"}, retries=retries,
                               backoff_factor=backoff_factor, max_wait=max_wait, timeout=timeout, sleep=sleep,
                               hints=HINTS, recorder=recorder, replay=replay)
        self.base_url = self.http.base_url

    @property
    def calls(self) -> int:
        return self.http.calls

    @property
    def secrets(self) -> tuple[str, ...]:
        return self.http.secrets

    def close(self) -> None:
        self.http.close()

    # -- plumbing ------------------------------------------------------------------------------------------------
    def _get(self, endpoint: str, params: dict[str, Any], accept_status: tuple[int, ...] = ()) -> Any:
        response = self.http.request("GET", f"{API}/{endpoint}", params=params, accept_status=accept_status)
        return None if response.status_code in accept_status else self.http.json(response)

    def _post(self, endpoint: str, body: dict[str, Any]) -> Any:
        return self.http.json(self.http.request("POST", f"{API}/{endpoint}", json_body=body))

    # -- experiments ---------------------------------------------------------------------------------------------
    def experiment(self, name_or_id: str) -> dict:
        """The experiment named `name_or_id`, else the one with that id; CollectError naming it when neither."""
        doc = self._get("experiments/get-by-name", {"experiment_name": name_or_id}, accept_status=(404,))
        if doc and doc.get("experiment"):
            return doc["experiment"]
        if str(name_or_id).isdigit():
            doc = self._get("experiments/get", {"experiment_id": str(name_or_id)}, accept_status=(404,))
            if doc and doc.get("experiment"):
                return doc["experiment"]
        raise CollectError(f"MLflow {self.base_url}: experiment {name_or_id!r} not found (expected an experiment "
                           "name or id listed in [[sources.mlflow]].experiments)")

    def experiments(self) -> Iterator[dict]:
        """Every active experiment (when the source lists none)."""
        body: dict[str, Any] = {"max_results": 1000, "view_type": "ACTIVE_ONLY"}
        while True:
            doc = self._post("experiments/search", body) or {}
            yield from doc.get("experiments") or []
            token = doc.get("next_page_token")
            if not token:
                return
            body = {**body, "page_token": token}

    # -- runs ----------------------------------------------------------------------------------------------------
    def search_runs(self, experiment_ids: list[str], start_ms: int | None = None,
                    page_size: int = RUN_PAGE_SIZE) -> Iterator[list[dict]]:
        """Pages of runs started at or after `start_ms` (epoch ms), oldest first, following `page_token`."""
        body: dict[str, Any] = {"experiment_ids": list(experiment_ids), "max_results": page_size,
                                "order_by": ["attributes.start_time ASC"]}
        if start_ms is not None:
            body["filter"] = f"attributes.start_time >= {int(start_ms)}"
        while True:
            doc = self._post("runs/search", body) or {}
            yield doc.get("runs") or []
            token = doc.get("next_page_token")
            if not token:
                return
            body = {**body, "page_token": token}

    def get_run(self, run_id: str) -> dict | None:
        """One run; None when it no longer exists (404 RESOURCE_DOES_NOT_EXIST: deleted for good)."""
        doc = self._get("runs/get", {"run_id": run_id}, accept_status=(404,))
        return (doc or {}).get("run")

    # -- model registry ------------------------------------------------------------------------------------------
    def registered_models(self) -> Iterator[dict] | None:
        """Every registered model, or None when the server has no model registry (404 on the endpoint)."""
        params: dict[str, Any] = {"max_results": REGISTRY_PAGE_SIZE}
        first = self._get("registered-models/search", params, accept_status=(404,))
        if first is None:
            return None

        def pages() -> Iterator[dict]:
            doc = first
            while True:
                yield from doc.get("registered_models") or []
                token = doc.get("next_page_token")
                if not token:
                    return
                doc = self._get("registered-models/search", {**params, "page_token": token}) or {}

        return pages()

    def registered_model(self, name: str) -> dict | None:
        """The model with its `aliases` [{alias, version}], or None when it is gone."""
        doc = self._get("registered-models/get", {"name": name}, accept_status=(404,))
        return (doc or {}).get("registered_model")

    def model_versions(self, name: str) -> list[dict]:
        """Every version of one model (creator, stage, aliases, tags), all pages."""
        params: dict[str, Any] = {"filter": f"name='{_escape(name)}'", "max_results": REGISTRY_PAGE_SIZE}
        out: list[dict] = []
        while True:
            try:
                doc = self._get("model-versions/search", params) or {}
            except HttpError as exc:
                raise CollectError(f"{exc} (model {name!r})") from None
            out += doc.get("model_versions") or []
            token = doc.get("next_page_token")
            if not token:
                return out
            params = {**params, "page_token": token}
