"""The judge's rubric in a task spec: validated on load, with errors that say what to fix."""

import shutil
from pathlib import Path

import pytest

from workbench.tasks import TaskSpecError, load_task

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def replies_copy(tmp_path) -> Path:
    dst = tmp_path / "tasks" / "replies"
    shutil.copytree(REPO / "prompts" / "support_replies", dst)
    text = (dst / "task.yaml").read_text().replace("../../datasets/support_replies/",
                                                   str(REPO / "datasets" / "support_replies") + "/")
    (dst / "task.yaml").write_text(text)
    return dst


def _edit(folder: Path, old: str, new: str) -> None:
    p = folder / "task.yaml"
    text = p.read_text()
    assert old in text, old
    p.write_text(text.replace(old, new, 1))


def _error(folder: Path) -> str:
    with pytest.raises(TaskSpecError) as info:
        load_task(folder)
    return str(info.value)


def test_support_replies_has_a_rubric_and_judge_prompts():
    spec = load_task("support_replies")
    assert spec.judge is not None and len(spec.judge.rubric) >= 3 and spec.judge.pass_rating == 4
    text = spec.render("judge", rubric=spec.judge.rubric, input="Where is my box?", reply="On its way.")
    assert f"- {spec.judge.rubric[0]}" in text and "Customer: Where is my box?" in text
    assert text.endswith("Reply: On its way.\nRating (1-5):")
    chat = spec.render("judge", "chat", rubric=spec.judge.rubric, input="Where is my box?", reply="On its way.")
    assert "On its way." in chat and "one digit" in chat


def test_judge_section_and_template_go_together(replies_copy):
    _edit(replies_copy, "  judge: judge.jinja ", "  #")
    _edit(replies_copy, "  judge_chat: judge_chat.jinja\n", "")
    assert "templates: add 'judge'" in _error(replies_copy)


def test_a_judge_template_without_a_rubric_is_refused(replies_copy):
    text = (replies_copy / "task.yaml").read_text()
    (replies_copy / "task.yaml").write_text(text[:text.index("\njudge:")] + "\n")
    assert "needs a 'judge' section with a rubric" in _error(replies_copy)


def test_pass_rating_out_of_range(replies_copy):
    _edit(replies_copy, "  pass_rating: 4", "  pass_rating: 9")
    assert "field 'judge.pass_rating'" in _error(replies_copy)


def test_quality_bar_metric_must_fit_the_task_type(replies_copy, task_copy):
    _edit(replies_copy, "metric: rouge_l", "metric: macro_f1")
    assert "'macro_f1' does not score a generation task" in _error(replies_copy)
    _edit(task_copy, "metric: macro_f1", "metric: judge")
    assert "does not score a classification task" in _error(task_copy)


def test_unknown_variable_in_the_judge_template(replies_copy):
    (replies_copy / "judge.jinja").write_text("{{ rubrik }} {{ reply }}")
    assert "uses undefined variable(s) ['rubrik']" in _error(replies_copy)
