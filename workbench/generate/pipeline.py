"""The parent side of one generation round: the teacher runs in a worker process.

:func:`run_jobs` hands the round's jobs not yet in the journal to a fresh
``python -m workbench.generate.worker`` (see :mod:`workbench.generate.worker`, which builds
and runs the distilabel pipeline) and shows a progress bar while the journal grows.

Example:
    >>> run_jobs(jobs, "llamacpp:gemma3-270m", journal, {"max_new_tokens": 64}, cfg, 0, "round 1")  # doctest: +SKIP
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.generate.config import GenerateConfig
from workbench.generate.journal import Journal
from workbench.generate.jobs import Job
from workbench.secrets import PRIVATE_UMASK, relay_scrubbed
from workbench.settings import get_settings


class TeacherRunError(WorkbenchError, RuntimeError):
    """The teacher's worker process failed or left prompts unanswered; the same command resumes."""


def run_jobs(jobs: list[Job], teacher: str, journal: Journal, sampling: dict[str, Any], cfg: GenerateConfig,
             round_no: int, desc: str) -> None:
    """Run the jobs not yet in the journal in a worker process, with a progress bar.

    ``sampling`` holds the wanted generation settings (max_new_tokens, temperature, top_p,
    stop); the worker passes on those the teacher's backend accepts.
    """
    done = journal.done_jobs()
    todo = [j for j in jobs if j.id not in done]
    if not todo:
        return
    before = journal.count()
    stop = threading.Event()

    def watch() -> None:
        from tqdm.auto import tqdm

        def finished() -> int:
            return min(len(todo), journal.count() - before)  # the journal grows by one line per answer

        with tqdm(total=len(todo), desc=desc, unit="prompt", disable=not cfg.progress) as bar:
            while not stop.wait(0.5):
                bar.update(finished() - bar.n)
            bar.update(finished() - bar.n)

    # The pipeline runs in a fresh Python process (python -m workbench.generate.worker).
    # distilabel forks its step processes, and a fork of a process that has already run
    # torch (the embedder between rounds, or a notebook that trained a model) deadlocks
    # llama.cpp's OpenMP threads in the child (seen here: round 2 hung in llama_decode).
    # A new interpreter, unlike multiprocessing's spawn, also works from scripts that have
    # no `if __name__ == "__main__"` guard.
    # distilabel's own cache is not how runs resume (the journal is), and a run killed
    # mid-write leaves it unreadable; so each pipeline gets a fresh one, removed on success.
    cache_dir = Path(tempfile.mkdtemp(prefix=f"round{round_no}-", dir=get_settings().path("cache", "distilabel")))
    # Imported here: the worker module brings distilabel, needed only when there is work.
    from workbench.generate.worker import RoundPayload

    payload = RoundPayload(jobs=todo, teacher=teacher, slots=cfg.slots, seed=cfg.seed, journal=journal.path,
                           sampling=sampling, batch_size=cfg.batch_size, cache_dir=cache_dir)
    payload_file = cache_dir / "round.json"
    payload_file.write_text(payload.model_dump_json())
    # A teacher server may echo the API key in an error: the worker's output reaches our
    # streams with it masked, and what it writes (distilabel's log under the cache) is 0600.
    proc = subprocess.Popen([sys.executable, "-m", "workbench.generate.worker", str(payload_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, umask=PRIVATE_UMASK)
    relays = [relay_scrubbed(proc.stdout, 1), relay_scrubbed(proc.stderr, 2)]
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        proc.wait()
    finally:
        if proc.poll() is None:  # interrupted (Ctrl-C): stop the teacher too; the journal keeps what is done
            proc.kill()
            proc.wait()
        stop.set()
        watcher.join()
        for relay in relays:
            relay.join(10)  # step processes the worker forked may hold the pipes a moment longer
    if proc.returncode != 0:
        raise TeacherRunError(f"the teacher pipeline failed (exit code {proc.returncode}; its error is printed "
                              f"above, distilabel's log is under {cache_dir}). Outputs so far are kept: run the "
                              "same command again to resume.")
    missing = {j.id for j in todo} - journal.done_jobs()
    if missing:
        raise TeacherRunError(f"the teacher pipeline ended with {len(missing)} of {len(todo)} prompts "
                              f"unanswered (distilabel's log: {cache_dir}); run the same command again to retry them")
    shutil.rmtree(cache_dir, ignore_errors=True)
