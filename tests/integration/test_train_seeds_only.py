"""User story: the seeds-only control, a student fine-tuned on the task's seed examples alone.

One tiny MiniLM run (a few steps, short rows) with no dataset version saved at all.
"""

import pytest

from workbench.tasks import load_task
from workbench.train import TrainConfig, run_train
from workbench.train.data import SEEDS_ONLY

pytestmark = pytest.mark.slow


def test_a_student_trains_on_the_seeds_alone_without_any_dataset_version():
    spec = load_task("support_intents")
    cfg = TrainConfig(task="support_intents", dataset=SEEDS_ONLY, max_steps=3, batch_size=8, max_length=32,
                      progress=False)
    result = run_train(cfg)
    info = result.info
    assert info.seeds_only and info.dataset.kind == "seeds" and info.dataset.teacher is None
    assert result.run_id.startswith(f"minilm-l6-seeds-{info.dataset.version}-") and info.steps == 3
    # One seed a label validates (real rows); the other 50 train once each: no synthetic rows to weigh them against.
    assert (info.rows.train, info.rows.validation, info.rows.validation_source) == (50, 10, "real rows")
    assert info.rows.seeds_added == 0 and info.rows.synthetic_in_training == 0 and len(spec.seed_examples) == 60
    assert "seeds only" in result.card_path.read_text()
    assert run_train(cfg).reused  # the same seeds, the same frozen run
