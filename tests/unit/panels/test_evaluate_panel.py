"""EvaluatePanel driven headless: the widgets make the config; bad choices show in the panel."""

from workbench.evaluate import EvaluateConfig
from workbench.evaluate.config import STRATEGIES
from workbench.panels import EvaluatePanel


def test_widgets_start_from_the_config():
    panel = EvaluatePanel(EvaluateConfig(task="support_intents", strategies=["prompt", "finetuned"], limit=12))
    assert [s for s, box in panel.strategies.items() if box.value] == ["prompt", "finetuned"]
    assert set(panel.strategies) == set(STRATEGIES)
    assert panel.students.value == ("minilm-l6", "smollm2-135m", "gemma3-270m") and panel.limit.value == 12
    every = EvaluatePanel(EvaluateConfig(task="support_intents")).current_config()
    assert every.strategies == list(STRATEGIES) and every.limit is None


def test_the_widgets_not_the_config_decide():
    cfg = EvaluateConfig(task="support_intents", k=3, plan_size=7, progress=False)
    panel = EvaluatePanel(cfg)
    for s, box in panel.strategies.items():
        box.value = s in ("fewshot", "retrieval")
    panel.students.value = ("minilm-l6",)
    panel.limit.value = 10
    got = panel.current_config()
    assert (got.strategies, got.students, got.limit) == (["fewshot", "retrieval"], ["minilm-l6"], 10)
    assert (got.k, got.plan_size, got.progress) == (3, 7, False)
    panel.limit.value = 0
    assert panel.current_config().limit is None  # 0: every held-out row


def test_an_empty_choice_is_an_error_not_everything():
    panel = EvaluatePanel(EvaluateConfig(task="support_intents", progress=False))
    for box in panel.strategies.values():
        box.value = False
    assert panel.run() is None and "tick at least one strategy" in panel.status_line.value
    panel.strategies["prompt"].value = True
    panel.students.value = ()
    panel.run_button.click()
    assert "select at least one student" in panel.log_text() and not panel.run_button.disabled


def test_an_unknown_student_shows_why_nothing_was_evaluated():
    panel = EvaluatePanel(EvaluateConfig(task="support_intents", strategies=["prompt"], students=["gpt-9"],
                                         progress=False))
    assert "gpt-9" in panel.students.options
    panel.run()
    assert panel.result is None and panel.last_error is not None
    assert "nothing to evaluate" in panel.log_text() and "gpt-9" in panel.log_text()


def test_plan_and_generate_before_an_evaluation_say_what_to_do():
    panel = EvaluatePanel(EvaluateConfig(task="support_intents"))
    assert panel.plan_next() is None
    assert "press Evaluate first" in panel.status_line.value
    panel.generate_button.click()
    assert panel.generate_result is None and panel.log_text().count("press Evaluate first") >= 2
    assert not any(b.disabled for b in panel.buttons)
