"""The one base of every error a user can fix: :class:`WorkbenchError`.

Each stage keeps its own subclass beside the code that raises it (``TaskSpecError`` in
``tasks.py``, ``ReviewError`` in ``review/``, ...). Whatever the subclass, the message says
what is wrong and how to fix it, and the CLI prints it without a traceback and exits with
the subclass's ``exit_code`` (2 for a mistake, 3 for "review is still pending").

Subclasses also keep the builtin they derived from before this base existed (``ValueError``,
``FileNotFoundError``, ...) so code that caught those still does.

Example:
    >>> from workbench.errors import WorkbenchError
    >>> class DemoError(WorkbenchError, ValueError):
    ...     pass
    >>> err = DemoError("field 'n': must be at least 1; pass --n 300")
    >>> isinstance(err, ValueError), err.exit_code, str(err)
    (True, 2, "field 'n': must be at least 1; pass --n 300")
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """A problem the user can fix; ``str(err)`` is the whole message to show them."""

    exit_code: int = 2

    def __str__(self) -> str:
        # KeyError (a base of UnknownModelError) would quote its message; keep it readable.
        return str(self.args[0]) if self.args else self.__class__.__name__


class ConfigError(WorkbenchError, ValueError):
    """An option or config value out of range or of the wrong kind (the CLI's --n 0, say)."""
