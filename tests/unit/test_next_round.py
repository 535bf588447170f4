"""The next round's generation plan (workbench.next_round) from planted errors."""

import pytest

from workbench.next_round import NextRoundPlan, PlanError


def test_plan_targets_the_confused_labels_in_proportion():
    # planted: billing -> promo 3 times, promo -> billing once, cancel -> pause twice; 4 right
    y_true = ["billing_issue"] * 3 + ["promo_and_gifts"] + ["cancel_subscription"] * 2 + ["delivery_status"] * 4
    y_pred = ["promo_and_gifts"] * 3 + ["billing_issue"] + ["pause_or_skip"] * 2 + ["delivery_status"] * 4
    plan = NextRoundPlan.build("support_intents", y_true, y_pred, total=60)
    # 6 errors, 10 examples each, half to each side: billing 4*5, promo 4*5, cancel 2*5, pause 2*5
    assert plan.labels == {"billing_issue": 20, "promo_and_gifts": 20, "cancel_subscription": 10,
                           "pause_or_skip": 10}
    assert plan.total == 60 and plan.errors == 6 and plan.scored == 10
    assert "delivery_status" not in plan.labels  # never wrong: no new data
    assert [p.model_dump() for p in plan.pairs] == [
        {"labels": ["billing_issue", "promo_and_gifts"], "errors": 4, "n": 40},
        {"labels": ["cancel_subscription", "pause_or_skip"], "errors": 2, "n": 20}]
    assert plan.status == "errors" and "aimed at 6 errors" in plan.summary()


def test_rounding_keeps_the_total():
    plan = NextRoundPlan.build("t", ["a", "b", "c"], ["b", "c", "a"], total=10)
    assert sum(plan.labels.values()) == 10 and set(plan.labels) == {"a", "b", "c"}


def test_no_errors_no_plan():
    plan = NextRoundPlan.build("t", ["a", "b"], ["a", "b"], total=10)
    assert plan.labels == {} and plan.total == 0
    assert plan.status == "no_errors" and plan.empty and "nothing to plan" in plan.summary()


def test_no_errors_and_a_top_up_asks_for_the_weakest_labels():
    # every held-out row right: a, b perfect (b on fewer rows); c never in the held-out rows
    y = ["a", "a", "b"]
    plan = NextRoundPlan.build("t", y, y, total=9, labels=["a", "b", "c", "d"], top_up=True)
    assert plan.status == "top_up" and plan.top_up and plan.errors == 0
    assert plan.labels == {"c": 5, "d": 4} and plan.total == 9  # F1 0 (unseen) first: the weaker half
    perfect = NextRoundPlan.build("t", y, y, total=9, labels=["a", "b"], top_up=True)
    assert perfect.labels == {"b": 9}  # ties on F1 and recall: the label with the least evidence
    # with errors, a top-up changes nothing: the errors decide
    wrong = NextRoundPlan.build("t", ["a", "b"], ["b", "b"], total=4, labels=["a", "b", "c"], top_up=True)
    assert wrong.status == "errors" and wrong.labels == {"a": 2, "b": 2}


def test_written_plan_reads_back_and_bad_plans_say_what_to_fix(tmp_path):
    plan = NextRoundPlan.build("support_intents", ["billing_issue"], ["promo_and_gifts"], total=8)
    path = plan.write(tmp_path / "plan.yaml")
    assert "workbench generate --task support_intents --plan" in path.read_text()
    assert NextRoundPlan.read(path, ["billing_issue", "promo_and_gifts"]).labels == {"billing_issue": 4,
                                                                                  "promo_and_gifts": 4}
    assert NextRoundPlan.read(path) == plan  # every field survives the file
    with pytest.raises(PlanError, match="not labels of the task"):
        NextRoundPlan.read(path, ["billing_issue"])
    (tmp_path / "bad.json").write_text('{"labels": {"billing_issue": -2}}')
    with pytest.raises(PlanError, match="whole numbers"):
        NextRoundPlan.read(tmp_path / "bad.json")
    with pytest.raises(PlanError, match="does not exist"):
        NextRoundPlan.read(tmp_path / "missing.yaml")
    (tmp_path / "by_hand.yaml").write_text("labels:\n  billing_issue: 3\n")  # a hand-written plan: labels only
    assert NextRoundPlan.read(tmp_path / "by_hand.yaml").status == "errors"
    empty = NextRoundPlan.build("t", ["a"], ["a"]).write(tmp_path / "empty.yaml")
    with pytest.raises(PlanError, match="nothing to plan"):
        NextRoundPlan.read(empty)


def test_generate_takes_its_per_label_targets_from_a_plan(tmp_path):
    from workbench.generate.config import GenerateConfig
    from workbench.generate.run import _targets
    from workbench.tasks import load_task

    spec = load_task("support_intents")
    assert _targets(spec, GenerateConfig(task="support_intents", n=25)) == {lab: 3 for lab in spec.label_names}
    path = NextRoundPlan.build(spec.name, ["billing_issue"] * 2, ["promo_and_gifts"] * 2, total=6).write(
        tmp_path / "plan.yaml")
    assert _targets(spec, GenerateConfig(task="support_intents", plan=str(path))) == {"billing_issue": 3,
                                                                                     "promo_and_gifts": 3}
