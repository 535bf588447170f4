"""Agreement between reviewers: Cohen's kappa for two, Krippendorff's alpha for more.

Both treat answers as nominal categories ("discarded" counts as a category of its own), and
both correct raw agreement for the agreement chance alone would give, so a team that always
answers the same majority label does not look better than it is. Kappa is scikit-learn's,
alpha the ``krippendorff`` package's (nominal level).

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
    from sklearn.metrics import cohen_kappa_score

    if len(first) != len(second):
        raise ValueError(f"both reviewers must rate the same items ({len(first)} != {len(second)})")
    if not first:
        return None
    # scikit-learn answers 0/0 (NaN, with a warning) for one shared answer; by the
    # definition above that is full agreement.
    if len(set(first) | set(second)) == 1:
        return 1.0
    return float(cohen_kappa_score(list(first), list(second)))


def krippendorff_alpha(units: Sequence[Sequence[Hashable]]) -> float | None:
    """Krippendorff's alpha (nominal) over units, each the answers it received (any count).

    Units with fewer than two answers carry no pairable information and are skipped.
    """
    import krippendorff
    import numpy as np

    pairable = [Counter(u) for u in units if len(u) >= 2]
    if not pairable:
        return None
    values = sorted({v for unit in pairable for v in unit}, key=str)
    # One answer everywhere: no expected disagreement, so the package refuses (a value
    # domain of one); every pair agrees, which is alpha 1.
    if len(values) == 1:
        return 1.0
    # value_counts (units x values) takes units with any number of answers as they come,
    # without inventing reviewer columns for them.
    counts = np.array([[unit[v] for v in values] for unit in pairable], dtype=float)
    return float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"))


def unit_agreement(answers: Sequence[Hashable]) -> float | None:
    """Share of reviewer pairs on one record who gave the same answer; None for one reviewer."""
    pairs = list(combinations(answers, 2))
    if not pairs:
        return None
    return sum(a == b for a, b in pairs) / len(pairs)
