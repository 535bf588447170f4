"""Which pool messages people should review next: the selection strategies.

Every strategy sees the same things: the student's calibrated probabilities over the pool
(``proba``, one row per message, one column per label), the messages' unit MiniLM vectors, how
many to choose (``k``), a seed and the rows already reviewed (``exclude``). It returns indices
into the pool, at most ``k``, none excluded, no index twice.

- ``default``: *balanced margin*. The messages are grouped by the label the student predicts;
  the rounds go over the labels in column order, each taking that label's message with the smallest margin
  (top probability minus the runner-up) that is not within cosine :data:`NEAR_DUPLICATE` of a
  message already chosen. Every predicted label gets a review before any gets two, and a batch
  is never fifty near-copies of one confusing message. On clinc_bank (rounds of 30, 150 reviews,
  3 seeds) it beat margin, cluster and random selection on validation data (bench/active.py).
- ``margin``: the ``k`` smallest margins (the textbook rule; it piles onto one confusion).
- ``cluster``: k-means over the pool's vectors into ``k`` clusters, the smallest margin of each.
- ``random``: the control.

Example:
    >>> import numpy as np
    >>> from workbench.label.select import select
    >>> proba = np.array([[0.9, 0.1], [0.55, 0.45], [0.2, 0.8], [0.45, 0.55]])
    >>> vectors = np.eye(4)
    >>> select("default", proba, vectors, k=2)     # the least sure message of each label
    [1, 3]
    >>> select("margin", proba, vectors, k=1, exclude=[1])
    [3]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from workbench.label.errors import LabelError

# Two messages at or above this MiniLM cosine say the same thing: one review covers both.
NEAR_DUPLICATE = 0.9


@dataclass(frozen=True)
class Selector:
    """One strategy: ``choose(proba, vectors, k, rng, available) -> indices`` (``available`` is
    the pool rows not excluded, ascending) and one line for help texts."""

    choose: Callable[[np.ndarray, np.ndarray, int, np.random.Generator, np.ndarray], list[int]]
    describe: str


def margins(proba: np.ndarray) -> np.ndarray:
    """Top probability minus the runner-up, per row (small: the student hesitates).

    Example:
        >>> margins(np.array([[0.7, 0.2, 0.1]])).round(2).tolist()
        [0.5]
    """
    p = np.asarray(proba, dtype=float)
    if p.shape[1] < 2:
        return p[:, 0].copy()
    top2 = np.sort(p, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def _by_margin(proba: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return rows[np.argsort(margins(proba[rows]), kind="stable")]


def _balanced_margin(proba, vectors, k, rng, available) -> list[int]:
    order = _by_margin(proba, available)
    predicted = proba[order].argmax(axis=1)
    queues = [list(order[predicted == label]) for label in np.unique(predicted)]
    chosen: list[int] = []
    skipped: list[int] = []
    while len(chosen) < k and any(queues):
        # One pass over the labels (in column order): each takes its least sure message that is
        # no near copy of one already chosen.
        for queue in queues:
            while queue and len(chosen) < k:
                i = queue.pop(0)
                if chosen and float((vectors[chosen] @ vectors[i]).max()) >= NEAR_DUPLICATE:
                    skipped.append(i)
                    continue
                chosen.append(i)
                break
    # A pool of near copies has fewer than k distinct messages: fill up, least sure first.
    if len(chosen) < k:
        rest = _by_margin(proba, np.array(sorted(skipped), dtype=int)) if skipped else []
        chosen += [int(i) for i in rest][: k - len(chosen)]
    return [int(i) for i in chosen]


def _margin(proba, vectors, k, rng, available) -> list[int]:
    return [int(i) for i in _by_margin(proba, available)[:k]]


def _cluster(proba, vectors, k, rng, available) -> list[int]:
    from sklearn.cluster import KMeans

    if len(available) <= k:
        return [int(i) for i in _by_margin(proba, available)]
    km = KMeans(n_clusters=k, n_init=1, random_state=int(rng.integers(2**31 - 1))).fit(vectors[available])
    picks = [int(_by_margin(proba, available[km.labels_ == c])[0]) for c in range(k) if (km.labels_ == c).any()]
    return [int(i) for i in _by_margin(proba, np.array(picks, dtype=int))]


def _random(proba, vectors, k, rng, available) -> list[int]:
    return [int(i) for i in rng.permutation(available)[:k]]


SELECTORS: dict[str, Selector] = {
    "default": Selector(_balanced_margin, "balanced margin: the least sure message per predicted label, "
                                          "round-robin, no near-duplicates"),
    "margin": Selector(_margin, "the smallest margins (top probability minus the runner-up)"),
    "cluster": Selector(_cluster, "k-means over the pool, the smallest margin per cluster"),
    "random": Selector(_random, "uniformly at random (the control)"),
}


def select(strategy: str, proba: np.ndarray, vectors: np.ndarray, k: int, seed: int = 0,
           exclude: Iterable[int] = ()) -> list[int]:
    """Up to ``k`` pool rows to review next, chosen by ``strategy`` (a key of :data:`SELECTORS`),
    never one in ``exclude``; the same inputs and seed give the same rows.

    Example:
        >>> select("random", np.full((5, 2), 0.5), np.eye(5), k=2, seed=1, exclude=[0]) == \\
        ...     select("random", np.full((5, 2), 0.5), np.eye(5), k=2, seed=1, exclude=[0])
        True
    """
    if strategy not in SELECTORS:
        raise LabelError(f"unknown selection strategy {strategy!r}; use one of: {', '.join(SELECTORS)}")
    proba = np.asarray(proba, dtype=float)
    vectors = np.asarray(vectors, dtype=float)
    if proba.ndim != 2 or len(proba) != len(vectors):
        raise ValueError(f"proba must be (pool, labels) with one row per vector; got {proba.shape} "
                         f"and {len(vectors)} vectors")
    skip = {int(i) for i in exclude}
    available = np.array([i for i in range(len(proba)) if i not in skip], dtype=int)
    if k <= 0 or len(available) == 0:
        return []
    rng = np.random.default_rng(seed)
    return SELECTORS[strategy].choose(proba, vectors, min(k, len(available)), rng, available)
