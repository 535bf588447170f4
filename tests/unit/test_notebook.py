"""Pipeline plumbing that needs no kernel: the kernels' environment and `-p` parameters."""

import json
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


def test_progress_lines_keep_finished_bars_and_sample_redraws():
    from workbench.stage_progress import ProgressLines

    lines = ProgressLines(every=10)
    assert lines.feed("\rrows  0%| 0/12", now=0.0) == ["rows  0%| 0/12"]  # the first look at a bar
    assert lines.feed("\rrows 25%| 3/12\rrows 50%| 6/12", now=4.0) == []  # redraws within 10 s: none
    assert lines.feed("\rrows 75%| 9/1", now=11.0) == ["rows 75%| 9/1"]  # the latest, even half written
    assert lines.feed("2\rrows 100%| 12/12\n", now=12.0) == ["rows 100%| 12/12"]  # a finished bar: always
    assert lines.feed("saved v001\nsaved v001\n", now=12.5) == ["saved v001"]  # once
    assert lines.feed("\x1b[Aweights 100%| 3/3\n", now=12.6) == ["weights 100%| 3/3"]  # no cursor moves
    assert lines.feed("\rtrain  10%| 1/10", now=13.0) == []
    assert lines.close() == ["train  10%| 1/10"]
    stuck = ProgressLines(every=10, still=60)  # only the clock moves: a line a minute, not every 10 s
    assert stuck.feed("\rround 1:  0%| 0/10 [00:00<?]", now=0.0) == ["round 1:  0%| 0/10 [00:00<?]"]
    assert stuck.feed("\rround 1:  0%| 0/10 [00:30<?]", now=30.0) == []
    assert stuck.feed("\rround 1:  0%| 0/10 [01:01<?]", now=61.0) == ["round 1:  0%| 0/10 [01:01<?]"]
    assert stuck.feed("\rround 1: 10%| 1/10 [01:12<10:48]", now=72.0) == ["round 1: 10%| 1/10 [01:12<10:48]"]


def test_text_progress_turns_tqdm_auto_into_text_lines_in_the_file(tmp_path, monkeypatch):
    import tqdm.auto as auto

    from workbench.stage_progress import PROGRESS_ENV, text_progress

    widget_bar = auto.tqdm
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    with text_progress() as fh:  # outside a pipeline: nothing changes
        assert fh is None and auto.tqdm is widget_bar
    monkeypatch.setenv(PROGRESS_ENV, str(tmp_path / "progress.log"))
    with text_progress() as fh:
        from tqdm.auto import tqdm  # what a stage does when it draws

        for _ in tqdm(range(5), desc="rows"):
            pass
        assert fh is not None and tqdm is not widget_bar
    assert auto.tqdm is widget_bar  # restored
    text = (tmp_path / "progress.log").read_text()
    assert "rows: 100%" in text and "5/5" in text and text.endswith("\n")


NOTEBOOK_CELL = """
import time
import ipywidgets as widgets
from workbench.notebook import press

class Demo:  # a panel in short: the work runs inside an Output widget, as Panel.busy does
    last_error = None
    status_line = widgets.HTML("<b>done</b>: demo")
    log = widgets.Output()

    def run(self):
        from tqdm.auto import tqdm

        with self.log:
            for _ in tqdm(range(3), desc="rows"):
                time.sleep(0.05)
        return 3

press(Demo())
"""


def test_a_stage_kernel_shows_its_progress_in_the_terminal_without_the_tcp_warning(tmp_path, capfd):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from workbench.notebook import execute_stage

    source = tmp_path / "demo.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(NOTEBOOK_CELL)], metadata={"kernelspec": {
        "display_name": "Python 3", "language": "python", "name": "python3"}}), str(source))
    execute_stage(source, tmp_path / "out.ipynb", {}, tmp_path, "demo", progress_bar=False)
    out, err = capfd.readouterr()
    assert "[pipeline] demo: rows: 100%" in out and "3/3" in out
    assert "[pipeline] demo: Demo.run: done: demo" in out
    assert "without encryption" not in out + err  # the kernel talks over IPC, not loopback TCP
    executed = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
    assert "100%" not in json.dumps(executed)  # the notebook is as a person would see it: no text bars
