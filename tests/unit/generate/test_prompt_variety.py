"""Better prompts from the same chat teacher: variety on purpose and contrastive jobs."""

from types import SimpleNamespace

import numpy as np

from workbench.generate.contrast import confusable_for_run, is_contrastive, plan_partners, seed_neighbours
from workbench.generate.jobs import list_jobs
from workbench.generate.variety import TYPOS, direction
from workbench.tasks import VarietySpec, load_task

ARGS = dict(round_no=0, yields={}, seed=3)


def test_each_chat_job_states_a_length_and_a_trait_rotated_by_its_index():
    spec = load_task("support_intents")
    lab = spec.label("billing_issue")
    said = [direction(spec.generation.variety, lab, i) for i in range(12)]
    assert said == [direction(spec.generation.variety, lab, i) for i in range(12)]  # deterministic
    assert len(set(said)) == 12  # 3 lengths x 4 trait kinds: the first dozen all differ
    lengths = spec.generation.variety.lengths
    assert [s.split("; ")[0] for s in said[:3]] == lengths
    assert any(TYPOS in s for s in said) and any("about this case: refunds of a charge" in s for s in said)
    assert any("written by" in s for s in said) and any("polite and formal" in s for s in said)
    only = VarietySpec(lengths=["one line"], registers=[], personas=[], typos=True, details=False)
    assert direction(only, lab, 5) == f"one line; {TYPOS}"

    jobs = list_jobs(spec, "generate", "chat", wanted={"billing_issue": 24}, **ARGS)
    assert [j.variety for j in jobs] == said[:len(jobs)]
    assert all(f"Style of this batch: {j.variety}." in j.prompt for j in jobs)
    plain = list_jobs(spec, "generate", "completion", wanted={"billing_issue": 24}, **ARGS)
    assert all(j.variety is None and "Style" not in j.prompt for j in plain)  # few-shot lists stay as they were


def test_a_third_of_a_labels_chat_jobs_contrast_it_with_its_confusable_labels():
    spec = load_task("support_intents")
    confusable = {"cancel_subscription": ["pause_or_skip", "billing_issue"]}
    jobs = list_jobs(spec, "generate", "chat", wanted={"cancel_subscription": 36}, confusable=confusable, **ARGS)
    assert len(jobs) == 9
    assert [j.contrast for j in jobs] == [None, None, "pause_or_skip", None, None, "billing_issue",
                                          None, None, "pause_or_skip"]
    pause = {r["text"] for r in spec.seed_examples if r["label"] == "pause_or_skip"}
    job = jobs[2]
    assert 'clearly not "pause_or_skip"' in job.prompt
    counter = job.prompt.split("so do not write messages like them:\n")[1].split("\n\n")[0].splitlines()
    assert len(counter) == spec.generation.contrastive.counter_examples
    assert {line.removeprefix("- ") for line in counter} <= pause
    assert "clearly not" not in jobs[0].prompt
    same = list_jobs(spec, "generate", "chat", wanted={"cancel_subscription": 36}, confusable=confusable, **ARGS)
    assert [j.prompt for j in same] == [j.prompt for j in jobs]
    assert [is_contrastive(i, 0.5) for i in range(4)] == [False, True, False, True]
    assert not any(is_contrastive(i, 0.0) for i in range(9)) and all(is_contrastive(i, 1.0) for i in range(9))


def test_confusable_labels_are_the_nearest_seed_centroids_or_the_plans_pairs():
    seeds = [{"text": t, "label": lab} for lab, ts in
             {"a": ["a1", "a2"], "b": ["b1", "b2"], "c": ["c1"]}.items() for t in ts]
    planted = {"a1": [1, 0, 0], "a2": [0.9, 0.1, 0], "b1": [0.8, 0.3, 0], "b2": [0.7, 0.4, 0.1], "c1": [0, 0, 1]}
    spec = SimpleNamespace(label_names=["a", "b", "c"], seed_examples=seeds)
    embed = lambda texts: np.array([planted[t] for t in texts])  # noqa: E731
    assert seed_neighbours(spec, embed, 1) == {"a": ["b"], "b": ["a"], "c": ["b"]}
    assert seed_neighbours(spec, embed, 2)["c"] == ["b", "a"]
    assert plan_partners([["a", "c"], ["b", "gone"]], ["a", "b", "c"]) == {"a": ["c"], "c": ["a"]}


def test_a_chat_run_pairs_labels_from_the_plan_then_the_seeds(tmp_path):
    from workbench.models import embed
    from workbench.next_round import NextRoundPlan

    task = "support_intents"
    spec = load_task(task)
    seeds_only = confusable_for_run(spec, "chat", None, embed)
    assert set(seeds_only) == set(spec.label_names) and "pause_or_skip" in seeds_only["cancel_subscription"]
    assert all(lab not in partners and len(partners) == 2 for lab, partners in seeds_only.items())
    plan = NextRoundPlan.build(task, ["billing_issue", "promo_and_gifts"], ["promo_and_gifts", "billing_issue"],
                               total=10).write(tmp_path / "plan.yaml")
    planned = confusable_for_run(spec, "chat", str(plan), embed)
    assert planned["billing_issue"] == ["promo_and_gifts"] and planned["promo_and_gifts"] == ["billing_issue"]
    assert planned["cancel_subscription"] == seeds_only["cancel_subscription"]
    assert confusable_for_run(spec, "completion", str(plan), embed) is None  # base models get few-shot lists
