"""A user pushes, watches progress and pulls from the ReviewPanel (local Argilla)."""

from workbench.panels import ReviewPanel
from workbench.review import ReviewConfig
from workbench.store import record_id, save_version
from workbench.tasks import load_task


def test_review_panel_push_progress_wait_and_auto_pull(local_argilla, monkeypatch):
    from workbench.settings import get_settings

    monkeypatch.setenv("WORKBENCH_ARGILLA_URL", local_argilla.url)
    monkeypatch.setenv("WORKBENCH_ARGILLA_API_KEY", local_argilla.credentials().api_key)
    get_settings.cache_clear()
    spec = load_task("support_intents")
    rows = [{"id": record_id(s["label"], s["text"]), "text": s["text"], "label": s["label"]}
            for s in spec.seed_examples[:12]]
    save_version(spec.name, rows, {"task": spec.name, "teacher": "llamacpp:gemma3-270m"})
    panel = ReviewPanel(ReviewConfig(task=spec.name, dataset="panel-review", progress=False))

    panel.push_button.click()
    assert panel.last_error is None, panel.log_text()
    assert panel.pushed.pushed == 12 and local_argilla.url in panel.link.value
    bars = panel.progress.children
    assert bars[0].children[1].max == 12 and bars[0].children[1].value == 0

    panel.policy.value = "wait"
    panel.pull_button.click()
    assert "12 records await review" in panel.status_line.value and "12 records await review" in panel.log_text()
    assert not panel.pull_button.disabled

    panel.policy.value = "auto"
    panel.pull_button.click()
    assert panel.last_error is None, panel.log_text()
    assert panel.pulled.counts["decided_by"] == {"auto": 12}
    assert "accepted" in panel.summary.value and "delivery_status" in panel.summary.value
    panel.status_button.click()
    names = [bar.children[0].value for bar in panel.progress.children]
    assert "auto-reviewer" in names
