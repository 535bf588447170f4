"""A user runs `workbench argilla up|down|status|credentials` on a laptop: no Docker, no root."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest


rg = pytest.importorskip("argilla")


def _processes_under(root: Path) -> list[str]:
    """Command lines of live processes that mention the service's folder."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        if proc.info["pid"] == os.getpid() or proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        cmd = " ".join(proc.info["cmdline"] or [])
        if str(root) in cmd:
            found.append(cmd)
    return found


def test_up_is_idempotent_keeps_data_and_down_leaves_no_process(tmp_path, start_argilla):
    root = tmp_path / "argilla"
    argilla = start_argilla(root)
    try:
        status = argilla.status()
        assert status.healthy and all(p["alive"] for p in status.processes.values())
        started = time.monotonic()
        again = argilla.up()
        assert time.monotonic() - started < 5 and again.processes == status.processes

        client = argilla.client()
        settings = rg.Settings(fields=[rg.TextField(name="text")], questions=[rg.LabelQuestion("label", ["a", "b"])])
        dataset = rg.Dataset(name="keep", settings=settings, client=client,
                             workspace=rg.Workspace(name="w", client=client).create()).create()
        dataset.records.log([{"text": f"row {i}"} for i in range(3)])
        assert argilla.status().records == 3

        creds = argilla.credentials()
        assert stat.S_IMODE(argilla.credentials_file.stat().st_mode) == 0o600
        assert creds.password not in repr(creds) and creds.api_key not in repr(creds)
        for path in [*argilla.logs_dir.iterdir(), argilla.state_file]:
            text = path.read_text(errors="replace")
            assert creds.password not in text and creds.api_key not in text, path
    finally:
        argilla.down()

    assert _processes_under(root) == []
    assert not argilla.status().healthy

    argilla.up()
    try:
        records = list(argilla.client().datasets("keep", workspace="w").records())
        assert sorted(r.fields["text"] for r in records) == ["row 0", "row 1", "row 2"]
    finally:
        argilla.down()
    assert _processes_under(root) == []


def test_a_busy_port_is_named_and_a_public_host_warns(tmp_path, monkeypatch):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        port = squatter.getsockname()[1]
        squatter.listen()
        result = subprocess.run([sys.executable, "-m", "workbench.cli", "argilla", "up", "--host", "0.0.0.0",
                                 "--port", str(port)], capture_output=True, text=True, env=os.environ.copy())
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "already in use" in result.stderr
    assert "warning: binding 0.0.0.0" in result.stderr
    status = json.loads(subprocess.run([sys.executable, "-m", "workbench.cli", "argilla", "status", "--json"],
                                       capture_output=True, text=True, check=True).stdout.splitlines()[-1])
    assert status["healthy"] is False and not any(p["alive"] for p in status["processes"].values())
