"""Case 10: a number out of its limits is told in plain words (the option, its limits, the value
given, what it is), never a pydantic dump; the limits are in the help and the config fields."""

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.generate import GenerateConfig

# (command line, the message): each fails before any task data or model is read.
OUT_OF_RANGE = {
    "generate --n -5": (["generate", "--task", "support_intents", "--n", "-5"],
                        "--n must be between 1 and 100000 (you gave -5): rows wanted in the dataset"),
    "generate --n 0": (["generate", "--task", "support_intents", "--n", "0"], "--n must be between 1 and 100000 "
                                                                              "(you gave 0)"),
    "generate --n 1000000000": (["generate", "--task", "support_intents", "--n", "1000000000"],
                                "--n must be between 1 and 100000 (you gave 1000000000)"),
    "generate --slots 0": (["generate", "--task", "support_intents", "--slots", "0"],
                           "--slots must be between 1 and 256 (you gave 0): parallel sequences"),
    "generate --batch-size 0": (["generate", "--task", "support_intents", "--batch-size", "0"],
                                "--batch-size must be between 1 and 10000 (you gave 0)"),
    "train --epochs 0": (["train", "--task", "support_intents", "--epochs", "0"],
                         "--epochs must be between 1 and 100 (you gave 0): passes over the training rows"),
    "train --max-steps 0": (["train", "--task", "support_intents", "--max-steps", "0"],
                            "--max-steps must be between 1 and 1000000 (you gave 0)"),
    "evaluate --limit 0": (["evaluate", "--task", "support_intents", "--limit", "0"],
                           "--limit must be between 1 and 100000 (you gave 0): score only N held-out rows"),
    "review pull --min-reviewed -1": (["review", "pull", "--task", "support_intents", "--min-reviewed", "-1"],
                                      "--min-reviewed must be between 0 and 10000000 (you gave -1)"),
    "predict --batch-size 0": (["predict", "--run", "r", "--text", "hi", "--batch-size", "0"],
                               "--batch-size must be between 1 and 4096 (you gave 0)"),
}


@pytest.mark.parametrize("args, message", list(OUT_OF_RANGE.values()), ids=list(OUT_OF_RANGE))
def test_a_number_out_of_range_is_told_in_plain_words(args, message):
    """Case 10: --n -5, --n 0, --n 1000000000, --slots 0, --batch-size 0 and the other commands' numbers."""
    out = CliRunner().invoke(app, args)
    assert isinstance(out.exception, SystemExit) and out.exit_code == 2, out.exc_info
    assert out.output.startswith(f"error: {message}"), out.output
    assert "Input should be" not in out.output and "validation error" not in out.output, out.output


def test_the_limits_are_documented_and_a_notebook_gets_the_same_words():
    """Case 10: the help shows the limits, the config fields carry them, a notebook gets the same words."""
    from workbench.errors import ConfigError

    helps = {"generate": ["(1 to 100000)", "(1 to 256)", "(1 to 10000)"], "train": ["(1 to 100)"],
             "evaluate": ["(1 to 100000)"], "predict": ["(1 to 4096)"]}
    for command, parts in helps.items():
        text = " ".join(CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "300"}).output.split())
        assert all(p in text for p in parts), (command, text)
    assert GenerateConfig.model_fields["n"].description.endswith("Limits: 1 to 100000.")
    # A notebook's GenerateConfig(n=0) says it in the same words, with the field's name.
    with pytest.raises(ConfigError) as info:
        GenerateConfig(task="support_intents", n=0)
    assert str(info.value) == "n must be between 1 and 100000 (you gave 0): rows wanted in the dataset"


def test_the_installed_command_prints_one_line_and_no_traceback():
    """Case 10, through the installed `workbench` script as a terminal runs it."""
    script = Path(sys.executable).with_name("workbench")
    assert script.is_file(), f"the installed entry point {script} is missing: pip install -e ."
    run = subprocess.run([str(script), "generate", "--task", "support_intents", "--n", "-5"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert run.stderr == "error: --n must be between 1 and 100000 (you gave -5): rows wanted in the dataset\n"
    assert run.stdout == ""
