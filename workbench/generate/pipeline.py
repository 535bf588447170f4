"""The parent side of one generation round: the teacher runs in a worker process.

:func:`run_jobs` hands the round's jobs not yet in the journal to a fresh
``python -m workbench.generate.worker`` (see :mod:`workbench.generate.worker`, which builds
and runs the distilabel pipeline) and shows a progress bar while the journal grows.

Example:
    >>> run_jobs(jobs, "llamacpp:gemma3-270m", journal, {"max_new_tokens": 64}, cfg, 0, "round 1")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
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
from workbench.secrets import PRIVATE_FILE, PRIVATE_UMASK, relay_scrubbed
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
    # The worker's own output (distilabel's logs and, when a step fails, its tracebacks) goes to
    # worker.log beside distilabel's log, not to the terminal: the user gets the progress bar and,
    # on failure, one line with the reason. A teacher server may echo the API key in an error, so
    # that output is masked on its way to the file, and what the worker writes is 0600.
    log_path = cache_dir / "worker.log"
    proc = subprocess.Popen([sys.executable, "-m", "workbench.generate.worker", str(payload_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, umask=PRIVATE_UMASK,
                            env={**os.environ, "COLUMNS": "200"})  # rich wraps at 80 on a pipe: keep lines whole
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    relay = relay_scrubbed(proc.stdout, log_fd)
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
        relay.join(10)  # step processes the worker forked may hold the pipe a moment longer
        os.close(log_fd)
    if proc.returncode != 0:
        raise TeacherRunError(f"the teacher pipeline failed (exit code {proc.returncode}): {last_error(log_path)}. "
                              f"Outputs so far are kept: run the same command again to resume (its log: {log_path})")
    missing = {j.id for j in todo} - journal.done_jobs()
    if missing:
        raise TeacherRunError(f"the teacher pipeline ended with {len(missing)} of {len(todo)} prompts unanswered: "
                              f"{last_error(log_path)}. Run the same command again to retry them (its log: {log_path})")
    shutil.rmtree(cache_dir, ignore_errors=True)


# "openai.AuthenticationError: Error code: 401 - ..." or "ValueError: ...": a Python exception line.
_EXCEPTION_LINE = re.compile(r"^\s*(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Exit)\b:?.*$")


def last_error(log_path: Path, limit: int = 300) -> str:
    """The last exception line of a worker's log (already masked), for a one-line message.

    Example:
        >>> last_error(Path("worker.log"))                                   # doctest: +SKIP
        "openai.AuthenticationError: Error code: 401 - {'error': {'message': 'Incorrect API key provided: ***'}}"
    """
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no output from the teacher's worker"
    found = [ln.strip() for ln in lines if _EXCEPTION_LINE.match(ln)]
    if not found:
        return "the teacher's worker gave no error message"
    line = found[-1].rstrip(".")
    return line if len(line) <= limit else line[:limit] + " ..."
