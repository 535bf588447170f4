"""The label stage's error: :class:`LabelError`."""

from workbench.errors import WorkbenchError


class LabelError(WorkbenchError, ValueError):
    """A label-stage request that cannot be done; the message says what is wrong and the fix."""
