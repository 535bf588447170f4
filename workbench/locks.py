"""OS file locks: one run of a command at a time, and caches built once.

Two identical commands started together (two terminals, a notebook and a script) must not
both do the work and both save it. :func:`run_lock` holds an OS lock (``filelock``: an
``flock`` the kernel drops when its holder dies, even by SIGKILL, so a killed run never
leaves a stale lock) for as long as the run works, and writes the holder's pid beside it.
A second run of the same command waits for the first and then finds its result (every
stage returns a finished run's result instead of redoing it), or, when told not to wait
(``WORKBENCH_RUN_LOCK_TIMEOUT=0``, or once that many seconds pass), refuses with
:class:`RunInProgressError` naming the pid.

:func:`file_lock` is the plain lock; :func:`build_once` builds a cache that several processes
may want at once (the batched GGUF, a converted model) under it: the others wait, then find it made.

Example:
    >>> with run_lock("support_intents", "generate", "1a2b3c4d5e6f"):   # doctest: +SKIP
    ...     ...   # the run's work; the same command elsewhere waits for it meanwhile
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from filelock import FileLock, Timeout

from workbench.errors import WorkbenchError
from workbench.settings import get_settings


class RunInProgressError(WorkbenchError, RuntimeError):
    """Another process runs the same command now; wait for it, or run again when it is done."""


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold the OS lock on ``path`` (created, with its folder), waiting as long as it takes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path):
        yield


def build_once(target: Path, build: Callable[[], None], done: Path | None = None) -> Path:
    """Run ``build`` (which makes ``target``) unless ``done`` (default ``target``) exists; returns ``target``.

    Runs started together on a fresh home all get here: the first builds under the lock
    ``.<target name>.lock`` beside ``target``, the others wait, then find it made. ``build`` should
    write beside ``target`` and rename into place, so a killed build leaves nothing half-made.

    Example:
        >>> build_once(models / "m-fast.gguf", lambda: relayout(src, models / "m-fast.gguf"))  # doctest: +SKIP
    """
    done = target if done is None else done
    if not done.exists():
        with file_lock(target.with_name(f".{target.name}.lock")):
            if not done.exists():
                build()
    return target


@contextmanager
def run_lock(task: str, stage: str, run_id: str, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock of one run (``<home>/locks/<task>/<stage>/<run_id>.lock``) for the ``with`` body.

    The lock and the holder's pid (``<run_id>.pid``) lie apart from the run folder, so a
    finished run's folder stays exactly as the run left it. ``timeout``: seconds to wait for
    another holder; ``None`` reads ``WORKBENCH_RUN_LOCK_TIMEOUT`` (unset: wait as long as it
    takes), ``0`` refuses at once. While waiting, one line on stderr says who holds it.

    Raises:
        RunInProgressError: the lock is still held after ``timeout`` seconds.
    """
    folder = get_settings().path("locks", task, stage)
    if timeout is None:
        timeout = get_settings().run_lock_timeout
    lock, pid_file = FileLock(folder / f"{run_id}.lock"), folder / f"{run_id}.pid"
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = _holder(pid_file)
        if timeout is not None and timeout <= 0:
            raise _in_progress(holder, stage, task) from None
        print(f"waiting for another run of this command (pid {holder}) to finish ...", file=sys.stderr, flush=True)
        try:
            lock.acquire(timeout=-1 if timeout is None else timeout)
        except Timeout:
            raise _in_progress(_holder(pid_file), stage, task) from None
    try:
        pid_file.write_text(str(os.getpid()))
        yield
    finally:
        pid_file.unlink(missing_ok=True)  # before the release: the next holder writes its own
        lock.release()


def _holder(pid_file: Path) -> str:
    try:
        return pid_file.read_text().strip() or "unknown"
    except OSError:
        return "unknown"


def _in_progress(holder: str, stage: str, task: str) -> RunInProgressError:
    return RunInProgressError(f"another run of this command is in progress (pid {holder}: {stage} of task {task!r}); "
                              "run it again when that one is done (it then returns that run's result), or "
                              "unset WORKBENCH_RUN_LOCK_TIMEOUT to wait for it")
