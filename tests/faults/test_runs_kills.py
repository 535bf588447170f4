"""Kills: a `workbench generate` SIGKILLed while the teacher answers, at a random moment, and at
every step of saving, then run again (issue 13, case 3 and the kill-at-random-moments test).

The command runs in a session of its own, so a kill takes its teacher processes too, as a
killed terminal does. Named kill points are the test hook of workbench/faults.py.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time

import pytest
from runs_tiny import TASK, cli, config, run_dir, write_task

from workbench.generate import run_generate
from workbench.generate.journal import Journal
from workbench.settings import get_settings
from workbench.store import list_versions, task_dir

pytestmark = pytest.mark.slow

# The kill points of the random test are drawn from this seed (WORKBENCH_FAULT_SEED to try others).
SEED = int(os.environ.get("WORKBENCH_FAULT_SEED", "13"))


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PROMPTS_DIR", str(write_task(tmp_path)))
    get_settings.cache_clear()


@pytest.fixture
def tiny_long(tmp_path, monkeypatch):
    """Longer answers: a list ends where the teacher stops it, so answers finish apart."""
    monkeypatch.setenv("WORKBENCH_PROMPTS_DIR", str(write_task(tmp_path, max_new_tokens=160)))
    get_settings.cache_clear()


def _start(cfg, kill_at: str | None = None) -> subprocess.Popen:
    env = {**os.environ, **({"WORKBENCH_FAULT_KILL_AT": kill_at} if kill_at else {})}
    return subprocess.Popen(cli(cfg), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _ticks() -> int:
    """What an older teacher's progress tick files say it has answered (one byte per answer)."""
    return sum(p.stat().st_size for p in (get_settings().home / "cache").rglob("progress"))


def test_case3_every_teacher_answer_is_journaled_as_it_arrives(tiny_long):
    """Case 3: a SIGKILL right after the teacher's first answer, in a batch of 64 prompts, keeps
    that answer in the journal (not only whole batches)."""
    cfg = config(seed=1, batch_size=64)  # 4 prompts, one batch, all decoding at once
    journal = Journal(run_dir(cfg) / "journal.jsonl")
    proc = _start(cfg)
    deadline = time.time() + 300
    try:
        while (answered := max(journal.count(), _ticks())) < 1:
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.time() < deadline, "the teacher answered nothing in 5 minutes"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    assert journal.count() >= answered >= 1, "the teacher's answers were lost with the kill"
    assert all(e["text"] for e in journal.entries())


def _journaled_jobs(journal: Journal) -> list[str]:
    """The job of every complete journal line, repeats included (a torn last line is not one)."""
    text = journal.path.read_text() if journal.path.is_file() else ""
    return [json.loads(line)["job"] for line in text.split("\n")[:-1]]


def _payloads() -> set:
    return set((get_settings().home / "cache").rglob("round.json"))


def _kill_points(rng: random.Random) -> list[tuple[str | None, float | None]]:
    """Five kills in the order a run meets them: twice while the teacher answers (after the k-th
    answer of that run), once at a random moment of a run, once before the version is in
    place, once after."""
    return [(f"journal_append:{rng.randint(1, 2)}", None), (f"journal_append:{rng.randint(1, 2)}", None),
            (None, round(rng.uniform(0.5, 4.0), 2)),
            (rng.choice(["generate_before_save", "store_before_rename"]), None),
            (rng.choice(["store_after_rename", "generate_after_save"]), None)]


def test_generate_killed_at_random_points_then_run_again_saves_one_version_of_n_rows(tiny):
    """Kill-at-random: every kill followed by the same command; in the end n unique rows, one
    version, every answer journaled once, and the teacher never asked again for a journaled job."""
    cfg = config(seed=1)
    journal = Journal(run_dir(cfg) / "journal.jsonl")
    points, killed = _kill_points(random.Random(SEED)), []
    answers: dict[str, str] = {}
    payloads: set = set()
    for kill_at, after in points:
        done_before = journal.done_jobs()
        proc = _start(cfg, kill_at)
        if after is not None:
            try:
                proc.wait(after)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=600)
        assert proc.returncode in (0, -signal.SIGKILL), err[-3000:]
        if proc.returncode == -signal.SIGKILL:
            killed.append(kill_at or f"{after}s")
        # Every answer journaled before stays as it was; a job is journaled once.
        now = {e["job"]: e["text"] for e in journal.entries()}
        assert all(now[job] == text for job, text in answers.items()), f"an answer was lost at {kill_at}"
        answers = now
        lines = _journaled_jobs(journal)
        assert len(lines) == len(set(lines)), f"a prompt was answered twice (kill at {kill_at or after})"
        # A killed run's round payloads stay in its distilabel cache: what it asked the teacher.
        asked = {j["id"] for p in _payloads() - payloads for j in json.loads(p.read_text())["jobs"]}
        assert not asked & done_before, f"the teacher was asked again for journaled jobs (kill at {kill_at})"
        payloads = _payloads()
        saved = [v.version for v in list_versions(TASK)]
        assert saved in ([], ["v001"]), f"{saved} after a kill at {kill_at or after}"
    assert len(killed) >= 5, f"only {killed} of {points} killed the run"

    result = run_generate(cfg)
    assert [v.version for v in list_versions(TASK)] == ["v001"]
    rows = result.version.load()
    assert len(rows) == cfg.n and len(set(rows["id"])) == cfg.n
    assert set(rows["job"]) <= set(answers)
    assert not list(task_dir(TASK).glob(".v*.partial-*")), "a half-written version was left behind"
    lines = _journaled_jobs(journal)
    assert len(lines) == len(set(lines)) == len(answers), "a prompt was answered twice"
    assert run_generate(cfg).reused
