"""The cells of the ladder: what to score (:class:`Cell`), how (:class:`Strategy`, one entry of a
task type's strategy registry) and what came out (:class:`CellResult`).

A strategy registry is a plain dict, name -> :class:`Strategy`, one per task type
(``workbench.evaluate.classification.STRATEGIES``, ``workbench.evaluate.generation.STRATEGIES``).
An entry holds the builder, which turns a cell into a model with ``parameters``,
``disk_bytes``, ``close()`` and the task type's call (``score`` or ``generate``), and says
what the strategy is crossed with: the students, the teacher or the finished train runs.

A :class:`CellResult` is one row of the evaluation: a pydantic model, validated when read
back from ``results.json``. Rows also read like the dicts they were before
(``row["macro_f1"]``, ``row.get("judge")``), so notebooks and callers that index them keep
working; ``to_dict()`` is what ``results.json`` holds.

Example:
    >>> entry = Strategy(build=lambda cell, spec, pool, cfg: None, needs_pool=True)
    >>> entry.over, entry.needs_pool
    ('students', True)
    >>> row = CellResult(strategy="prompt", model="m", latency_p50_ms=2.0, latency_p95_ms=3.0,
    ...                  throughput_per_s=400.0, peak_mem_mb=1.5, parameters=10, disk_mb=0.1, predictions=["a"])
    >>> row["model"], row.get("nothing"), CellResult.model_validate(row.to_dict()) == row
    ('m', None, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

from pydantic import BaseModel

from workbench.records import KeyAccess


@dataclass(frozen=True)
class Cell:
    strategy: str
    model: str  # what the row is called: a student, "teacher:<spec>" or a run's student
    source: str  # "embedder", a GGUF path, a teacher spec, or a run folder


# (cell, task spec, retrieval pool, EvaluateConfig) -> a scorer or generator, not yet called.
Builder = Callable[..., Any]


@dataclass(frozen=True)
class Strategy:
    """One strategy registry entry.

    ``over`` says which cells the ladder makes for it: one per student, one for the teacher,
    one per finished train run, or one for the embedder (MiniLM) alone. ``needs_pool``: it
    retrieves from a dataset version, so
    without one it is skipped with the fix.
    """

    build: Builder
    over: Literal["students", "teacher", "runs", "embedder"] = "students"
    needs_pool: bool = False


class CellResult(KeyAccess, BaseModel):
    """One scored cell: which, its predictions and its costs. Task types add their quality fields."""

    strategy: str
    model: str
    latency_p50_ms: float
    latency_p95_ms: float
    throughput_per_s: float | None
    peak_mem_mb: float
    parameters: int | float | None  # None: a remote model of unknown size
    disk_mb: float | None
    predictions: list[str]

    def row(self, columns: list[str]) -> dict[str, Any]:
        """The table row: ``columns`` only (what the report and ``--json`` show)."""
        return {k: self.get(k) for k in columns}

    def to_dict(self) -> dict[str, Any]:
        """Every field, predictions included: a row of ``results.json``'s ``rows_full``."""
        return self.model_dump()


def disk_mb(size: int | None) -> float | None:
    """Bytes on disk as the table's MB (one decimal); ``None`` when unknown."""
    return round(size / 2**20, 1) if size is not None else None
