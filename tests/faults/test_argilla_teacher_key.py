"""A teacher server (or a proxy in front of it) answers with an error that echoes the API key."""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from workbench.settings import get_settings


class _EchoingServer(BaseHTTPRequestHandler):
    """OpenAI-compatible enough for the model check; every completion is a 401 quoting the key."""

    calls: list[str] = []

    def log_message(self, *args):  # keep the test's output quiet
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.calls.append(self.path)
        self._send(200, {"object": "list", "data": [{"id": "echo", "object": "model", "owned_by": "me"}]})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.calls.append(self.path)
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        self._send(401, {"error": {"message": f"Incorrect API key provided: {key}. Check it at the proxy.",
                                   "type": "invalid_request_error", "code": "invalid_api_key"}})


@pytest.fixture
def echoing_server():
    _EchoingServer.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", _EchoingServer.calls
    server.shutdown()


def test_a_key_echoed_by_the_teacher_server_reaches_no_stream_and_no_file(echoing_server, tmp_path):
    """Case 6: the server's error quotes the key; neither output stream nor any file under the home
    holds it, distilabel's own log included (and that log is 0600), and the run ends in one line."""
    url, calls = echoing_server
    key = "sk-wb-" + secrets.token_hex(16)
    env = {**os.environ, "WORKBENCH_OPENAI_API_KEY": key}
    result = subprocess.run([sys.executable, "-m", "workbench.cli", "generate", "--task", "support_intents",
                             "--n", "4", "--batch-size", "4", "--teacher", f"openai:echo@{url}"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert any(c.endswith("/chat/completions") for c in calls), "the teacher was never asked"
    assert result.returncode == 2, result.stderr[-3000:]
    for stream in (result.stdout, result.stderr):
        # rich wraps long log lines on a pipe: a key split over two lines is still the key.
        assert key not in re.sub(r"\s+", "", stream)
    assert "Traceback" not in result.stderr.splitlines()[-1]
    assert result.stderr.splitlines()[-1].startswith("error: ")

    home = get_settings().home
    logs = list(home.rglob("pipeline.log"))
    assert logs, "distilabel's log should be kept for the user to read"
    for path in [*home.rglob("*"), *(tmp_path / "datasets").rglob("*")]:
        if path.is_file():
            assert key.encode() not in path.read_bytes(), f"API key written to {path}"
    for log in logs:
        assert stat.S_IMODE(log.stat().st_mode) == 0o600, log
        assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700, log.parent


def test_an_echoed_key_stays_out_of_the_evaluation_error(echoing_server, monkeypatch):
    """Case 6 (evaluate): the OpenAI-compatible teacher as a strategy fails with one clear line, keyless."""
    from workbench.evaluate.generators import OpenAIGenerator
    from workbench.generate.teachers import TeacherSpec, TeacherSpecError
    from workbench.tasks import load_task

    url, _ = echoing_server
    key = "sk-wb-" + secrets.token_hex(16)
    monkeypatch.setenv("WORKBENCH_OPENAI_API_KEY", key)
    get_settings.cache_clear()
    generator = OpenAIGenerator(TeacherSpec.parse(f"openai:echo@{url}"), load_task("support_replies"),
                                lambda text: [], max_new_tokens=8)
    with pytest.raises(TeacherSpecError) as err:
        generator.generate("my order is late")
    assert key not in str(err.value) and "HTTP 401" in str(err.value)
    assert err.value.__suppress_context__ and err.value.__cause__ is None
