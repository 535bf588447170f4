"""TaskPanel: choose a task, inspect it, validate it.

Example:
    >>> from workbench.panels import TaskPanel
    >>> panel = TaskPanel("support_intents")    # doctest: +SKIP
    >>> panel                                   # doctest: +SKIP
"""

from __future__ import annotations

import ipywidgets as widgets

from workbench.panels.base import Panel


class TaskPanel(Panel):
    """A dropdown of the task specs; Validate shows the spec or says what to fix."""

    def __init__(self, task: str | None = None):
        from workbench.tasks import list_tasks

        names = list_tasks()
        self.task = widgets.Dropdown(options=names, value=task if task in names else (names[0] if names else None),
                                     description="task")
        self.details = widgets.HTML()
        self.validate_button = widgets.Button(description="Validate", icon="check")
        self.validate_button.on_click(lambda _: self.run())
        self.spec = None
        super().__init__("Task", [self.task, self.details], [self.validate_button])
        self.task.observe(lambda _: self.run(), names="value")
        if self.task.value:
            self.run()

    def run(self):
        """Load and validate the chosen task; its summary replaces the details."""
        from workbench.tasks import load_task

        self.spec = None
        with self.busy(f"validating {self.task.value}"):
            self.spec = load_task(self.task.value)
            self.details.value = self.spec._repr_html_()
            self.say(f"{self.spec.name}: valid ({len(self.spec.seed_examples)} seeds, "
                  f"{len(self.spec.heldout_examples())} held-out)")
        if self.spec is None:
            self.details.value = ""
        return self.spec
