"""TrainPanel driven headless: the widgets make the config, and bad input shows in the panel."""

from workbench.panels import TrainPanel
from workbench.train import TrainConfig


def test_widgets_start_from_the_config_then_the_task_defaults():
    panel = TrainPanel(TrainConfig(task="support_intents", epochs=2))
    assert panel.epochs.value == 2  # from the config
    assert panel.student.value == "minilm-l6" and panel.lora_r.value == 8  # the task's train: defaults
    assert {"minilm-l6", "smollm2-135m", "gemma3-270m"} <= set(panel.student.options)
    assert panel.result is None and not panel.loss_plot.value


def test_the_widgets_not_the_config_decide():
    cfg = TrainConfig(task="support_intents", student="minilm-l6", max_steps=5, batch_size=4, progress=False)
    panel = TrainPanel(cfg)
    panel.student.value = "smollm2-135m"
    panel.dataset.value = " reviewed/v002 "
    panel.epochs.value, panel.learning_rate.value, panel.lora_r.value = 7, 1e-3, 16
    got = panel.current_config()
    assert (got.student, got.dataset, got.epochs, got.learning_rate, got.lora_r) == (
        "smollm2-135m", "reviewed/v002", 7, 1e-3, 16)
    assert (got.max_steps, got.batch_size, got.progress) == (5, 4, False)  # the rest comes from the config
    panel.dataset.value, panel.epochs.value, panel.lora_r.value, panel.learning_rate.value = "", 0, 0, 0.0
    got = panel.current_config()  # blank and 0 mean "the task's default"
    assert got.dataset is None and got.epochs is None and got.lora_r is None and got.learning_rate is None


def test_an_unknown_student_shows_in_the_log_and_the_panel_stays_usable():
    panel = TrainPanel(TrainConfig(task="support_intents", progress=False))
    panel.student.value = "gpt-9"
    assert panel.run() is None  # no exception out of the button's callback
    assert panel.last_error is not None and "error" in panel.status_line.value
    assert "unknown student 'gpt-9'" in panel.log_text() and "minilm-l6" in panel.log_text()
    assert not panel.run_button.disabled and panel.result is None


def test_no_data_yet_says_so_in_the_log():
    panel = TrainPanel(TrainConfig(task="support_intents", student="minilm-l6", progress=False))
    panel.run_button.click()
    assert panel.last_error is not None and panel.result is None
    assert "error while training minilm-l6 on support_intents" in panel.log_text()
    assert "has no dataset yet" in panel.log_text() and "has no dataset yet" in panel.status_line.value


def test_a_task_that_does_not_load_still_builds_a_panel_that_explains():
    panel = TrainPanel(TrainConfig(task="no_such_task"))
    assert panel.student.value == "" and panel.epochs.value == 0
    panel.run()
    assert "no such task spec" in panel.log_text() and panel.result is None
