"""A real `mlflow server` (the pip package's, SQLite backend) on a free 127.0.0.1 port, for collector tests.

`MlflowServer(tmp_dir)` is a context manager: it starts `python -m mlflow server --workers 1`, waits for
`/health` (the first start creates the schema: ~30 s on a loaded 2-core machine) and stops the process group on
exit. `rest(...)` drives the REST API directly (runs created with an explicit `mlflow.user`, as two users would).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

API = "/api/2.0/mlflow"


def mlflow_installed() -> bool:
    return importlib.util.find_spec("mlflow") is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MlflowServer:
    def __init__(self, directory: Path, startup_timeout: float = 240.0):
        self.directory = Path(directory)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self.session = requests.Session()

    def __enter__(self) -> MlflowServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = (self.directory / "server.log").open("wb")
        env = {**os.environ, "MLFLOW_TRACKING_URI": "", "PYTHONWARNINGS": "ignore"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", "1", "--backend-store-uri", f"sqlite:///{self.directory / 'mlflow.db'}",
             "--default-artifact-root", str(self.directory / "artifacts")],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {(self.directory / 'server.log').read_text()[-2000:]}")
            try:
                if self.session.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.__exit__(None, None, None)
        raise RuntimeError(f"mlflow server did not answer /health within {self.timeout:.0f} s")

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # uvicorn and its worker: the group we started
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    # -- REST -------------------------------------------------------------------------------------------------
    def rest(self, method: str, endpoint: str, **body) -> dict:
        url = f"{self.url}{API}/{endpoint}"
        response = (self.session.get(url, params=body, timeout=30) if method == "GET"
                    else self.session.request(method, url, json=body, timeout=30))
        response.raise_for_status()
        return response.json()

    def create_run(self, experiment_id: str, user: str, start_ms: int, *, name: str, tags: dict | None = None,
                   params: dict | None = None, metrics: dict | None = None, end_ms: int | None = None,
                   status: str = "FINISHED") -> str:
        """A run by `user` (its `mlflow.user` tag and `user_id`, as the fluent client sets them), logged and ended."""
        all_tags = {"mlflow.user": user, "mlflow.runName": name, **(tags or {})}
        run = self.rest("POST", "runs/create", experiment_id=experiment_id, user_id=user, start_time=start_ms,
                        run_name=name, tags=[{"key": k, "value": v} for k, v in all_tags.items()])["run"]
        run_id = run["info"]["run_id"]
        self.rest("POST", "runs/log-batch", run_id=run_id,
                  params=[{"key": k, "value": str(v)} for k, v in (params or {}).items()],
                  metrics=[{"key": k, "value": v, "timestamp": start_ms, "step": 0}
                           for k, v in (metrics or {}).items()])
        if status != "RUNNING":
            self.rest("POST", "runs/update", run_id=run_id, status=status, end_time=end_ms or start_ms + 60_000)
        return run_id
