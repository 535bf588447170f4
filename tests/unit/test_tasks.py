from pathlib import Path

import pytest

from workbench.tasks import TaskSpecError, list_tasks, load_task


def test_example_tasks_are_listed_and_load():
    assert {"support_intents", "support_replies"} <= set(list_tasks())
    intents = load_task("support_intents")
    assert intents.type == "classification" and len(intents.labels) >= 8
    per_label = {lab: 0 for lab in intents.label_names}
    for row in intents.seed_examples:
        per_label[row["label"]] += 1
    assert min(per_label.values()) >= 5
    replies = load_task("support_replies")
    assert replies.type == "generation" and replies.seed_examples[0].keys() == {"input", "output"}


def test_heldout_sets_are_big_enough_and_apart_from_the_seeds():
    intents = load_task("support_intents")
    held = intents.heldout_examples()
    for lab in intents.label_names:
        assert sum(r["label"] == lab for r in held) >= 10, lab
    assert not {r["text"] for r in held} & {r["text"] for r in intents.seed_examples}
    replies = load_task("support_replies")
    assert len(replies.heldout_examples()) >= 40
    assert not {r["input"] for r in replies.heldout_examples()} & {r["input"] for r in replies.seed_examples}


def test_render_fills_the_template():
    spec = load_task("support_intents")
    text = spec.render("generate", label=spec.label("billing_issue"), examples=["one", "two"], n=8, start=3)
    assert "Intent: billing_issue" in text and "1. one\n2. two\n3." in text and text.endswith("3.")


def _edit(folder: Path, old: str, new: str) -> None:
    p = folder / "task.yaml"
    text = p.read_text()
    assert old in text, old
    p.write_text(text.replace(old, new, 1))


def _error(folder: Path) -> str:
    with pytest.raises(TaskSpecError) as info:
        load_task(folder)
    return str(info.value)


def test_unknown_label_in_a_seed_names_file_field_and_fix(task_copy):
    seeds = task_copy.parent / "data" / "seeds.jsonl"
    seeds.write_text(seeds.read_text() + '{"text": "hello there friend", "label": "refund_request"}\n')
    msg = _error(task_copy)
    assert "seeds.jsonl" in msg and "field 'seeds'" in msg and "'refund_request'" in msg and "use one of" in msg


def test_undefined_template_variable_is_caught_on_load(task_copy):
    (task_copy / "generate.jinja").write_text("{{ task.description }} {{ lable.name }}")
    msg = _error(task_copy)
    assert "templates.generate" in msg and "lable" in msg and "may use" in msg


def test_misspelled_attribute_is_caught_by_the_trial_render(task_copy):
    (task_copy / "generate.jinja").write_text("{{ label.descripton }}")
    msg = _error(task_copy)
    assert "generate.jinja" in msg and "descripton" in msg


def test_missing_template_file(task_copy):
    (task_copy / "generate_chat.jinja").unlink()
    msg = _error(task_copy)
    assert "templates.generate_chat" in msg and "does not exist" in msg


def test_unsafe_template_is_refused(task_copy):
    (task_copy / "generate.jinja").write_text("{{ task.__class__.__mro__ }}")
    assert "unsafe template" in _error(task_copy)


def test_wrong_type_and_missing_field(task_copy):
    _edit(task_copy, "  min: 0.8", "  min: high")
    msg = _error(task_copy)
    assert "field 'quality_bar.min'" in msg and "'high'" in msg
    _edit(task_copy, "quality_bar:\n  metric: macro_f1\n  min: high\n", "")
    assert "field 'quality_bar': required field is missing" in _error(task_copy)


def test_unknown_field_is_reported_as_a_typo(task_copy):
    _edit(task_copy, "generation:\n", "generaton:\n")
    assert "field 'generaton': unknown field" in _error(task_copy)


def test_missing_heldout_file_and_csv_heldout(task_copy, tmp_path):
    _edit(task_copy, "heldout: ../data/heldout.jsonl", f"heldout: {tmp_path}/elsewhere/eval.csv")
    msg = _error(task_copy)
    assert "field 'heldout'" in msg and "eval.csv does not exist" in msg
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "eval.csv").write_text("text,label\nmy box is late,delivery_status\n")
    assert load_task(task_copy).heldout_examples() == [{"text": "my box is late", "label": "delivery_status"}]
    (tmp_path / "elsewhere" / "eval.csv").write_text("text,label\nmy box is late,late_box\n")
    assert "row 2: label 'late_box'" in _error(task_copy)


def test_unknown_task_lists_the_known_ones():
    with pytest.raises(TaskSpecError, match="known tasks: support_intents, support_replies"):
        load_task("nope")


def test_spec_hash_changes_with_a_template(task_copy):
    before = load_task(task_copy).spec_hash()
    (task_copy / "generate.jinja").write_text((task_copy / "generate.jinja").read_text() + "\n")
    assert load_task(task_copy).spec_hash() != before
