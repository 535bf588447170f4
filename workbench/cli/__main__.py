"""``python -m workbench.cli``: the same ``workbench`` command."""

from workbench.cli import app

app(prog_name="workbench")
