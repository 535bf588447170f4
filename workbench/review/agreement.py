"""Agreement between reviewers: Cohen's kappa for two, Krippendorff's alpha for more.

Both treat answers as nominal categories ("discarded" counts as a category of its own), and
both correct raw agreement for the agreement chance alone would give, so a team that always
answers the same majority label does not look better than it is.

Example:
    >>> round(cohen_kappa(["a", "a", "b", "b"], ["a", "a", "b", "a"]), 3)
    0.5
    >>> krippendorff_alpha([["a", "a"], ["b", "b"], ["a", "b"]])  # doctest: +ELLIPSIS
    0.4...
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from typing import Hashable, Sequence


def cohen_kappa(first: Sequence[Hashable], second: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two reviewers over the same items; None without items.

    1.0 is perfect agreement, 0.0 what chance gives; when both always give the same single
    answer, chance agreement is total and kappa is defined as 1.0.
    """
    if len(first) != len(second):
        raise ValueError(f"both reviewers must rate the same items ({len(first)} != {len(second)})")
    n = len(first)
    if n == 0:
        return None
    observed = sum(a == b for a, b in zip(first, second)) / n
    ca, cb = Counter(first), Counter(second)
    expected = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if expected == 1.0:
        return 1.0
    return (observed - expected) / (1.0 - expected)


def krippendorff_alpha(units: Sequence[Sequence[Hashable]]) -> float | None:
    """Krippendorff's alpha (nominal) over units, each the answers it received (any count).

    Units with fewer than two answers carry no pairable information and are skipped.
    """
    pairable = [list(u) for u in units if len(u) >= 2]
    if not pairable:
        return None
    # Coincidence counts: within a unit of m answers, each ordered pair weighs 1 / (m - 1).
    coincidence: Counter = Counter()
    for answers in pairable:
        weight = 1.0 / (len(answers) - 1)
        for i, j in combinations(range(len(answers)), 2):
            coincidence[(answers[i], answers[j])] += weight
            coincidence[(answers[j], answers[i])] += weight
    totals: Counter = Counter()
    for (c, _), w in coincidence.items():
        totals[c] += w
    n = sum(totals.values())
    disagreement_observed = sum(w for (c, k), w in coincidence.items() if c != k)
    disagreement_expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k) / (n - 1)
    if disagreement_expected == 0:
        return 1.0
    return 1.0 - disagreement_observed / disagreement_expected


def unit_agreement(answers: Sequence[Hashable]) -> float | None:
    """Share of reviewer pairs on one record who gave the same answer; None for one reviewer."""
    pairs = list(combinations(answers, 2))
    if not pairs:
        return None
    return sum(a == b for a, b in pairs) / len(pairs)
