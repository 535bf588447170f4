"""User story: a reviewer-approved dataset becomes a small intent classifier with a card.

One MiniLM LoRA run (module-scoped, ~30 s on 2 cores) on a reviewed version, read by
every test here: the loss falls, the trainable parameters (and only those) change, the
merged model predicts like base + adapter, the card names the data, the run is frozen.
"""

import json

import pytest
import torch
from typer.testing import CliRunner

from workbench.settings import get_settings
from workbench.store import save_version
from workbench.tasks import load_task
from workbench.train import TrainConfig, load_student, run_train

pytestmark = pytest.mark.slow

CONFIG = dict(task="support_intents", student="minilm-l6", epochs=5, learning_rate=3e-3, batch_size=8,
              validation_fraction=0.15, progress=False)


@pytest.fixture(scope="module")
def trained(module_home):
    """(result, reviewed version): trained once in a home of the module's own."""
    with module_home("train_home"):
        spec = load_task("support_intents")
        seeds = spec.seed_examples
        save_version("support_intents", seeds, {"teacher": "seeds-as-synthetic"})
        # Reviewed rows: the seeds (accepted), plus one a reviewer discarded, which must not be learned.
        # Rows as the Review stage pulls them: the teacher and source version ride along on each row.
        rows = [{**r, "decision": "accepted", "teacher": "llamacpp:gemma3-270m", "source_version": "v001"}
                for r in seeds]
        rows.append({"text": "lorem ipsum dolor sit amet", "label": None, "decision": "discarded",
                     "teacher": "llamacpp:gemma3-270m", "source_version": "v001"})
        reviewed = save_version("support_intents", rows, {"kind": "reviewed", "spec_hash": spec.spec_hash(),
                                                          "parent_synthetic_versions": ["v001"]}, kind="reviewed")
        result = run_train(TrainConfig(**CONFIG))
        yield result, reviewed


def test_loss_falls_and_the_default_data_is_the_reviewed_version(trained):
    result, reviewed = trained
    assert result.info["dataset"]["kind"] == "reviewed" and result.info["dataset"]["version"] == reviewed.version
    assert result.info["rows"]["dropped"] == {"discarded": 1}
    log = [json.loads(line) for line in (result.run_dir / "log.jsonl").read_text().splitlines()]
    train_loss = [e["loss"] for e in log if "loss" in e]
    eval_loss = [e["eval_loss"] for e in log if "eval_loss" in e]
    assert len(train_loss) >= 4 and len(eval_loss) >= 2
    assert sum(train_loss[-2:]) / 2 < 0.8 * sum(train_loss[:2]) / 2
    assert min(eval_loss) < eval_loss[0]
    assert (result.run_dir / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any(p.name.startswith("events.out.tfevents") for p in (result.run_dir / "tensorboard").iterdir())


def test_trainable_parameters_change_and_frozen_ones_do_not(trained):
    from transformers import AutoModelForSequenceClassification

    result, _ = trained
    with_adapter = load_student(result.run_dir, adapter=True).model
    lora_b = {n: p for n, p in with_adapter.named_parameters() if "lora_B" in n}
    assert lora_b and all(p.abs().sum() > 0 for p in lora_b.values())  # LoRA B starts at exactly zero
    original = AutoModelForSequenceClassification.from_pretrained(result.info["student_path"], num_labels=10)
    base = with_adapter.get_base_model()
    query = "bert.encoder.layer.0.attention.self.query"
    assert torch.equal(base.get_submodule(query).base_layer.weight, original.get_submodule(query).weight)
    trained_head = base.classifier.modules_to_save["default"].weight
    assert not torch.allclose(trained_head, base.classifier.original_module.weight)


def test_merged_model_predicts_the_same_as_base_plus_adapter(trained):
    result, _ = trained
    texts = [r["text"] for r in load_task("support_intents").heldout_examples()[:24]]
    merged, adapter = load_student(result.run_dir), load_student(result.run_dir, adapter=True)
    a, b = merged.logits(texts, batch_size=8), adapter.logits(texts, batch_size=8)
    assert torch.allclose(a, b, atol=1e-4), (a - b).abs().max()
    assert merged.predict(texts) == adapter.predict(texts)
    assert (result.model_dir / "model.safetensors").is_file()
    assert not (result.run_dir / "checkpoints").exists()  # optimizer state is dropped once the run is done


def test_card_names_the_dataset_version_it_was_trained_on(trained):
    result, reviewed = trained
    card = result.card_path.read_text()
    assert f"support_intents/reviewed/{reviewed.version}" in card
    assert reviewed.manifest["data_sha256"] in card and "| teacher | llamacpp:gemma3-270m |" in card
    assert '| reviewed from (synthetic versions) | ["v001"] |' in card
    assert "| learning_rate | 0.003 |" in card and "eval_macro_f1" in card


def test_the_same_command_returns_the_frozen_run(trained):
    result, _ = trained
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(result.run_dir.parents[3]))  # <home>/runs/<task>/train/<run-id>
        mp.setenv("WORKBENCH_DATASETS_DIR", str(result.info["dataset"]["path"]).rsplit("/support_intents/", 1)[0])
        get_settings.cache_clear()
        before = {p: p.stat().st_mtime_ns for p in result.run_dir.rglob("*") if p.is_file()}
        again = run_train(TrainConfig(**CONFIG))
        assert again.reused and again.run_dir == result.run_dir and again.steps_this_run == 0
        assert {p: p.stat().st_mtime_ns for p in result.run_dir.rglob("*") if p.is_file()} == before

        out = CliRunner().invoke(__import__("workbench.cli", fromlist=["app"]).app,
                                 ["predict", "--run", result.run_id, "--text", "I forgot my password and the reset "
                                  "link never arrives", "--text", "cancel my subscription for good please", "--json"])
        assert out.exit_code == 0, out.output
        preds = [p["prediction"] for p in json.loads(out.stdout.strip().splitlines()[-1])["predictions"]]
        assert all(p in load_task("support_intents").label_names for p in preds) and len(preds) == 2
    get_settings.cache_clear()
