"""What every panel shares: a status line, a log that keeps errors, and busy buttons.

Panels hold widgets and wiring only. Their ``run()`` (what the main button calls) builds a
typed config from the widgets and calls the same ``run_*`` function as the CLI, so tests
drive panels headless by setting widget values and calling ``run()`` or ``button.click()``.
"""

from __future__ import annotations

import html
import traceback
from contextlib import contextmanager
from typing import Any, Iterable

import ipywidgets as widgets

from workbench.errors import WorkbenchError
from workbench.html import html_table


class PanelError(WorkbenchError, ValueError):
    """A choice in a panel that cannot run (nothing ticked, no evaluation yet); the message says what to do."""


class Panel(widgets.VBox):
    """A VBox with a status line and a log; ``busy()`` wraps work so errors never vanish."""

    def __init__(self, title: str, children: Iterable[widgets.Widget], buttons: Iterable[widgets.Button]):
        self.buttons = list(buttons)
        self.status_line = widgets.HTML(value="ready")
        self.output = widgets.Output(layout=widgets.Layout(max_height="240px", overflow="auto",
                                                        border="1px solid #ddd"))
        self.last_error: BaseException | None = None
        self._outcome: str | None = None
        header = widgets.HTML(f"<h3 style='margin:4px 0'>{html.escape(title)}</h3>")
        super().__init__([header, *children, widgets.HBox(self.buttons), self.status_line, self.output])

    @contextmanager
    def busy(self, what: str):
        """Disable the buttons and say so while ``what`` runs; log an error and keep it visible.

        Inside a kernel, whatever the work prints (tqdm bars included) lands in the log too.
        """
        for b in self.buttons:
            b.disabled = True
        self.status_line.value = f"<b>busy</b>: {html.escape(what)}..."
        self.last_error = self._outcome = None
        error = None
        try:
            with self.output:
                # Caught inside the Output block: in a kernel, Output.__exit__ swallows an exception
                # (it prints the traceback in the widget), and the panel would then say "done".
                try:
                    yield
                except Exception as exc:
                    error = exc
            if error is None:
                self.status_line.value = html.escape(self._outcome or f"done: {what}")
            else:  # shown in the panel, not swallowed: the log keeps the traceback
                self.last_error = error
                self.status_line.value = f"<span style='color:#b00'><b>error</b>: {html.escape(str(error))}</span>"
                self.say(f"error while {what}: {error}\n" + "".join(traceback.format_exception(error)[-3:]))
        finally:
            for b in self.buttons:
                b.disabled = False

    def outcome(self, text: str) -> None:
        """What the status line says when the work ends without an error, instead of "done: ..."
        (for work that ran fine but had nothing to do, which a person should notice)."""
        self._outcome = text

    def say(self, text: str) -> None:
        """A line in the panel's log (kept in the widget's state, so it shows without a kernel too)."""
        self.output.append_stdout(text.rstrip("\n") + "\n")

    def log_text(self) -> str:
        """Everything printed to the log (for tests and for copying into a bug report)."""
        return "".join(o.get("text", "") for o in self.output.outputs)


def table(rows: list[dict[str, Any]], limit: int = 10) -> str:
    """A small escaped HTML table of the first rows (long cells cut at 160 characters)."""
    if not rows:
        return "<i>no rows</i>"
    return html_table(rows[:limit], fmt=lambda _key, value: ("" if value is None else str(value))[:160])
