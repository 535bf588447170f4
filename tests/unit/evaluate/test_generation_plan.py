"""The next round's generation plan from planted errors."""

import pytest

from workbench.evaluate.plan import PlanError, build_plan, read_plan, write_plan


def test_plan_targets_the_confused_labels_in_proportion():
    # planted: billing -> promo 3 times, promo -> billing once, cancel -> pause twice; 4 right
    y_true = ["billing_issue"] * 3 + ["promo_and_gifts"] + ["cancel_subscription"] * 2 + ["delivery_status"] * 4
    y_pred = ["promo_and_gifts"] * 3 + ["billing_issue"] + ["pause_or_skip"] * 2 + ["delivery_status"] * 4
    plan = build_plan("support_intents", y_true, y_pred, total=60)
    # 6 errors, 10 examples each, half to each side: billing 4*5, promo 4*5, cancel 2*5, pause 2*5
    assert plan["labels"] == {"billing_issue": 20, "promo_and_gifts": 20, "cancel_subscription": 10,
                              "pause_or_skip": 10}
    assert plan["total"] == 60 and plan["errors"] == 6 and plan["scored"] == 10
    assert "delivery_status" not in plan["labels"]  # never wrong: no new data
    assert plan["pairs"] == [{"labels": ["billing_issue", "promo_and_gifts"], "errors": 4, "n": 40},
                             {"labels": ["cancel_subscription", "pause_or_skip"], "errors": 2, "n": 20}]


def test_rounding_keeps_the_total():
    plan = build_plan("t", ["a", "b", "c"], ["b", "c", "a"], total=10)
    assert sum(plan["labels"].values()) == 10 and set(plan["labels"]) == {"a", "b", "c"}


def test_no_errors_no_plan():
    plan = build_plan("t", ["a", "b"], ["a", "b"], total=10)
    assert plan["labels"] == {} and plan["total"] == 0


def test_written_plan_reads_back_and_bad_plans_say_what_to_fix(tmp_path):
    plan = build_plan("support_intents", ["billing_issue"], ["promo_and_gifts"], total=8)
    path = write_plan(plan, tmp_path / "plan.yaml")
    assert "workbench generate --task support_intents --plan" in path.read_text()
    assert read_plan(path, ["billing_issue", "promo_and_gifts"])["labels"] == {"billing_issue": 4,
                                                                             "promo_and_gifts": 4}
    with pytest.raises(PlanError, match="not labels of the task"):
        read_plan(path, ["billing_issue"])
    (tmp_path / "bad.json").write_text('{"labels": {"billing_issue": -2}}')
    with pytest.raises(PlanError, match="whole numbers"):
        read_plan(tmp_path / "bad.json")
    with pytest.raises(PlanError, match="does not exist"):
        read_plan(tmp_path / "missing.yaml")


def test_generate_takes_its_per_label_targets_from_a_plan(tmp_path):
    from workbench.generate.config import GenerateConfig
    from workbench.generate.run import _targets
    from workbench.tasks import load_task

    spec = load_task("support_intents")
    assert _targets(spec, GenerateConfig(task="support_intents", n=25)) == {lab: 3 for lab in spec.label_names}
    path = write_plan(build_plan(spec.name, ["billing_issue"] * 2, ["promo_and_gifts"] * 2, total=6),
                      tmp_path / "plan.yaml")
    assert _targets(spec, GenerateConfig(task="support_intents", plan=str(path))) == {"billing_issue": 3,
                                                                                     "promo_and_gifts": 3}
