from workbench.generate.jobs import list_jobs, output_jobs, prompts_needed
from workbench.tasks import load_task


def test_prompts_needed():
    assert prompts_needed(0, 8, 2.0, None) == 0
    assert prompts_needed(30, 8, 2.0, None) == 8
    assert prompts_needed(10, 8, 2.0, observed_yield=2.5) == 5
    assert prompts_needed(10, 8, 2.0, observed_yield=0.0) == 24  # floor of 0.5 per prompt


def test_jobs_are_deterministic_and_use_the_labels_own_seeds():
    spec = load_task("support_intents")
    args = dict(round_no=1, wanted={"billing_issue": 8, "brewing_help": 4}, yields={}, seed=7)
    a = list_jobs(spec, "generate", "completion", **args)
    b = list_jobs(spec, "generate", "completion", **args)
    assert [(j.id, j.prompt) for j in a] == [(j.id, j.prompt) for j in b]
    assert [j.id for j in a] == ["r1-billing_issue-0000", "r1-billing_issue-0001", "r1-brewing_help-0000"]
    billing = {r["text"] for r in spec.seed_examples if r["label"] == "billing_issue"}
    shots = [line.split(". ", 1)[1] for line in a[0].prompt.splitlines() if line[:2] in {"1.", "2.", "3."}]
    assert shots and set(shots) <= billing
    c = list_jobs(spec, "generate", "completion", **{**args, "seed": 8})
    assert [j.prompt for j in c] != [j.prompt for j in a]


def test_output_jobs_answer_each_input():
    spec = load_task("support_replies")
    jobs = output_jobs(spec, "completion", [{"id": "abc", "input": "my kettle leaks"}], round_no=0, seed=0)
    assert jobs[0].id == "o0-abc" and jobs[0].source_id == "abc"
    assert jobs[0].prompt.rstrip().endswith("Customer: my kettle leaks\nSupport:")


def test_a_planned_rounds_new_rows_must_differ_from_its_parents_rows():
    from workbench.generate.curate import ListCurator
    from workbench.models import load_embedder

    spec = load_task("support_intents")
    model = load_embedder("minilm-l6")
    embed = lambda texts: model.encode(texts, normalize_embeddings=True, show_progress_bar=False)  # noqa: E731
    parent = ["The grinder I ordered came with a cracked hopper lid.", "Tracking has said 'in transit' for nine days."]
    teacher_text = (" the grinder I ordered came with a cracked hopper lid!\n"   # the parent's, exactly
                    "7. The grinder I ordered arrived with a cracked hopper lid.\n"  # the parent's, nearly
                    "8. My bag of Ethiopian beans smelled stale the day it arrived.")  # new
    entry = {"job": "r0-damaged_or_wrong_item-0000", "stage": "generate", "label": "damaged_or_wrong_item",
             "round": 0, "index": 0, "text": teacher_text, "output_tokens": 40}
    alone, _ = ListCurator(spec, embed, continuation=True).curate([entry])
    assert len(alone["damaged_or_wrong_item"]) == 2  # without a parent, only the near copy of item 1 goes

    kept, counts = ListCurator(spec, embed, continuation=True, existing=parent).curate([entry])
    assert [r["text"] for r in kept["damaged_or_wrong_item"]] == ["My bag of Ethiopian beans smelled stale the "
                                                                  "day it arrived."]
    assert counts["rejected"]["duplicate_of_parent"] == 1 and counts["rejected"]["duplicate_near"] == 1
