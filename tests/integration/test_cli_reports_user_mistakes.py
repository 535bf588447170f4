"""User story: a mistake on the command line ends in one `error: <what to fix>` line and exit
code 2, never in a traceback, whichever command and option it is in."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.settings import get_settings
from workbench.store import save_version
from workbench.tasks import load_task

# (command line, part of the message): each fails before any model is loaded.
MISTAKES = {
    "tasks show: unknown task": (["tasks", "show", "nope"], "nope/task.yaml: no such task spec; known tasks:"),
    "generate: unknown task": (["generate", "--task", "nope"], "no such task spec"),
    "generate: n out of range": (["generate", "--task", "support_intents", "--n", "0"],
                                 "--n must be between 1 and 100000 (you gave 0): rows wanted in the dataset"),
    "generate: unknown teacher": (["generate", "--task", "support_intents", "--teacher", "magic:x"], "magic:x"),
    "generate: missing teacher file": (["generate", "--task", "support_intents", "--teacher", "llamacpp:/nope.gguf"],
                                       "/nope.gguf"),
    "generate: missing plan file": (["generate", "--task", "support_intents", "--plan", "missing.yaml"],
                                    "plan missing.yaml does not exist"),
    "train: unknown student": (["train", "--task", "support_intents", "--student", "bert-huge"],
                               "unknown student 'bert-huge'"),
    "train: unknown dataset version": (["train", "--task", "support_intents", "--dataset", "synthetic/v999"],
                                       "no synthetic version 'v999' for task 'support_intents'; versions: ['v001']"),
    "train: full fine-tuning of a decoder": (["train", "--task", "support_replies", "--student", "smollm2-135m",
                                              "--method", "full"], "method='full' is for encoders"),
    "predict: unknown run": (["predict", "--run", "nope", "--text", "hi"], "no finished run 'nope'"),
    "evaluate: unknown strategy": (["evaluate", "--task", "support_intents", "--strategies", "magic"],
                                   "unknown strategies ['magic']"),
    "evaluate: missing student file": (["evaluate", "--task", "support_intents", "--strategies", "prompt",
                                        "--students", "/nope.gguf"], "GGUF file /nope.gguf does not exist"),
    "evaluate: unknown run": (["evaluate", "--task", "support_intents", "--strategies", "finetuned",
                               "--run", "nope"], "no finished run 'nope'"),
    "evaluate: unknown dataset version": (["evaluate", "--task", "support_intents", "--strategies", "retrieval",
                                           "--dataset", "reviewed/v999"], "no reviewed version 'v999'"),
    "review push: unknown version": (["review", "push", "--task", "support_intents", "--version", "v999"],
                                     "no synthetic version 'v999' for task 'support_intents'; versions: ['v001']"),
    "review pull: unknown policy": (["review", "pull", "--task", "support_intents", "--policy", "never"],
                                    "--policy must be human, wait or auto, not 'never'"),
    "pipeline run: unknown stage": (["pipeline", "run", "--task", "support_intents", "--stages", "magic"],
                                    "unknown stage(s) ['magic']"),
    "argilla reindex: not installed": (["argilla", "reindex"], "argilla-server is not installed in"),
}


@pytest.fixture
def one_version(monkeypatch, tmp_path, unused_port):
    for task in ("support_intents", "support_replies"):
        save_version(task, load_task(task).seed_examples, {})
    # No argilla-server here, and no other Argilla on the port it looks at.
    monkeypatch.setenv("WORKBENCH_ARGILLA_VENV", str(tmp_path / "no-venv"))
    monkeypatch.setenv("WORKBENCH_ARGILLA_PORT", str(unused_port))
    get_settings.cache_clear()


@pytest.mark.parametrize("args, message", list(MISTAKES.values()), ids=list(MISTAKES))
def test_a_mistake_is_one_error_line_with_exit_code_2(one_version, args, message):
    out = CliRunner().invoke(app, args)
    # An uncaught exception would be out.exception with exit code 1; a clean exit is SystemExit.
    assert isinstance(out.exception, SystemExit), out.exc_info
    assert out.exit_code == 2, out.output
    assert "error: " in out.output and message in out.output, out.output
    assert "Traceback" not in out.output


def test_the_installed_way_prints_no_traceback(one_version):
    # A real process, as a terminal runs it: the message on stderr, nothing on stdout.
    run = subprocess.run([sys.executable, "-m", "workbench.cli", "review", "push", "--task", "support_intents",
                          "--version", "v999"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("error: no synthetic version 'v999'") and "versions: ['v001']" in run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""
