"""User story: a generation run killed with SIGKILL carries on where it stopped."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.generate.journal import Journal
from workbench.store import latest_version, run_folder

pytestmark = pytest.mark.slow

CMD = [sys.executable, "-m", "workbench.cli", "generate", "--task", "support_intents", "--n", "60",
       "--slots", "4", "--batch-size", "4", "--json"]


def _journal() -> Path | None:
    found = list(run_folder("support_intents", "generate").glob("*/journal.jsonl"))
    return found[0] if found else None


def test_sigkill_then_same_command_finishes_without_duplicates_or_losses():
    # A session of its own, so the kill takes the teacher processes too, like a killed terminal.
    proc = subprocess.Popen(CMD, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 600
    while time.time() < deadline:
        path = _journal()
        if path and Journal(path).count() >= 8:
            break
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
        time.sleep(0.5)
    else:
        pytest.fail("the run wrote nothing to its journal in 10 minutes")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(1)
    before = {e["job"]: e["text"] for e in Journal(path).entries()}
    assert 8 <= len(before) and latest_version("support_intents") is None  # it really stopped halfway

    again = subprocess.run(CMD, capture_output=True, text=True, timeout=1200)
    assert again.returncode == 0, again.stderr[-3000:]
    out = json.loads(again.stdout.strip().splitlines()[-1])
    assert out["resumed"] is True and out["kept"] == 60

    lines = [json.loads(line) for line in path.read_text().splitlines()]
    jobs = [e["job"] for e in lines]
    assert len(jobs) == len(set(jobs)), "a prompt was answered twice"
    after = {e["job"]: e["text"] for e in lines}
    assert all(after[job] == text for job, text in before.items()), "an output saved before the kill was lost"
    rows = latest_version("support_intents").load()
    assert len(rows) == 60 and len(set(rows["id"])) == 60
    assert set(rows["job"]) <= set(after)  # every row traces back to a journaled teacher output
