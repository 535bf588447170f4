"""Headless Debian Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def artifacts() -> Path:
    """Screenshots kept for people to look at: tests/artifacts/ (git-ignored)."""
    path = Path(__file__).resolve().parents[1] / "artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def browser_page():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: run `make setup` (it installs the chromium package)")
    with sync_api.sync_playwright() as p:
        # Playwright gives each launch a fresh, empty profile; the flags keep Chromium off
        # the network (closed here) and let it run as root.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        yield page
        browser.close()


@pytest.fixture
def sign_in():
    """``sign_in(page, url, username, password)``: log into Argilla's UI."""

    def go(page, url: str, username: str, password: str) -> None:
        page.goto(f"{url}/sign-in")
        page.fill("input[name=Username]", username)
        page.fill("input[name=Password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/")

    return go


@pytest.fixture
def jupyterlab(tmp_path):
    """JupyterLab on 127.0.0.1 serving a copy of the notebooks; stopped after the test."""
    root = tmp_path / "lab"
    shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns("*.py"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    settings = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)  # no "get notified about news?" toast over the cells
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    log = (tmp_path / "jupyterlab.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}", "--LabApp.news_url=",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
         *(["--allow-root"] if os.getuid() == 0 else [])],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        # Runtime and config of its own: no user's settings leak in, no secret lands in their home.
        env={**os.environ, "HF_HUB_OFFLINE": "1", "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
             "JUPYTER_CONFIG_DIR": str(tmp_path / "config")})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/api/status", params={"token": token}, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, (tmp_path / "jupyterlab.log").read_text()[-2000:]
        time.sleep(0.5)
    else:
        pytest.fail("JupyterLab did not start in 90 s:\n" + (tmp_path / "jupyterlab.log").read_text()[-2000:])
    yield url, token
    os.killpg(proc.pid, 15)
    proc.wait(timeout=30)
