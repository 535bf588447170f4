"""Running the service: :func:`run_serve` (the CLI's ``workbench serve``, blocking),
:func:`serve_in_background` (a real server on loopback in a thread: tests, notebooks) and
:func:`serve_in_subprocess` (one in a process of its own: load tests, bench/serve.py).

Both build the app once (models loaded once, before the port opens), mask the API key in every
log record of the process (uvicorn's access log prints no header, and so never the key; a key
pasted into a URL is masked too) and run uvicorn.

Example:
    >>> with serve_in_background(ServeConfig(tasks=["support_intents"], port=0)) as server:  # doctest: +SKIP
    ...     httpx.post(f"{server.url}/v1/tasks/support_intents/classify", json={"texts": ["hi there"]},
    ...                headers=server.headers).json()["results"][0]["label"]
    'account_access'
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Mapping

from workbench.secrets import scrub_all_logging
from workbench.serve.app import build_app
from workbench.serve.config import ServeConfig, is_loopback
from workbench.serve.keys import key_path

STARTUP_SECONDS = 60


def _server(cfg: ServeConfig, models: Mapping[str, Any] | None, log_config: Any):
    import uvicorn

    app = build_app(cfg, models)
    key = app.state.service.key
    if key:
        scrub_all_logging([key])
    config = uvicorn.Config(app, host=cfg.host, port=cfg.port, access_log=cfg.access_log, log_config=log_config,
                            log_level="info", lifespan="on", timeout_graceful_shutdown=5)
    return app, uvicorn.Server(config)


def startup_lines(cfg: ServeConfig, app, url: str) -> list[str]:
    """What the server tells its owner at start: the tasks, where it listens, where the key is (not the key)."""
    service = app.state.service
    lines = [f"serving {t} ({s.objective}, {s.format}) from {s.source}" for t, s in service.served.items()]
    if cfg.router:
        lines.append(f"router: {cfg.router} -> {', '.join(service.served[cfg.router].labels or [])}")
    lines.append(f"listening on {url} (API docs: {url}/docs)")
    if not is_loopback(cfg.host):
        lines.append(f"warning: {cfg.host} reaches beyond this machine and the service speaks plain HTTP; the API key "
                     "is its only guard (put a TLS proxy in front)")
    lines.append(f"API key: in {key_path()} (`workbench serve --show-key`); send 'Authorization: Bearer <key>'"
                 if service.key else "no API key (--no-auth, loopback only)")
    return lines


def run_serve(cfg: ServeConfig, echo=print) -> None:
    """Load every task's student, then serve until interrupted (Ctrl-C)."""
    from uvicorn.config import LOGGING_CONFIG

    app, server = _server(cfg, None, LOGGING_CONFIG)
    host = f"[{cfg.host}]" if ":" in cfg.host else cfg.host
    for line in startup_lines(cfg, app, f"http://{host}:{cfg.port}"):
        echo(line)
    server.run()


@dataclass
class RunningServer:
    """A server started by :func:`serve_in_background`: ``url``, ``headers`` (the key), ``stop()``."""

    url: str
    key: str | None
    app: Any = field(repr=False)
    _server: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)

    def __enter__(self) -> "RunningServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_in_background(cfg: ServeConfig, models: Mapping[str, Any] | None = None) -> RunningServer:
    """Start the service in a daemon thread (``port=0``: a free port) and return once it accepts connections.

    Logging is left as the process set it (uvicorn's records propagate to the root logger).
    """
    app, server = _server(cfg, models, None)
    thread = threading.Thread(target=server.run, name="workbench-serve", daemon=True)
    thread.start()
    for _ in range(STARTUP_SECONDS * 100):
        if server.started or not thread.is_alive():
            break
        thread.join(0.01)
    if not server.started:
        server.should_exit = True
        raise RuntimeError(f"the server did not start on {cfg.host}:{cfg.port} (see the log above)")
    port = server.servers[0].sockets[0].getsockname()[1]
    host = f"[{cfg.host}]" if ":" in cfg.host else cfg.host
    return RunningServer(f"http://{host}:{port}", app.state.service.key, app, server, thread)


@dataclass
class ServiceProcess:
    """A server started by :func:`serve_in_subprocess`: ``url``, ``headers``, ``stop()``."""

    url: str
    key: str | None
    proc: Any = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except Exception:
            self.proc.kill()

    def __enter__(self) -> "ServiceProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_in_subprocess(cfg: ServeConfig, timeout: float = STARTUP_SECONDS) -> ServiceProcess:
    """:func:`run_serve` in a process of its own (``port=0``: a free port), returned once ``/health`` answers.

    For load tests: a client in the server's own process would share its interpreter lock and slow it.
    """
    import socket
    import subprocess
    import sys
    import time

    import httpx

    from workbench.serve.keys import api_key

    if cfg.port == 0:
        with socket.socket() as s:
            s.bind((cfg.host, 0))
            cfg = cfg.model_copy(update={"port": s.getsockname()[1]})
    key = api_key() if cfg.auth else None  # made here, so the child finds it
    code = "import sys; from workbench.serve import ServeConfig, run_serve; " \
           "run_serve(ServeConfig.model_validate_json(sys.argv[1]), echo=lambda line: None)"
    proc = subprocess.Popen([sys.executable, "-c", code, cfg.model_dump_json()],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    host = f"[{cfg.host}]" if ":" in cfg.host else cfg.host
    url, deadline = f"http://{host}:{cfg.port}", time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}; run `workbench serve` to see why")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return ServiceProcess(url, key, proc)
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the server did not answer on {url} within {timeout:.0f} s")
