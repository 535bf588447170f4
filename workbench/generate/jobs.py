"""Prompt jobs: which prompts a generation round sends to the teacher.

A job is one rendered prompt with a stable id (``r<round>-<label>-<index>``). Jobs are
derived only from the task spec, the run's seed and what earlier rounds kept, so a
resumed run lists exactly the same jobs and can skip the ones its journal already has.
(How many examples each label needs comes from elsewhere: ``n``, or the next-round plan
of :mod:`workbench.next_round`.)

Chat teachers get better prompts: each job states a length and a trait
(:mod:`workbench.generate.variety`), and a share of them are contrastive, "X and not Y" with
Y's seeds as counter-examples (:mod:`workbench.generate.contrast`; ``confusable`` maps each
label to its confusable labels). Completion prompts (few-shot lists) stay as they are.

Example:
    >>> from workbench.tasks import load_task
    >>> spec = load_task("support_intents")
    >>> jobs = list_jobs(spec, "generate", "completion", round_no=0,
    ...                  wanted={"billing_issue": 8}, yields={}, seed=0)
    >>> jobs[0].id, jobs[0].label
    ('r0-billing_issue-0000', 'billing_issue')
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from workbench.generate.contrast import is_contrastive
from workbench.generate.variety import direction
from workbench.tasks import TaskSpec


@dataclass(frozen=True)
class Job:
    id: str
    stage: str  # "generate" / "input" (lists of new texts) or "output" (one reply)
    label: str | None
    prompt: str
    template: str
    round: int = 0
    index: int = 0  # position among its label's jobs in the round: orders curation
    source_id: str | None = None  # the input an "output" job answers
    contrast: str | None = None  # the label a contrastive job's messages must not be
    variety: str | None = None  # the length and trait the job asked for


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(f"{seed}|" + "|".join(map(str, parts)))


def prompts_needed(wanted: int, items_per_prompt: int, overgenerate: float, observed_yield: float | None) -> int:
    """How many prompts should give ``wanted`` kept items.

    The first round assumes half of the asked-for items survive, times ``overgenerate``;
    later rounds use the yield observed so far for that label (never below 0.5/prompt).
    """
    if wanted <= 0:
        return 0
    if observed_yield is None:
        return math.ceil(wanted * overgenerate / items_per_prompt)
    return math.ceil(1.2 * wanted / max(observed_yield, 0.5))


def list_jobs(spec: TaskSpec, purpose: str, mode: str, *, round_no: int, wanted: dict[str | None, int],
              yields: dict[str | None, float], seed: int,
              confusable: dict[str, list[str]] | None = None) -> list[Job]:
    """Jobs that ask the teacher for new list items (messages) per label.

    ``wanted`` maps label (None for generation tasks) to how many more items are needed.
    Each prompt shows ``shots`` seeds of that label, drawn and ordered at random. In chat
    mode each also states a length and a trait, and with ``confusable`` a share of a label's
    jobs are contrastive, rotating over its confusable labels.
    """
    g = spec.generation
    chat = mode == "chat"
    jobs = []
    for label, count in wanted.items():
        pool = _texts(spec, label)
        partners = (confusable or {}).get(label, []) if chat and g.contrastive.enabled and label else []
        n_prompts = prompts_needed(count, g.items_per_prompt, g.overgenerate, yields.get(label))
        turns = 0  # contrastive jobs so far: which partner is next
        for i in range(n_prompts):
            rng = _rng(seed, round_no, label, i)
            shots = rng.sample(pool, min(g.shots, len(pool)))
            lab = spec.label(label) if label else None
            variety = direction(g.variety, lab, i) if chat else None
            other = contrast = None
            if partners and is_contrastive(i, g.contrastive.share):
                other, turns = partners[turns % len(partners)], turns + 1
                theirs = _texts(spec, other)
                contrast = {"label": spec.label(other),
                            "examples": rng.sample(theirs, min(g.contrastive.counter_examples, len(theirs)))}
            extra = {"variety": variety, "contrast": contrast} if chat else {}
            prompt = spec.render(purpose, mode, label=lab, examples=shots, n=g.items_per_prompt,
                                 start=len(shots) + 1, **extra)
            jobs.append(Job(f"r{round_no}-{label or 'all'}-{i:04d}", purpose, label, prompt, purpose,
                            round=round_no, index=i, contrast=other, variety=variety))
    return jobs


def _texts(spec: TaskSpec, label: str | None) -> list[str]:
    return [r.get("text") or r.get("input") for r in spec.seed_examples if label is None or r.get("label") == label]


def output_jobs(spec: TaskSpec, mode: str, inputs: list[dict], *, round_no: int, seed: int) -> list[Job]:
    """One job per synthetic input: the teacher writes its reply, few-shot from seed pairs."""
    jobs = []
    for row in inputs:
        rng = _rng(seed, round_no, row["id"])
        shots = rng.sample(spec.seed_examples, min(spec.generation.shots, len(spec.seed_examples)))
        prompt = spec.render("output", mode, examples=shots, input=row["input"])
        jobs.append(Job(f"o{round_no}-{row['id']}", "output", None, prompt, "output", round=round_no,
                        source_id=row["id"]))
    return jobs
