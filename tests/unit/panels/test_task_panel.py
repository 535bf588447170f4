"""TaskPanel driven headless: pick, validate, and see a broken spec's error in the panel."""

from workbench.panels import TaskPanel


def test_choosing_a_task_validates_it_and_shows_it():
    panel = TaskPanel("support_intents")
    assert panel.spec.name == "support_intents"
    assert "delivery_status" in panel.details.value
    assert "valid (60 seeds, 120 held-out)" in panel.log_text()
    panel.task.value = "support_replies"
    assert panel.spec.name == "support_replies" and panel.status_line.value.startswith("done")


def test_a_broken_spec_shows_the_fix_and_keeps_the_panel_usable(task_copy, monkeypatch):
    from workbench.settings import get_settings

    spec = task_copy / "task.yaml"
    spec.write_text(spec.read_text().replace("type: classification", "type: clasification"))
    monkeypatch.setenv("WORKBENCH_PROMPTS_DIR", str(task_copy.parent))
    get_settings.cache_clear()
    panel = TaskPanel("broken")
    assert panel.spec is None and panel.details.value == ""
    assert "error" in panel.status_line.value and "type" in panel.status_line.value
    assert "error while validating broken" in panel.log_text()
    assert not panel.validate_button.disabled
