"""Races and versions: two identical runs at once, a kill between saving and recording a
version, version numbers, and which version a run names as its parent (issue 13, cases 1, 2, 4).

The runs here start from a journal answered by hand (tests/faults/runs_tiny.py), so only
curation and saving run, never a teacher.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from runs_tiny import TASK, answer_by_hand, cli, config, write_task

from workbench.errors import WorkbenchError
from workbench.generate import run_generate
from workbench.settings import get_settings
from workbench.store import list_versions, save_version


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PROMPTS_DIR", str(write_task(tmp_path)))
    get_settings.cache_clear()


def _pid_file(cfg) -> Path:
    from runs_tiny import run_dir

    return get_settings().home / "locks" / TASK / "generate" / f"{run_dir(cfg).name}.pid"


def test_case1_a_second_identical_generate_waits_for_the_first_and_returns_its_version(tiny, monkeypatch):
    """Case 1: two identical `generate` commands at once: the second refuses when told not to
    wait, naming the first one's pid, or waits and returns the first one's version; one version."""
    cfg = config(seed=5)
    answer_by_hand(cfg)
    first = subprocess.Popen(cli(cfg), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        deadline = time.time() + 3  # the first run is still loading its embedder by then
        while time.time() < deadline and not _pid_file(cfg).is_file():
            time.sleep(0.02)
        monkeypatch.setenv("WORKBENCH_RUN_LOCK_TIMEOUT", "0")
        get_settings.cache_clear()
        try:
            refused = run_generate(cfg)  # told not to wait
        except WorkbenchError as exc:
            refused = exc
        monkeypatch.delenv("WORKBENCH_RUN_LOCK_TIMEOUT")
        get_settings.cache_clear()
        second = run_generate(cfg)  # waits for the first, then finds its version
        out, err = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, 9)
    assert first.returncode == 0, err[-3000:]
    saved = json.loads(out.strip().splitlines()[-1])
    assert [v.version for v in list_versions(TASK)] == ["v001"], "both runs saved a version"
    assert second.reused and second.version.version == saved["version"] == "v001"
    assert f"another run of this command is in progress (pid {first.pid}" in str(refused)
    assert not _pid_file(cfg).exists()  # the holder's pid goes with the lock


def test_case1_runs_started_together_on_a_fresh_home_build_the_model_cache_once(tmp_path, monkeypatch):
    """Case 1 (fresh home): two teachers starting together both re-lay-out the GGUF into the
    model cache; one must build it while the other waits, never both into one half-written file."""
    import llama_cpp

    from workbench.llamacpp import batched_gguf

    calls = []

    def quantize(src, dst, params):  # llama.cpp's, slowed down: a second caller arrives meanwhile
        calls.append(dst)
        Path(dst.decode()).write_bytes(b"GGUF")
        time.sleep(0.5)
        with open(dst.decode(), "ab") as fh:
            fh.write(b"-complete")
        return 0

    monkeypatch.setattr(llama_cpp, "llama_model_quantize", quantize)
    monkeypatch.setenv("WORKBENCH_MODELS_DIR", str(tmp_path / "fresh-models"))
    get_settings.cache_clear()
    with ThreadPoolExecutor(2) as pool:
        paths = list(pool.map(lambda _: batched_gguf("gemma3-270m"), range(2)))
    assert len(calls) == 1 and paths[0] == paths[1] and paths[0].read_bytes() == b"GGUF-complete"
    assert sorted(p.name for p in paths[0].parent.iterdir() if "partial" in p.name) == []


def test_case1_the_waiting_run_says_who_holds_the_lock_and_a_timeout_refuses(tmp_path, monkeypatch, capsys):
    """Case 1 (the lock itself): a waiting run says whom it waits for; after its timeout it refuses."""
    from workbench.locks import RunInProgressError, run_lock

    monkeypatch.setenv("WORKBENCH_RUN_LOCK_TIMEOUT", "0.3")
    get_settings.cache_clear()
    held, release = threading.Event(), threading.Event()

    def holder():
        with run_lock("t", "train", "run-1"):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(10)
    with pytest.raises(RunInProgressError, match=f"pid {os.getpid()}"):
        with run_lock("t", "train", "run-1"):
            pass
    assert f"waiting for another run of this command (pid {os.getpid()})" in capsys.readouterr().err
    release.set()
    thread.join()
    with run_lock("t", "train", "run-1", timeout=0):  # free again
        pass


def test_case1_versions_saved_at_once_get_numbers_of_their_own():
    """Case 1 (version numbers): writers saving at the same moment never choose the same number."""
    with ThreadPoolExecutor(4) as pool:
        saved = list(pool.map(lambda i: save_version(TASK, [{"id": str(i), "text": f"row {i}"}], {"by": "hand"}),
                              range(4)))
    assert sorted(v.version for v in saved) == ["v001", "v002", "v003", "v004"]
    assert [v.version for v in list_versions(TASK)] == ["v001", "v002", "v003", "v004"]


def test_case2_a_kill_after_the_version_is_renamed_in_but_before_result_json_returns_that_version(tiny):
    """Case 2: a kill after the dataset folder is renamed into place, before result.json is
    written: the next identical command returns that version, never a second copy."""
    cfg = config(seed=5)
    answer_by_hand(cfg)
    first = run_generate(cfg)
    (first.run_dir / "result.json").unlink()  # what such a kill leaves: the version, no result.json
    again = run_generate(cfg)
    assert again.version.version == first.version.version == "v001" and again.reused
    assert [v.version for v in list_versions(TASK)] == ["v001"]
    assert json.loads((first.run_dir / "result.json").read_text()) == {"version": "v001"}


def test_case4_a_run_with_a_new_seed_has_no_parent(tiny):
    """Case 4: a run with a new --seed (no plan) starts a dataset: it lists no parent version."""
    for seed in (0, 5):
        answer_by_hand(config(seed=seed))
    earlier = run_generate(config(seed=0))
    later = run_generate(config(seed=5))
    assert (earlier.version.version, later.version.version) == ("v001", "v002")
    assert later.manifest.parent_version is None and later.version.to_dict()["parent"] is None
