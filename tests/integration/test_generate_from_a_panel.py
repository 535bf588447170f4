"""A user generates from the GeneratePanel: a sample table and the rejections appear; errors stay visible."""

import pytest

from workbench.generate import GenerateConfig
from workbench.panels import GeneratePanel


@pytest.mark.slow
def test_generate_panel_runs_and_shows_sample_and_errors():
    panel = GeneratePanel(GenerateConfig(task="support_intents", n=100, slots=16, batch_size=32, progress=False))
    panel.n.value = 10  # the widget, not the config, decides
    panel.run_button.click()
    assert panel.last_error is None, panel.log_text()
    rows = list(panel.result.version.load())
    assert panel.result.manifest["parameters"]["n"] == 10
    assert rows and rows[0]["text"][:40] in panel.sample.value.replace("&#x27;", "'")
    assert "rejected" in panel.rejections.value
    assert f"saved {panel.result.version.version}" in panel.log_text()

    panel.teacher.value = "nonsense:teacher"
    panel.run_button.click()
    assert panel.last_error is not None and "error" in panel.status_line.value
    assert "nonsense" in panel.log_text() and not panel.run_button.disabled
    assert panel.result.version.version == "v001"  # the last good result is kept
