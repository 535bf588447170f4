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
    assert info.rows.train + info.rows.validation == len(spec.seed_examples) and info.rows.seeds_added == 0
    assert "seeds only" in result.card_path.read_text()
    assert run_train(cfg).reused  # the same seeds, the same frozen run
