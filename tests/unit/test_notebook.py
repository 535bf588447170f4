"""Pipeline plumbing that needs no kernel: the kernels' environment and `-p` parameters."""

import os
from pathlib import Path

import pytest
import typer

from workbench.cli import _parameter
from workbench.notebook import _environment, _kernel_env


def test_kernels_get_absolute_paths_and_the_secrets_of_this_process(tmp_path, monkeypatch):
    from workbench.settings import get_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKBENCH_PROMPTS_DIR", "my_prompts")  # relative: the kernel runs elsewhere
    monkeypatch.setenv("WORKBENCH_ARGILLA_API_KEY", "sekrit-key")
    get_settings.cache_clear()
    env = _kernel_env()
    assert env["WORKBENCH_PROMPTS_DIR"] == str(tmp_path / "my_prompts")
    assert Path(env["WORKBENCH_HOME"]).is_absolute() and env["HF_HUB_OFFLINE"] == "1"
    assert env["WORKBENCH_ARGILLA_API_KEY"] == "sekrit-key"  # a SecretStr, passed as its value
    get_settings.cache_clear()


def test_environment_is_restored_after_the_run(monkeypatch):
    monkeypatch.delenv("WORKBENCH_X_TEST", raising=False)
    monkeypatch.setenv("WORKBENCH_Y_TEST", "before")
    with _environment({"WORKBENCH_X_TEST": "1", "WORKBENCH_Y_TEST": "during"}):
        assert os.environ["WORKBENCH_X_TEST"] == "1" and os.environ["WORKBENCH_Y_TEST"] == "during"
    assert "WORKBENCH_X_TEST" not in os.environ and os.environ["WORKBENCH_Y_TEST"] == "before"


def test_cli_parameters_are_yaml_values():
    assert _parameter("n=60") == ("n", 60)
    assert _parameter("policy=auto") == ("policy", "auto")
    assert _parameter("students=[minilm-l6, smollm2-135m]") == ("students", ["minilm-l6", "smollm2-135m"])
    assert _parameter("teacher=null") == ("teacher", None)
    with pytest.raises(typer.Exit):
        _parameter("n60")
