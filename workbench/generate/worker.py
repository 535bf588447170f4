"""The teacher process: ``python -m workbench.generate.worker ROUND.json``.

:func:`workbench.generate.pipeline.run_jobs` (the parent side) writes one round's work as a
:class:`RoundPayload` (JSON) and starts this module in a new interpreter, which runs the
round's distilabel ``Pipeline``: ``LoadDataFromDicts`` (the prompt jobs) >> ``TextGeneration``
(the teacher) >> :class:`JournalWriter` (appends each output to the run's journal, fsynced).
The journal is what makes runs resumable; rounds and curation are in
:mod:`workbench.generate.run`.

Example:
    >>> payload = RoundPayload(jobs=[], teacher="llamacpp:gemma3-270m", slots=4, seed=0,
    ...                        journal="run/journal.jsonl", sampling={"max_new_tokens": 64},
    ...                        batch_size=4, cache_dir="cache/round0")
    >>> RoundPayload.model_validate_json(payload.model_dump_json()) == payload
    True
"""

# No `from __future__ import annotations`: distilabel reads the StepInput hint at run time.

import logging
import os
import sys
from pathlib import Path
from typing import Any

from distilabel.steps import Step, StepInput
from pydantic import BaseModel, Field

from workbench.generate.journal import Journal
from workbench.generate.jobs import Job


class RoundPayload(BaseModel):
    """One round's work as the parent hands it to the worker process.

    The teacher travels as its spec, not as a built LLM: an API key must never be written
    to disk, so the worker builds the teacher from the settings (environment) it inherits.
    """

    jobs: list[Job] = Field(description="The round's prompt jobs not yet in the journal.")
    teacher: str = Field(description="Teacher spec (see workbench.generate.teachers).")
    slots: int = Field(description="Sequences decoded together (llama.cpp teachers).")
    seed: int = Field(description="Teacher sampling seed.")
    journal: Path = Field(description="The run's journal.jsonl, appended to as outputs arrive.")
    sampling: dict[str, Any] = Field(description="Wanted generation settings (max_new_tokens, temperature, "
                                                 "top_p, stop); those the backend accepts are passed on.")
    batch_size: int = Field(description="Prompts per distilabel batch (journal granularity).")
    cache_dir: Path = Field(description="This round's distilabel cache and the progress tick file.")

    @property
    def progress_file(self) -> Path:
        """Grows by one byte per finished prompt (llama.cpp teachers); the parent's bar reads it."""
        return self.cache_dir / "progress"


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
    """The distilabel pipeline for one round of jobs, and its run parameters."""
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


def run_round(payload: RoundPayload) -> None:
    """Build the teacher and run one round's pipeline (the body of the worker process)."""
    from workbench.generate.teachers import build_teacher, generation_kwargs
    from workbench.secrets import scrub_all_logging

    _die_with_parent()
    # A server that echoes the key in an error must not put it in distilabel's log (a file
    # under the home) or on the console; its step processes, forked from this one, inherit this.
    scrub_all_logging()
    llm = build_teacher(payload.teacher, slots=payload.slots, seed=payload.seed)
    if hasattr(llm, "progress_file"):
        llm.progress_file = str(payload.progress_file)
    # distilabel logs every batch at INFO; the parent's progress bar says the same quietly.
    # (Set, not read: distilabel's step processes, forked from this one, read it.)
    os.environ["DISTILABEL_LOG_LEVEL"] = "WARNING"
    logging.getLogger("distilabel").setLevel(logging.WARNING)
    pipeline, params = build_pipeline(payload.jobs, llm, Journal(payload.journal),
                                      generation_kwargs(llm, **payload.sampling), payload.batch_size,
                                      payload.cache_dir)
    pipeline.run(parameters=params, use_cache=False)


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies, so a killed run leaves no orphan."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass  # not Linux: a killed parent may leave the teacher to finish its batch


def main(path: str) -> None:
    """Run the round described by the payload file at ``path``."""
    run_round(RoundPayload.model_validate_json(Path(path).read_text()))


if __name__ == "__main__":
    # Through the importable module rather than this __main__ copy, so the pipeline's steps
    # are workbench.generate.worker.JournalWriter wherever distilabel looks their class up.
    from workbench.generate.worker import main as _main

    _main(sys.argv[1])
