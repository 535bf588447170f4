"""User story: a few-shot SetFit student (contrastive MiniLM + a regression head) that the rest of
the workbench loads like any other run.

One tiny run (module-scoped: support_intents' seeds alone, 2 contrastive steps, short rows), read by
every test here: run.json says setfit, the encoder moved, ``load_student`` predicts and gives
probabilities that agree, the same command returns the frozen run.
"""

import json

import pytest
import torch

from workbench.errors import ConfigError
from workbench.tasks import load_task
from workbench.train import TrainConfig, load_student, run_train

pytest.importorskip("setfit", reason="method='setfit' needs the setfit library (pyproject dependency)")
pytestmark = pytest.mark.slow

CONFIG = dict(task="support_intents", student="minilm-l6", method="setfit", setfit_iterations=1, max_steps=2,
              batch_size=4, max_length=32, dataset="seeds", progress=False)


@pytest.fixture(scope="module")
def trained(module_home):
    """Seeds-only SetFit (``dataset="seeds"``), trained once; the same command a second time."""
    with module_home("setfit_home"):
        yield run_train(TrainConfig(**CONFIG)), run_train(TrainConfig(**CONFIG))


def test_the_run_records_setfit_and_a_validation_score(trained):
    result, again = trained
    info = json.loads((result.run_dir / "run.json").read_text())
    assert info["method"] == "setfit" and info["hyperparameters"]["setfit_iterations"] == 1
    assert info["steps"] == 2 and info["dataset"]["kind"] == "seeds" and info["rows"]["validation"] > 0
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert 0.0 <= metrics["eval_macro_f1"] <= 1.0 and metrics["eval_loss"] > 0
    assert "setfit" in result.card_path.read_text()
    log = [json.loads(line) for line in (result.run_dir / "log.jsonl").read_text().splitlines()]
    assert [e["loss"] for e in log if "loss" in e] and (result.run_dir / "loss.png").is_file()
    assert again.reused and again.run_dir == result.run_dir  # frozen


def test_the_student_loads_and_predicts_with_probabilities(trained):
    from transformers import AutoModel

    result, _ = trained
    student = load_student(result.run_dir)
    texts = [r["text"] for r in load_task("support_intents").heldout_examples()[:6]]
    labels = student.predict(texts)
    proba = student.predict_proba(texts)
    assert labels == [max(p, key=p.get) for p in proba]
    assert all(abs(sum(p.values()) - 1) < 1e-4 for p in proba)
    base = AutoModel.from_pretrained(result.info.student_path)
    name = "encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(student.model.bert.get_parameter(name), base.get_parameter(name))  # tuned


@pytest.mark.parametrize("student,task", [("smollm2-135m", "support_intents"), ("minilm-l6", "support_replies")])
def test_setfit_is_refused_for_a_decoder_or_a_generation_task(student, task):
    with pytest.raises(ConfigError, match="setfit"):
        run_train(TrainConfig(task=task, student=student, method="setfit"))
