"""User story: a mistake on the command line gets a clear error saying what to fix, before any training."""

from typer.testing import CliRunner

from workbench.cli import app
from workbench.settings import get_settings
from workbench.store import save_version
from workbench.tasks import load_task


def _train(*args: str):
    return CliRunner().invoke(app, ["train", *args])


def test_bad_student_name_lists_the_students():
    save_version("support_intents", load_task("support_intents").seed_examples, {})
    out = _train("--task", "support_intents", "--student", "bert-huge")
    assert out.exit_code == 2
    assert "unknown student 'bert-huge'; choose one of ['minilm-l6', 'smollm2-135m', 'gemma3-270m']" in out.output
    assert not (get_settings().home / "runs").exists()  # nothing was started


def test_a_dataset_with_one_label_is_refused():
    rows = [r for r in load_task("support_intents").seed_examples if r["label"] == "brewing_help"]
    save_version("support_intents", rows, {})
    out = _train("--task", "support_intents", "--student", "minilm-l6")
    assert out.exit_code == 2
    assert "has one label only ('brewing_help'); a classifier needs examples of at least 2 labels" in out.output


def test_missing_data_encoder_for_generation_and_unknown_version_say_what_to_do():
    out = _train("--task", "support_intents")
    assert out.exit_code == 2 and "run `workbench generate --task support_intents`" in out.output
    save_version("support_replies", load_task("support_replies").seed_examples, {})
    out = _train("--task", "support_replies", "--student", "minilm-l6")
    assert out.exit_code == 2 and "is an encoder and cannot generate text" in out.output
    out = _train("--task", "support_replies", "--dataset", "reviewed/v004")
    assert out.exit_code == 2 and "no reviewed version 'v004'" in out.output
    out = CliRunner().invoke(app, ["predict", "--run", "nope", "--text", "hi"])
    assert out.exit_code == 2 and "no finished run 'nope'" in out.output
