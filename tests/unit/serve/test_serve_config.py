"""ServeConfig, the API key file, and the mistakes `workbench serve` refuses before it loads anything."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from workbench.cli import app as cli
from workbench.errors import ConfigError
from workbench.serve import ServeConfig, ServeError, api_key, build_app, key_path
from workbench.serve.keys import matches
from workbench.settings import get_settings


def test_formats_split_into_a_default_and_per_task_overrides():
    cfg = ServeConfig(tasks=["a", "b"], format=["onnx-int8", "b=pytorch"])
    assert (cfg.format_of("a"), cfg.format_of("b")) == ("onnx-int8", "pytorch")
    with pytest.raises(ConfigError, match="give one format for every task"):
        ServeConfig(format=["onnx", "gguf"])
    with pytest.raises(ConfigError, match="unknown format 'tflite'"):
        ServeConfig(format="tflite")
    with pytest.raises(ConfigError, match="write --model as TASK=VALUE"):
        ServeConfig(models=["just-a-path"])
    with pytest.raises(ConfigError, match="port must be between 0 and 65535"):
        ServeConfig(port=70000)


def test_served_tasks_are_the_tasks_the_models_and_the_router_once_each():
    cfg = ServeConfig(tasks=["a", "b"], models=["b=/x", "c=/y"], router="r")
    assert cfg.served_tasks() == ["a", "b", "c", "r"] and cfg.models == {"b": "/x", "c": "/y"}


def test_no_auth_is_refused_off_loopback_before_any_model_loads():
    with pytest.raises(ServeError, match="--no-auth is refused on host '0.0.0.0'"):
        build_app(ServeConfig(tasks=["support_intents"], host="0.0.0.0", auth=False))


def test_the_key_is_made_once_private_and_compared_exactly():
    assert api_key(create=False) is None
    key = api_key()
    path = key_path()
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    assert api_key() == key and len(key) > 30
    assert matches(f"Bearer {key}", key) and matches(f"bearer {key}", key)
    assert not matches(key, key) and not matches(f"Bearer {key}x", key) and not matches(None, key)


def test_cli_shows_the_key_and_refuses_a_task_without_a_run():
    shown = CliRunner().invoke(cli, ["serve", "--show-key"])
    assert shown.exit_code == 0 and api_key() in shown.output and str(key_path()) in shown.output
    empty = CliRunner().invoke(cli, ["serve"])
    assert empty.exit_code == 2 and "no task to serve" in empty.output
    missing = CliRunner().invoke(cli, ["serve", "--task", "support_intents"])
    assert missing.exit_code == 2 and "`workbench train --task support_intents`" in missing.output
    typo = CliRunner().invoke(cli, ["serve", "--model", "support_intents=/no/such/run"])
    assert typo.exit_code == 2 and "no finished run '/no/such/run'" in typo.output
    bad_port = CliRunner().invoke(cli, ["serve", "--task", "x", "--port", "-1"])
    assert bad_port.exit_code == 2 and "--port must be between 0 and 65535" in bad_port.output


def test_a_format_without_its_export_names_the_export_command(make_run_info):
    run = get_settings().home / "runs" / "support_intents" / "train" / "minilm-l6-reviewed-v003-abcd1234"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps(make_run_info()))
    result = CliRunner().invoke(cli, ["serve", "--task", "support_intents", "--format", "onnx-int8"])
    assert result.exit_code == 2, result.output
    assert ("`workbench export --run support_intents/minilm-l6-reviewed-v003-abcd1234 --format onnx-int8`"
            in result.output)
