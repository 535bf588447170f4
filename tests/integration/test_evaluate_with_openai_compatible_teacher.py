"""User story: a generation task's teacher (and judge) is an OpenAI-compatible server: here
llama.cpp's own server on loopback with the bundled SmolLM2, log-probabilities switched on."""


import pytest

from workbench.evaluate import EvaluateConfig, run_evaluate
from workbench.settings import get_settings

pytestmark = pytest.mark.slow


def test_remote_teacher_writes_and_judges_replies(openai_server, monkeypatch):
    url, key = openai_server
    monkeypatch.setenv("WORKBENCH_OPENAI_API_KEY", key)
    get_settings.cache_clear()
    result = run_evaluate(EvaluateConfig(task="support_replies", strategies=["teacher"], teacher=f"openai:smollm2@{url}",
                                         limit=1, shots=1, max_new_tokens=8, progress=False))
    [row] = result.rows
    assert row["model"] == "teacher:smollm2" and row["predictions"][0].strip()
    assert row["parameters"] is None and row["disk_mb"] is None  # a remote model's size is unknown here
    assert 0 < row["new_tokens_mean"] <= 8
    judge = result.judge
    assert judge["teacher"].startswith("openai:smollm2@") and judge["teacher"].endswith("?mode=chat")
    # the rating came from the server's log-probabilities of the tokens "1".."5", not from parsing text
    assert 0 < judge["rating_mass"] <= 1 and 0 <= row["judge"] <= 1
    assert judge["calibration"]["status"] == "uncalibrated"
    md = result.report_md.read_text()
    assert "| teacher | teacher:smollm2 |" in md and key not in md
    assert key not in (result.out_dir / "results.json").read_text()
