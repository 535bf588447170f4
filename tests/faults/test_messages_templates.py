"""Case 9: a prompt template that fails only when rendered ({{ 1/0 }}, a huge range) is refused
when the task loads, naming the task, the template field and the error; a huge range neither hangs
nor fills memory."""

import time

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.tasks import TaskSpecError, load_task

BROKEN = {
    "division by zero": ("{{ task.name }}\n{{ 1/0 }}", ["line 2", "ZeroDivisionError", "division by zero"]),
    "huge range": ("{% for i in range(10**9) %}{{ i }}{% endfor %}", ["range(1000000000)", "at most 10000"]),
    "nested ranges": ("{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
                      ["at most 10000"]),
    "huge repetition": ("{{ 'x' * 10**9 }}", ["repeating a str"]),
    "huge filter width": ("{{ task.name | center(10**8) }}", ["filter center", "numbers above 10000"]),
    "huge format width": ("{{ '%100000000d' % 1 }}", ["format width of 100000000"]),
}


@pytest.mark.parametrize("source, parts", list(BROKEN.values()), ids=list(BROKEN))
def test_a_template_failing_at_render_time_is_one_clear_error(task_copy, source, parts):
    """Case 9: validate renders each template once with the seeds and reports what failed, where."""
    (task_copy / "generate.jinja").write_text(source)
    started = time.monotonic()
    out = CliRunner().invoke(app, ["tasks", "validate", str(task_copy)])
    assert time.monotonic() - started < 20, "the render must stop at the bound, not run"
    assert isinstance(out.exception, SystemExit) and out.exit_code == 2, out.exc_info
    assert "Traceback" not in out.output
    error = out.output.strip()
    assert error.startswith("error: task 'support_intents'") and "field 'templates.generate'" in error, error
    assert "generate.jinja" in error and all(p in error for p in parts), error

    # The Python API (what generate and evaluate call) says the same, as a TaskSpecError.
    (task_copy / "generate.jinja").write_text("Intent: {{ label.name }}")
    spec = load_task(task_copy)
    (task_copy / "generate.jinja").write_text(source)
    with pytest.raises(TaskSpecError, match="templates.generate"):
        spec.render("generate", label=spec.labels[0], examples=["a"], n=3, start=2)
