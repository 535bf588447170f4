"""Quality metrics, written out so every number in a report can be checked by hand.

Classification: accuracy, macro-F1 and per-label precision/recall/F1 (a label with no
predictions has precision 0, as scikit-learn's ``zero_division=0``), confusion counts.
Generation: ROUGE-L (LCS F-measure over lower-cased word tokens), chrF (Popović 2015:
character n-grams 1..6, beta 2, whitespace dropped; scaled to [0, 1]) and length ratio.
Judge calibration: Pearson and Spearman correlation (ties get their average rank).

Example:
    >>> m = classification_metrics(["a", "a", "b"], ["a", "b", "b"], ["a", "b"])
    >>> m["accuracy"], round(m["macro_f1"], 4)
    (0.6667, 0.6667)
    >>> round(rouge_l("the cat sat", "the cat sat down"), 4)
    0.8571
"""

from __future__ import annotations

import math
from collections import Counter


def confusion(y_true: list[str], y_pred: list[str], labels: list[str]) -> list[list[int]]:
    """Counts: rows are true labels, columns predicted labels, in ``labels`` order."""
    index = {lab: i for i, lab in enumerate(labels)}
    grid = [[0] * len(labels) for _ in labels]
    for t, p in zip(y_true, y_pred, strict=True):
        grid[index[t]][index[p]] += 1
    return grid


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def classification_metrics(y_true: list[str], y_pred: list[str], labels: list[str]) -> dict:
    """Accuracy, macro-F1 and per-label P/R/F1/support, rounded to 4 places.

    Macro-F1 averages over the labels that occur in ``y_true`` or ``y_pred``: a label the
    held-out set never contains and nobody predicts says nothing about the model.
    """
    if not y_true:
        raise ValueError("no examples to score: the held-out set is empty")
    grid = confusion(y_true, y_pred, labels)
    per_label = {}
    for i, lab in enumerate(labels):
        tp = grid[i][i]
        predicted = sum(row[i] for row in grid)
        support = sum(grid[i])
        p = tp / predicted if predicted else 0.0
        r = tp / support if support else 0.0
        per_label[lab] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(_f1(p, r), 4),
                          "support": support, "predicted": predicted}
    present = [lab for lab in labels if per_label[lab]["support"] or per_label[lab]["predicted"]]
    # Unrounded F1s for the mean, so the macro figure does not carry rounding error.
    f1s = []
    for lab in present:
        i = labels.index(lab)
        tp, predicted, support = grid[i][i], per_label[lab]["predicted"], per_label[lab]["support"]
        f1s.append(_f1(tp / predicted if predicted else 0.0, tp / support if support else 0.0))
    correct = sum(grid[i][i] for i in range(len(labels)))
    return {"accuracy": round(correct / len(y_true), 4), "macro_f1": round(sum(f1s) / len(f1s), 4),
            "per_label": per_label, "confusion": grid, "n": len(y_true)}


def _words(text: str) -> list[str]:
    return text.lower().split()


def _lcs(a: list[str], b: list[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1: longest common subsequence of words over both lengths."""
    p, r = _words(prediction), _words(reference)
    if not p or not r:
        return 0.0
    lcs = _lcs(p, r)
    return _f1(lcs / len(p), lcs / len(r))


def _char_ngrams(text: str, n: int) -> Counter:
    s = "".join(text.split())  # chrF ignores whitespace
    return Counter(s[i:i + n] for i in range(len(s) - n + 1))


def chrf(prediction: str, reference: str, max_n: int = 6, beta: float = 2.0) -> float:
    """chrF in [0, 1]: char n-gram precision and recall averaged over n, then F-beta.

    Orders with no n-grams on either side (strings shorter than n) are left out of the
    averages, so short strings are scored on the orders they have.
    """
    precisions, recalls = [], []
    for n in range(1, max_n + 1):
        hyp, ref = _char_ngrams(prediction, n), _char_ngrams(reference, n)
        if not hyp or not ref:
            continue
        overlap = sum((hyp & ref).values())
        precisions.append(overlap / sum(hyp.values()))
        recalls.append(overlap / sum(ref.values()))
    if not precisions:
        return 0.0
    p, r = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
    if p + r == 0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * p * r / (b2 * p + r)


def length_ratio(prediction: str, reference: str) -> float:
    """Words in the prediction over words in the reference (1.0 is the same length)."""
    ref = len(_words(reference))
    return len(_words(prediction)) / ref if ref else math.inf


def generation_metrics(predictions: list[str], references: list[str]) -> dict:
    """Mean ROUGE-L, chrF and length ratio over pairs, rounded to 4 places."""
    if not references:
        raise ValueError("no examples to score: the held-out set is empty")
    pairs = list(zip(predictions, references, strict=True))
    mean = lambda xs: round(sum(xs) / len(xs), 4)
    return {"rouge_l": mean([rouge_l(p, r) for p, r in pairs]), "chrf": mean([chrf(p, r) for p, r in pairs]),
            "length_ratio": mean([length_ratio(p, r) for p, r in pairs]), "n": len(pairs)}


def pearson(xs: list[float], ys: list[float]) -> float | None:
    """Pearson's r; None for fewer than two pairs or when either side is constant."""
    if len(xs) != len(ys):
        raise ValueError(f"pearson needs pairs ({len(xs)} != {len(ys)})")
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / math.sqrt(sxx * syy)


def ranks(values: list[float]) -> list[float]:
    """1-based ranks; tied values share the average of the ranks they span."""
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in order[i:j + 1]:
            out[k] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(xs: list[float], ys: list[float]) -> float | None:
    """Spearman's rho: Pearson's r of the ranks."""
    return pearson(ranks(xs), ranks(ys))


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), ``q`` in [0, 100]."""
    if not values:
        return float("nan")
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
