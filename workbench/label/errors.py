"""The label stage's error: a user mistake in labelling the team's own messages."""

from __future__ import annotations

from workbench.errors import WorkbenchError


class LabelError(WorkbenchError, ValueError):
    """A label-stage problem (no ``unlabeled:`` file, an empty pool, ...); the message says the fix."""
