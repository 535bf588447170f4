"""The distilabel pipeline of one generation round.

Each round is a distilabel ``Pipeline``: ``LoadDataFromDicts`` (the round's prompt jobs)
>> ``TextGeneration`` (the teacher) >> :class:`JournalWriter` (appends each output to the
run's journal, fsynced), run in a worker process. The journal is what makes runs
resumable; rounds and curation are in :mod:`workbench.generate.run`.

Example:
    >>> run_jobs(jobs, "llamacpp:gemma3-270m", journal, {"max_new_tokens": 64}, cfg, 0, "round 1")  # doctest: +SKIP
"""

# No `from __future__ import annotations`: distilabel reads the StepInput hint at run time.

import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from distilabel.steps import Step, StepInput

from workbench.generate.config import GenerateConfig
from workbench.generate.journal import Journal
from workbench.generate.jobs import Job
from workbench.settings import get_settings


class JournalWriter(Step):
    """A distilabel step that appends each teacher output to the run journal (fsynced)."""

    path: str

    @property
    def inputs(self) -> list[str]:
        return ["job", "generation"]

    @property
    def outputs(self) -> list[str]:
        return []

    def process(self, inputs: StepInput):  # type: ignore[override]
        entries = []
        for row in inputs:
            if row.get("generation") is None:
                # distilabel turns a failed LLM call into an empty generation; leaving it out
                # of the journal means the next run asks again instead of keeping a hole.
                continue
            stats = next((v for k, v in (row.get("distilabel_metadata") or {}).items()
                          if k.startswith("statistics_")), {})
            entries.append({
                "job": row["job"], "stage": row["stage"], "label": row.get("label"),
                "round": row["round"], "index": row["index"], "source_id": row.get("source_id"),
                "text": row["generation"],
                "input_tokens": _first(stats.get("input_tokens")),
                "output_tokens": _first(stats.get("output_tokens")),
            })
        Journal(Path(self.path)).append(entries)
        yield inputs


def _first(v: Any) -> int:
    if isinstance(v, list):
        return int(v[0]) if v else 0
    return int(v or 0)


def build_pipeline(jobs: list[Job], llm, journal: Journal, gen_kwargs: dict[str, Any], batch_size: int,
                   cache_dir: Path):
    """The distilabel pipeline for one round of jobs."""
    from distilabel.pipeline import Pipeline
    from distilabel.steps import LoadDataFromDicts
    from distilabel.steps.tasks import TextGeneration

    data = [{"job": j.id, "stage": j.stage, "label": j.label, "round": j.round, "index": j.index,
             "source_id": j.source_id, "instruction": j.prompt} for j in jobs]
    with Pipeline(name="workbench-generate", cache_dir=cache_dir) as pipeline:
        load = LoadDataFromDicts(name="jobs", data=data, batch_size=batch_size)
        teach = TextGeneration(name="teacher", llm=llm, input_batch_size=batch_size, add_raw_output=False,
                               add_raw_input=False)
        write = JournalWriter(name="journal", path=str(journal.path), input_batch_size=batch_size)
        load >> teach >> write
    return pipeline, {"teacher": {"llm": {"generation_kwargs": gen_kwargs}}}


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
            # The journal moves a batch at a time; the teacher's own tick file (llama.cpp
            # teachers) moves per finished prompt, so the bar does not sit still for minutes.
            ticks = progress.stat().st_size if progress.exists() else 0
            return min(len(todo), max(journal.count() - before, ticks))

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
    payload, progress = cache_dir / "round.pkl", cache_dir / "progress"
    # The teacher travels as its spec, not as a built LLM: an API key must never be written
    # to disk, so the worker reads it from the environment it inherits.
    payload.write_bytes(pickle.dumps((todo, teacher, cfg.slots, cfg.seed, str(journal.path), sampling,
                                      cfg.batch_size, str(cache_dir))))
    proc = subprocess.Popen([sys.executable, "-m", "workbench.generate.worker", str(payload)])
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
    if proc.returncode != 0:
        raise RuntimeError(f"the teacher pipeline failed (exit code {proc.returncode}; its error is printed above, "
                           f"distilabel's log is under {cache_dir}). Outputs so far are kept: run the same "
                           "command again to resume.")
    missing = {j.id for j in todo} - journal.done_jobs()
    if missing:
        raise RuntimeError(f"the teacher pipeline ended with {len(missing)} of {len(todo)} prompts unanswered "
                           f"(distilabel's log: {cache_dir}); run the same command again to retry them")
    shutil.rmtree(cache_dir, ignore_errors=True)


def pipeline_process(jobs: list[Job], teacher: str, slots: int, seed: int, journal_path: str,
                     sampling: dict[str, Any], batch_size: int, cache_dir: str) -> None:
    """Body of the worker process: build and run one round's pipeline."""
    from workbench.generate.teachers import build_teacher, generation_kwargs

    _die_with_parent()
    llm = build_teacher(teacher, slots=slots, seed=seed)
    if hasattr(llm, "progress_file"):
        llm.progress_file = str(Path(cache_dir) / "progress")
    # distilabel logs every batch at INFO; the parent's progress bar says the same quietly.
    os.environ["DISTILABEL_LOG_LEVEL"] = "WARNING"
    logging.getLogger("distilabel").setLevel(logging.WARNING)
    pipeline, params = build_pipeline(jobs, llm, Journal(Path(journal_path)), generation_kwargs(llm, **sampling),
                                      batch_size, Path(cache_dir))
    pipeline.run(parameters=params, use_cache=False)


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies, so a killed run leaves no orphan."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass  # not Linux: a killed parent may leave the teacher to finish its batch
