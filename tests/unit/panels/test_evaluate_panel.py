"""EvaluatePanel driven headless: the widgets make the config; bad choices show in the panel."""

import pytest

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


def _evaluated_without_errors(tmp_path, **panel_args):
    """A panel whose last evaluation got every held-out row right (what run_evaluate returns, in short)."""
    from types import SimpleNamespace

    from workbench.next_round import NextRoundPlan

    y = ["billing_issue", "delivery_status", "billing_issue"]
    plan = NextRoundPlan.build("support_intents", y, y, total=6, source={"strategy": "finetuned", "model": "m"})
    per_label = {lab: {} for lab in ["billing_issue", "delivery_status", "promo_and_gifts", "change_plan"]}
    panel = EvaluatePanel(EvaluateConfig(task="support_intents", plan_size=6), **panel_args)
    panel.result = SimpleNamespace(eval_id="e1", out_dir=tmp_path, plan=plan.to_dict(),
                                   plan_path=plan.write(tmp_path / "plan.yaml"),
                                   focus={"strategy": "finetuned", "predictions": y, "per_label": per_label})
    return panel


def test_no_errors_is_a_status_not_a_crash(tmp_path, monkeypatch):
    import workbench.generate

    monkeypatch.setattr(workbench.generate, "run_generate", lambda cfg: pytest.fail("nothing to generate"))
    panel = _evaluated_without_errors(tmp_path)
    assert panel.plan_next() is None and panel.last_error is None
    assert panel.plan_status == "no_errors" and "nothing to plan" in panel.status_line.value
    assert "nothing to plan" in panel.plan.value and "finetuned" in panel.plan.value
    assert panel.generate_next() is None and panel.last_error is None  # what failed the notebook pipeline
    assert "nothing to plan" in panel.status_line.value and "nothing generated" in panel.generated.value
    assert not any(b.disabled for b in panel.buttons)


def test_no_errors_and_top_up_plans_the_weakest_labels(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import workbench.generate
    from workbench.next_round import NextRoundPlan

    asked = []
    gen = SimpleNamespace(counts={"kept": 6, "per_label": {"change_plan": 3, "promo_and_gifts": 3}}, reused=False,
                          version=SimpleNamespace(version="v002", path=tmp_path / "v002"))
    monkeypatch.setattr(workbench.generate, "run_generate", lambda cfg: asked.append(cfg) or gen)
    panel = _evaluated_without_errors(tmp_path, top_up=True)
    assert panel.top_up.value
    path = panel.plan_next()
    assert panel.last_error is None and path == tmp_path / "plan_top_up.yaml"
    plan = NextRoundPlan.read(path)
    assert panel.plan_status == plan.status == "top_up" and plan.total == 6
    assert set(plan.labels) == {"change_plan", "promo_and_gifts"}  # never in the held-out rows: weakest
    for label, n in plan.labels.items():
        assert f"<td>{label}</td><td>{n}</td>" in panel.plan.value
    assert panel.generate_next() is gen and asked[0].plan == str(path)
    assert "new version v002" in panel.generated.value
    panel.top_up.value = False  # unticked: back to the evaluation's own (empty) plan
    assert panel.plan_next() is None and panel.plan_status == "no_errors"
