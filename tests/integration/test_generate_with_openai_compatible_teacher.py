"""User story: point generation at an OpenAI-compatible server (here llama.cpp's own server,
started on loopback with the bundled SmolLM2), with the key only in the environment."""

import json

import pytest

from workbench.generate import GenerateConfig, run_generate
from workbench.generate.teachers import TeacherSpecError
from workbench.settings import get_settings
from workbench.store import latest_version

pytestmark = pytest.mark.slow


def _use_key(monkeypatch, key):
    monkeypatch.setenv("WORKBENCH_OPENAI_API_KEY", key)
    get_settings.cache_clear()


def test_wrong_key_and_wrong_url_fail_fast_and_change_nothing(openai_server, unused_port, monkeypatch):
    url, _ = openai_server
    _use_key(monkeypatch, "not-the-key")
    with pytest.raises(TeacherSpecError, match="rejected the API key; set WORKBENCH_OPENAI_API_KEY"):
        run_generate(GenerateConfig(task="support_intents", n=4, teacher=f"openai:smollm2@{url}", progress=False))
    with pytest.raises(TeacherSpecError, match=r"cannot reach http://127.0.0.1:\d+/v1; is the server running"):
        run_generate(GenerateConfig(task="support_intents", n=4, progress=False,
                                    teacher=f"openai:smollm2@http://127.0.0.1:{unused_port}/v1"))
    assert latest_version("support_intents") is None


def test_generate_through_the_server_keeps_the_key_out_of_every_file(openai_server, monkeypatch, task_copy):
    url, key = openai_server
    _use_key(monkeypatch, key)
    # One round: the 1-thread server answers a prompt in about 2 s, and a row or two is all
    # this test needs to see where the key could have gone.
    spec = task_copy / "task.yaml"
    spec.write_text(spec.read_text().replace("max_rounds: 3", "max_rounds: 1"))
    result = run_generate(GenerateConfig(task=str(spec), n=4, teacher=f"openai:smollm2@{url}",
                                         batch_size=4, progress=False))
    assert result.manifest["teacher"] == f"openai:smollm2@{url}?mode=chat"
    assert result.counts["prompts"] >= 4 and result.counts["kept"] >= 1
    home = get_settings().home
    for path in [*home.rglob("*"), *result.version.path.rglob("*")]:
        if path.is_file():
            assert key.encode() not in path.read_bytes(), f"API key written to {path}"
    assert key not in json.dumps(result.to_dict())
