"""Evaluate stage: every strategy on the same held-out set (see :mod:`workbench.evaluate.run`).

Importing this package is cheap: models load when an evaluation runs.

Where things go:

- **A strategy**: write its builder ``(cell, spec, pool, cfg) -> model`` and add one
  :class:`~workbench.evaluate.cells.Strategy` entry to the strategy registry of each task
  type it serves: ``STRATEGIES`` in :mod:`workbench.evaluate.classification` and in
  :mod:`workbench.evaluate.generation.builders`. The ladder, ``--strategies``, the config's
  ``STRATEGIES`` and the Evaluate panel's checkboxes all read those registries.
- **A task type**: one module (or package) with its strategies, scoring and report (the
  interface is in :mod:`workbench.evaluate.task_types`), and one entry in ``TASK_TYPES`` there.
- Shared by both: the ladder and the recommendation (:mod:`.ladder`), the records
  (:mod:`.cells`), the table, plots and report files (:mod:`.report`), costs (:mod:`.profile`)
  and metrics (:mod:`.metrics`).

Example:
    >>> from workbench.evaluate import EvaluateConfig
    >>> EvaluateConfig(task="support_intents", strategies=["prompt"]).strategies
    ['prompt']
"""

from workbench.evaluate.config import EvaluateConfig, EvaluateError
from workbench.evaluate.run import EvaluateResult, run_evaluate

__all__ = ["EvaluateConfig", "EvaluateError", "EvaluateResult", "run_evaluate"]
