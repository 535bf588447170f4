"""Contrastive jobs: "messages that are X and not Y", for the labels a student confuses.

A share of each label's prompts (``generation.contrastive.share``, a third by default) name
one confusable label Y and show a few of Y's seeds as counter-examples, so the teacher writes
what sets X apart rather than what X and Y share. Which labels are confusable comes from the
next-round plan's ``pairs`` (the held-out confusions ``workbench evaluate`` found) when the run
has a plan, else from the seeds themselves: each label's nearest labels by the cosine of their
MiniLM seed centroids. Labels a plan's pairs leave out get their seed neighbours too.

Example:
    >>> [is_contrastive(i, 1 / 3) for i in range(6)]
    [False, False, True, False, False, True]
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from workbench.tasks import TaskSpec


def is_contrastive(index: int, share: float) -> bool:
    """Whether a label's job ``index`` is contrastive: ``share`` of them, spread evenly."""
    return math.floor((index + 1) * share + 1e-9) > math.floor(index * share + 1e-9)


def seed_neighbours(spec: TaskSpec, embed: Callable[[list[str]], Any], k: int) -> dict[str, list[str]]:
    """Each label -> its ``k`` nearest other labels by MiniLM seed centroid, nearest first.

    Example:
        >>> seed_neighbours(load_task("support_intents"), embed, 1)["cancel_subscription"]  # doctest: +SKIP
        ['pause_or_skip']
    """
    labels = spec.label_names
    rows = [r for r in spec.seed_examples if r.get("label") in labels]
    vectors = np.asarray(embed([r["text"] for r in rows]), dtype=np.float64)
    centroids = np.stack([vectors[[i for i, r in enumerate(rows) if r["label"] == lab]].mean(axis=0)
                          for lab in labels])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    sims = centroids @ centroids.T
    np.fill_diagonal(sims, -np.inf)
    # Ties (rare with float vectors) break by label order: the same spec always pairs the same way.
    return {lab: [labels[j] for j in np.argsort(-sims[i], kind="stable")[:k]] for i, lab in enumerate(labels)}


def plan_partners(pairs: Sequence[Sequence[str]], labels: Sequence[str]) -> dict[str, list[str]]:
    """Each label of a plan's ``pairs`` (most errors first) -> the labels it was confused with.

    Example:
        >>> plan_partners([["a", "b"], ["a", "c"], ["x", "b"]], ["a", "b", "c"])
        {'a': ['b', 'c'], 'b': ['a'], 'c': ['a']}
    """
    known, out = set(labels), {}
    for pair in pairs:
        if len(pair) != 2 or not set(pair) <= known or pair[0] == pair[1]:
            continue  # a label the task no longer has
        a, b = pair
        for x, y in ((a, b), (b, a)):
            if y not in out.setdefault(x, []):
                out[x].append(y)
    return out


def confusable_labels(spec: TaskSpec, embed: Callable[[list[str]], Any],
                      plan_pairs: Sequence[Sequence[str]] = ()) -> dict[str, list[str]]:
    """Label -> the labels its contrastive jobs name: the plan's partners first, seeds fill in."""
    c = spec.generation.contrastive
    out = plan_partners(plan_pairs, spec.label_names)
    missing = [lab for lab in spec.label_names if lab not in out]
    if missing:
        nearest = seed_neighbours(spec, embed, c.neighbours)
        out.update({lab: nearest[lab] for lab in missing})
    return {lab: out[lab] for lab in spec.label_names}


def confusable_for_run(spec: TaskSpec, mode: str, plan: str | None,
                       embed: Callable[[list[str]], Any]) -> dict[str, list[str]] | None:
    """What a generation run's contrastive jobs name: None unless the task is a classification
    one, the teacher chats and ``generation.contrastive`` is on; the plan's pairs when ``plan``."""
    c = spec.generation.contrastive
    if spec.type != "classification" or mode != "chat" or not c.enabled or c.share <= 0:
        return None
    pairs: list[list[str]] = []
    if plan:
        from workbench.next_round import NextRoundPlan

        pairs = [p.labels for p in NextRoundPlan.read(plan, spec.label_names).pairs]
    return confusable_labels(spec, embed, pairs)
