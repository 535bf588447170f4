"""A user trains from the TrainPanel: the loss plot draws live, the card and metrics appear,
a rerun returns the frozen run, and a bad student shows in the log while the result stays."""

import pytest

from workbench.panels import TrainPanel
from workbench.store import save_version
from workbench.tasks import load_task
from workbench.train import TrainConfig

pytestmark = pytest.mark.slow

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One torch thread: on a shared 2-core machine two threads wait on each other whenever
    another process holds a core (measured here: 8 MiniLM steps took 150 s with two, 15 s with one)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_train_panel_trains_plots_the_loss_and_keeps_errors_visible():
    save_version("support_intents", load_task("support_intents").seed_examples, {"teacher": "seeds-as-synthetic"})
    panel = TrainPanel(TrainConfig(task="support_intents", student="smollm2-135m", max_steps=8, batch_size=8,
                                   checkpoint_every=4, validation_fraction=0.15, progress=False))
    panel.student.value = "minilm-l6"  # the widgets, not the config, decide
    panel.learning_rate.value, panel.lora_r.value = 3e-3, 4
    panel.run_button.click()
    assert panel.last_error is None, panel.log_text()
    result = panel.result
    assert result.info["student"] == "minilm-l6" and result.info["hyperparameters"]["lora_r"] == 4
    assert result.info["hyperparameters"]["learning_rate"] == 3e-3 and result.info["steps"] == 8

    # the plot was redrawn while training (on_log), and shows the run's loss.png at the end
    assert panel.live_updates > 0
    assert [p for p in panel.loss_points if "loss" in p] and [p for p in panel.loss_points if "eval_loss" in p]
    assert panel.loss_plot.value == (result.run_dir / "loss.png").read_bytes()
    assert panel.loss_plot.value[:8] == PNG
    assert result.run_id in panel.metrics.value and "eval_loss" in panel.metrics.value
    assert str(result.card_path) in panel.card.value and result.card_path.is_file()
    log = panel.log_text()
    assert f"saved run {result.run_id} at {result.run_dir}" in log and f"model card: {result.card_path}" in log

    # the same settings again: the frozen run, with its curve read back from the run's log
    again = panel.run()
    assert again.reused and again.run_dir == result.run_dir and panel.live_updates == 0
    assert panel.loss_points and panel.loss_plot.value[:8] == PNG
    assert "is frozen, returned unchanged" in panel.log_text()

    panel.student.value = "no/such/folder"
    panel.run_button.click()
    assert panel.last_error is not None and "unknown student" in panel.status_line.value
    assert "unknown student 'no/such/folder'" in panel.log_text() and not panel.run_button.disabled
    assert panel.result.run_dir == result.run_dir  # the last good result is kept
