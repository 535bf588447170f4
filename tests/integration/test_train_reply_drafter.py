"""User story: reply pairs fine-tune SmolLM2 (LoRA SFT) into a reply drafter used in batches."""

import json

import pytest

from workbench.store import save_version
from workbench.tasks import load_task
from workbench.train import TrainConfig, load_student, run_train

pytestmark = pytest.mark.slow


def test_sft_learns_the_answers_and_the_student_drafts_replies():
    spec = load_task("support_replies")
    version = save_version("support_replies", spec.seed_examples * 2, {"teacher": "seeds"})
    result = run_train(TrainConfig(task="support_replies", student="smollm2-135m", max_steps=6, batch_size=4,
                                   learning_rate=1e-3, max_length=128, checkpoint_every=3, progress=False))
    info = result.info
    assert (info["objective"], info["method"], info["dataset"]["version"]) == ("sft", "lora", version.version)
    assert info["steps"] == 6 and 0 < info["trainable_parameters"] < 0.1 * info["total_parameters"]
    log = [json.loads(line) for line in (result.run_dir / "log.jsonl").read_text().splitlines()]
    train_loss = [e["loss"] for e in log if "loss" in e]
    eval_loss = [e["eval_loss"] for e in log if "eval_loss" in e]
    assert sum(train_loss[-2:]) < sum(train_loss[:2])  # the loss on answer tokens falls
    assert eval_loss[-1] < eval_loss[0]
    assert (result.model_dir / "model.safetensors").is_file() and (result.adapter_dir / "adapter_config.json").is_file()

    student = load_student(result.run_id)
    replies = student.predict(["My beans arrived stale, what can I do?", "How do I skip my next box?"],
                              batch_size=2, max_new_tokens=24)
    assert len(replies) == 2 and all(isinstance(r, str) and r.strip() for r in replies)
