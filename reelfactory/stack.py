"""The local Prefect stack for one machine: a Prefect server on SQLite in the data directory,
and a process serving our flows. Used by ``reel demo``, ``reel up`` and the end-to-end tests.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from reelfactory.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

SERVER_START_TIMEOUT_S = 120.0  # a fresh server migrates its database first: ~16 s here
SERVE_START_TIMEOUT_S = 90.0
QUIET = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}


@dataclass(frozen=True)
class Stack:
    api_url: str
    started_server: bool

    @property
    def ui_url(self) -> str:
        return self.api_url.removesuffix("/api")

    def flow_run_url(self, flow_run_id: str) -> str:
        return f"{self.ui_url}/runs/flow-run/{flow_run_id}"


def free_port(preferred: int = 0) -> int:
    for port in (preferred, 0):
        with socket.socket() as s:
            # As uvicorn does: a port in TIME_WAIT from our last run is still ours to use.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError("no free TCP port on 127.0.0.1")


def healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def _wait(
    what: str, ready: object, proc: subprocess.Popen[bytes], timeout: float, log_path: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{what} exited with code {proc.returncode}:\n{tail}")
        if ready():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise TimeoutError(f"{what} was not ready after {timeout:.0f} s (log: {log_path})")


def stop(proc: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    """Stop a process group we started: SIGTERM, then SIGKILL after a deadline.

    Prefect workers/runners can ignore SIGTERM for 30+ s once their server is gone.
    """
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    except ProcessLookupError:
        pass


def _spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as out:
        return subprocess.Popen(
            args,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            start_new_session=True,
        )


def server_env(settings: Settings, env: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment: its home in the data directory, and its database there
    (SQLite) unless ``PREFECT_API_DATABASE_CONNECTION_URL`` names one (e.g. PostgreSQL)."""
    home = (settings.data_dir / "prefect").resolve()
    home.mkdir(parents=True, exist_ok=True)
    base = env or dict(os.environ)
    database = base.get("PREFECT_API_DATABASE_CONNECTION_URL") or (
        f"sqlite+aiosqlite:///{home / 'prefect.db'}"
    )
    return {
        **base,
        **QUIET,
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": database,
    }


@contextmanager
def prefect_server(settings: Settings) -> Iterator[str]:
    """Run ``prefect server start`` (see :func:`server_env` for its database); yield its
    API URL."""
    port = free_port(settings.prefect_port)
    api_url = f"http://127.0.0.1:{port}/api"
    log_path = settings.data_dir / "logs" / "prefect-server.log"
    env = server_env(settings)
    env.pop("PREFECT_API_URL", None)
    args = [
        sys.executable,
        "-m",
        "prefect",
        "server",
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    proc = _spawn(args, env, log_path)
    try:
        _wait("prefect server", lambda: healthy(api_url), proc, SERVER_START_TIMEOUT_S, log_path)
        yield api_url
    finally:
        stop(proc)


# What `python -m flows` serves (flows/__main__.py).
SERVED = (
    "produce-video/produce-video",
    "render-shots/render-shots",
    "campaign-batch/campaign-batch",
)


def _deployment_exists(api_url: str) -> bool:
    """Whether every deployment ``python -m flows`` serves is registered."""
    try:
        for name in SERVED:
            with urllib.request.urlopen(f"{api_url}/deployments/name/{name}", timeout=2) as resp:
                if resp.status != 200:
                    return False
    except OSError:
        return False
    return True


@contextmanager
def served_flows(
    settings: Settings, api_url: str, extra_env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Serve our flows (``python -m flows``) against ``api_url`` until the block exits.

    The flows read their ``Settings`` from the environment: ``extra_env`` (e.g. ``REEL_*``)
    is added to this process's environment for the child only.
    """
    env = {
        **os.environ,
        **(extra_env or {}),
        **QUIET,
        "PREFECT_API_URL": api_url,
        "PREFECT_RUNNER_POLL_FREQUENCY": os.environ.get("PREFECT_RUNNER_POLL_FREQUENCY", "1"),
    }
    log_path = settings.data_dir / "logs" / "served-flows.log"
    proc = _spawn([sys.executable, "-m", "flows"], env, log_path)
    try:
        _wait(
            "flow server",
            lambda: _deployment_exists(api_url),
            proc,
            SERVE_START_TIMEOUT_S,
            log_path,
        )
        yield proc
    finally:
        stop(proc, grace_s=15)


@contextmanager
def local_stack(settings: Settings, *, serve: bool | None = None) -> Iterator[Stack]:
    """Use the configured Prefect API, or start a local server when none is configured.

    Args:
        serve: serve the flows in a child process. By default only when we started the
            server ourselves; a configured server is assumed to have its own workers.
    """
    with ExitStack() as stack:
        api_url = os.environ.get("PREFECT_API_URL", "")
        started = not api_url
        if started:
            from prefect.settings import PREFECT_API_URL, temporary_settings

            api_url = stack.enter_context(prefect_server(settings))
            stack.enter_context(temporary_settings(updates={PREFECT_API_URL: api_url}))
        if serve if serve is not None else started:
            stack.enter_context(served_flows(settings, api_url))
        yield Stack(api_url=api_url, started_server=started)
