"""User story: a training run killed with SIGKILL continues from its last checkpoint."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from workbench.store import run_folder, save_version
from workbench.tasks import load_task

pytestmark = pytest.mark.slow

CMD = [sys.executable, "-m", "workbench.cli", "train", "--task", "support_intents", "--student", "minilm-l6",
       "--epochs", "2", "--json"]


def _complete_checkpoints() -> list[int]:
    steps = []
    for state in run_folder("support_intents", "train").glob("*/checkpoints/checkpoint-*/trainer_state.json"):
        try:
            json.loads(state.read_text())
        except ValueError:
            continue  # being written right now
        steps.append(int(state.parent.name.split("-")[-1]))
    return sorted(steps)


def test_sigkill_then_same_command_resumes_from_the_checkpoint():
    spec = load_task("support_intents")
    rows = [{**r, "text": f"{r['text']} {tail}"} for tail in ("", "thanks", "cheers", "regards")
            for r in spec.seed_examples]
    save_version("support_intents", rows, {"teacher": "seeds"})
    proc = subprocess.Popen(CMD, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not _complete_checkpoints():
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    saved = _complete_checkpoints()
    assert saved, "no checkpoint within 5 minutes"
    run_dir = next(run_folder("support_intents", "train").iterdir())
    assert not (run_dir / "run.json").exists()  # it really stopped before the end

    again = subprocess.run(CMD, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    out = json.loads(again.stdout.strip().splitlines()[-1])
    assert out["run_dir"] == str(run_dir)
    assert out["resumed_from_step"] == saved[-1]
    # continued rather than restarted: only the steps after the checkpoint ran in the second process
    assert out["steps_this_run"] == out["steps"] - saved[-1] > 0
    steps = [json.loads(line)["step"] for line in (run_dir / "log.jsonl").read_text().splitlines()
             if "loss" in json.loads(line)]
    assert steps == sorted(steps) and len(steps) == len(set(steps))  # one log line per step, none repeated
    assert json.loads((run_dir / "run.json").read_text())["resumed_from_step"] == saved[-1]
