"""Evaluate stage: every strategy on the same held-out set (see :mod:`workbench.evaluate.run`).

Importing this package is cheap: models load when an evaluation runs.
"""

from workbench.evaluate.config import EvaluateConfig
from workbench.evaluate.run import EvaluateResult, run_evaluate

__all__ = ["EvaluateConfig", "EvaluateResult", "run_evaluate"]
