"""User story: point generation at an OpenAI-compatible server (here llama.cpp's own server,
started on loopback with the bundled SmolLM2), with the key only in the environment."""

import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from workbench.generate import GenerateConfig, run_generate
from workbench.generate.teachers import TeacherSpecError
from workbench.models import gguf_path
from workbench.settings import get_settings
from workbench.store import latest_version

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port, key = _free_port(), "wb-" + secrets.token_hex(12)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path("smollm2-135m-instruct")),
         "--model_alias", "smollm2", "--host", "127.0.0.1", "--port", str(port), "--api_key", key,
         "--n_ctx", "2048", "--n_threads", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            req = urllib.request.Request(f"{url}/models", headers={"Authorization": f"Bearer {key}"})
            urllib.request.urlopen(req, timeout=2)
            break
        except OSError:
            assert proc.poll() is None, "llama_cpp.server exited"
            time.sleep(0.5)
    yield url, key
    proc.terminate()
    proc.wait(timeout=30)


def _use_key(monkeypatch, key):
    monkeypatch.setenv("WORKBENCH_OPENAI_API_KEY", key)
    get_settings.cache_clear()


def test_wrong_key_and_wrong_url_fail_fast_and_change_nothing(server, monkeypatch):
    url, _ = server
    _use_key(monkeypatch, "not-the-key")
    with pytest.raises(TeacherSpecError, match="rejected the API key; set WORKBENCH_OPENAI_API_KEY"):
        run_generate(GenerateConfig(task="support_intents", n=4, teacher=f"openai:smollm2@{url}", progress=False))
    with pytest.raises(TeacherSpecError, match=r"cannot reach http://127.0.0.1:\d+/v1; is the server running"):
        run_generate(GenerateConfig(task="support_intents", n=4, progress=False,
                                    teacher=f"openai:smollm2@http://127.0.0.1:{_free_port()}/v1"))
    assert latest_version("support_intents") is None


def test_generate_through_the_server_keeps_the_key_out_of_every_file(server, monkeypatch):
    url, key = server
    _use_key(monkeypatch, key)
    result = run_generate(GenerateConfig(task="support_intents", n=10, teacher=f"openai:smollm2@{url}",
                                         batch_size=10, progress=False))
    assert result.manifest["teacher"] == f"openai:smollm2@{url}?mode=chat"
    assert result.counts["prompts"] >= 10 and result.counts["kept"] >= 1
    home = get_settings().home
    for path in [*home.rglob("*"), *result.version.path.rglob("*")]:
        if path.is_file():
            assert key.encode() not in path.read_bytes(), f"API key written to {path}"
    assert key not in json.dumps(result.to_dict())
