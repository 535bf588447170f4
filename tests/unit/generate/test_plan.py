from workbench.generate.plan import plan_list_jobs, plan_output_jobs, prompts_needed
from workbench.tasks import load_task


def test_prompts_needed():
    assert prompts_needed(0, 8, 2.0, None) == 0
    assert prompts_needed(30, 8, 2.0, None) == 8
    assert prompts_needed(10, 8, 2.0, observed_yield=2.5) == 5
    assert prompts_needed(10, 8, 2.0, observed_yield=0.0) == 24  # floor of 0.5 per prompt


def test_jobs_are_deterministic_and_use_the_labels_own_seeds():
    spec = load_task("support_intents")
    args = dict(round_no=1, wanted={"billing_issue": 8, "brewing_help": 4}, yields={}, seed=7)
    a = plan_list_jobs(spec, "generate", "completion", **args)
    b = plan_list_jobs(spec, "generate", "completion", **args)
    assert [(j.id, j.prompt) for j in a] == [(j.id, j.prompt) for j in b]
    assert [j.id for j in a] == ["r1-billing_issue-0000", "r1-billing_issue-0001", "r1-brewing_help-0000"]
    billing = {r["text"] for r in spec.seed_examples if r["label"] == "billing_issue"}
    shots = [line.split(". ", 1)[1] for line in a[0].prompt.splitlines() if line[:2] in {"1.", "2.", "3."}]
    assert shots and set(shots) <= billing
    c = plan_list_jobs(spec, "generate", "completion", **{**args, "seed": 8})
    assert [j.prompt for j in c] != [j.prompt for j in a]


def test_output_jobs_answer_each_input():
    spec = load_task("support_replies")
    jobs = plan_output_jobs(spec, "completion", [{"id": "abc", "input": "my kettle leaks"}], round_no=0, seed=0)
    assert jobs[0].id == "o0-abc" and jobs[0].source_id == "abc"
    assert jobs[0].prompt.rstrip().endswith("Customer: my kettle leaks\nSupport:")
