"""The task type registry: a task spec's ``type`` -> the module that evaluates it.

A task type module holds everything that differs between task types, so neither the
ladder nor :func:`workbench.evaluate.run.run_evaluate` branches on the type:

- ``STRATEGIES``: its strategy registry, name -> :class:`~workbench.evaluate.cells.Strategy`;
- ``COLUMNS``: the results table's columns (each metric's ``<metric>_ci`` interval among them);
- ``SEED_COLUMNS``, ``SEED_METRIC``: the columns ``--seeds N`` fills, and the metric they average;
- ``OBJECTIVE``, ``RUN_KIND``: the train objective of the runs its fine-tuned strategies
  score, and how the "no run" message names them;
- ``TEACHER_KINDS``, ``TEACHER_SKIP``: the teacher kinds it can score, and why not others;
- ``ENCODER_SKIP``: why an encoder student (MiniLM) cannot be a cell, or ``None``;
- ``score_cell(cell, spec, heldout, pool, cfg) -> CellResult``;
- ``judge(rows, spec, heldout, cfg) -> dict | None``: a pass over every row once the
  cells' models are unloaded (the LLM-as-judge of generation tasks);
- ``finish(result, spec, heldout, cfg)``: the worst errors, the plan, the report.

To add a task type, write such a module and add one entry to :data:`TASK_TYPES`.
The registry lives here, not in ``run.py``, because the ladder and the config read it too.

Example:
    >>> sorted(TASK_TYPES)
    ['classification', 'generation']
    >>> strategy_names()
    ('teacher', 'prompt', 'fewshot', 'seeds_lr', 'retrieval', 'finetuned', 'finetuned_retrieval')
"""

from __future__ import annotations

from types import ModuleType

from workbench.evaluate import classification, generation

TASK_TYPES: dict[str, ModuleType] = {"classification": classification, "generation": generation}


def task_type(name: str) -> ModuleType:
    """The module that evaluates tasks of type ``name``."""
    from workbench.evaluate.config import EvaluateError

    try:
        return TASK_TYPES[name]
    except KeyError:
        raise EvaluateError(f"no evaluation for task type {name!r}; known: {sorted(TASK_TYPES)}") from None


def strategy_names() -> tuple[str, ...]:
    """Every strategy some task type registers, in registry order (what ``--strategies`` takes)."""
    return tuple(dict.fromkeys(name for module in TASK_TYPES.values() for name in module.STRATEGIES))
