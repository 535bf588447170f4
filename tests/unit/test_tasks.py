import json
import shutil
from pathlib import Path

import pytest

from workbench.tasks import OUT_OF_SCOPE, TaskSpecError, list_tasks, load_task

REPO = Path(__file__).resolve().parents[2]


def test_example_tasks_are_listed_and_load():
    assert {"clinc_bank", "support_intents", "support_replies"} <= set(list_tasks())
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
    with pytest.raises(TaskSpecError, match="known tasks: clinc_bank, support_intents, support_replies"):
        load_task("nope")


def test_spec_hash_changes_with_a_template(task_copy):
    before = load_task(task_copy).spec_hash()
    (task_copy / "generate.jinja").write_text((task_copy / "generate.jinja").read_text() + "\n")
    assert load_task(task_copy).spec_hash() != before


def test_clinc_bank_names_its_log_validation_and_out_of_scope_examples():
    spec = load_task("clinc_bank")
    assert len(spec.labels) == 30 and OUT_OF_SCOPE not in spec.label_names
    assert all(sum(r["label"] == lab for r in spec.seed_examples) == 5 for lab in spec.label_names)
    source = spec.unlabeled_source()
    assert Path(source.path).is_absolute() and source.path.endswith("datasets/clinc_bank/unlabeled.jsonl")
    assert len(spec.unlabeled_texts()) == 2850 and len(spec.validation_examples()) == 600
    assert spec.out_of_scope.enabled and len(spec.out_of_scope_examples()) == 100
    assert (spec.out_of_scope.target_recall, spec.out_of_scope.max_in_scope_loss) == (0.8, 0.015)


def test_the_unlabeled_log_is_checked_on_load(task_copy, tmp_path):
    spec = task_copy / "task.yaml"
    base = spec.read_text()
    spec.write_text(base + "unlabeled: ../data/log.csv\n")
    msg = _error(task_copy)
    assert "field 'unlabeled'" in msg and "log.csv does not exist" in msg
    log = task_copy.parent / "data" / "log.csv"
    log.write_text("id,message\n1,where is my box\n2,\n")
    msg = _error(task_copy)
    assert "field 'unlabeled'" in msg and str(log) in msg and "no column 'text'" in msg
    assert "['id', 'message']" in msg and "text_column" in msg
    spec.write_text(base + "unlabeled: {path: ../data/log.csv, text_column: message}\n")
    loaded = load_task(task_copy)
    assert loaded.unlabeled_source().path == str(log) and loaded.unlabeled_texts() == ["where is my box", ""]
    assert load_task("support_intents").unlabeled_texts() == [] and load_task("support_intents").unlabeled_source() is None


def test_out_of_scope_examples_and_bounds_are_checked(task_copy):
    spec = task_copy / "task.yaml"
    base = spec.read_text()
    oos = task_copy.parent / "data" / "oos.jsonl"
    oos.write_text(json.dumps({"message": "what is the weather"}) + "\n")
    spec.write_text(base + "out_of_scope: {enabled: true, examples: ../data/oos.jsonl}\n")
    msg = _error(task_copy)
    assert "field 'out_of_scope.examples'" in msg and str(oos) in msg and "no column 'text'" in msg
    oos.write_text(json.dumps({"text": "what is the weather"}) + "\n" + json.dumps({"text": ""}) + "\n")
    assert load_task(task_copy).out_of_scope_examples() == ["what is the weather"]
    spec.write_text(base + "out_of_scope: {enabled: true, target_recall: 0}\n")
    assert "field 'out_of_scope.target_recall'" in _error(task_copy)
    spec.write_text(base + "out_of_scope: {enabled: true, max_in_scope_loss: 0.5}\n")
    assert "field 'out_of_scope.max_in_scope_loss'" in _error(task_copy)


def test_a_label_named_out_of_scope_is_refused(task_copy):
    _edit(task_copy, "labels:\n", "labels:\n  - name: out_of_scope\n    description: fits no other intent\n")
    msg = _error(task_copy)
    assert "labels: 'out_of_scope' is the abstention answer" in msg and "out_of_scope: {enabled: true}" in msg


def test_a_generation_task_refuses_unlabeled_and_out_of_scope(tmp_path):
    dst = tmp_path / "tasks" / "replies"
    shutil.copytree(REPO / "prompts" / "support_replies", dst)
    spec = dst / "task.yaml"
    base = spec.read_text().replace("../../datasets/support_replies/", str(REPO / "datasets" / "support_replies") + "/")
    for extra, field in (("out_of_scope: {enabled: true}\n", "out_of_scope"), ("unlabeled: log.csv\n", "unlabeled")):
        spec.write_text(base + extra)
        assert f"{field}: only classification tasks have an {field} section; remove it" in _error(dst)


def test_validation_rows_must_be_apart_from_heldout_and_seeds(task_copy):
    data = task_copy.parent / "data"
    held = (data / "heldout.jsonl").read_text().splitlines()[0]
    seed = (data / "seeds.jsonl").read_text().splitlines()[0]
    fresh = json.dumps({"text": "my beans came ground, I ordered whole", "label": "damaged_or_wrong_item"})
    spec = task_copy / "task.yaml"
    spec.write_text(spec.read_text() + "validation: ../data/validation.jsonl\n")
    (data / "validation.jsonl").write_text(f"{fresh}\n{held}\n")
    msg = _error(task_copy)
    assert "field 'validation': 1 of its 2 rows are also in 'heldout'" in msg and "validation.jsonl" in msg
    (data / "validation.jsonl").write_text(f"{fresh}\n{seed}\n")
    assert "field 'validation': 1 of its 2 rows are also in 'seeds'" in _error(task_copy)
    (data / "validation.jsonl").write_text(f"{fresh}\n")
    assert load_task(task_copy).validation_examples() == [json.loads(fresh)]
