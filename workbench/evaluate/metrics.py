"""Quality metrics, computed by the libraries that define them and pinned by hand-worked tests.

Classification: accuracy, macro-F1, per-label precision/recall/F1 and confusion counts from
scikit-learn (a label with no predictions has precision 0: ``zero_division=0``).
Each with its 95% bootstrap interval over the held-out rows
(:mod:`workbench.evaluate.intervals`: :func:`classification_intervals`; generation, of the
per-reply scores). Generation: ROUGE-L from ``rouge-score`` (LCS F-measure over lower-cased word tokens), chrF
from ``sacrebleu`` (Popović 2015: character n-grams 1..6, beta 2, whitespace dropped; scaled
to [0, 1]) and length ratio. Judge calibration: Pearson and Spearman correlation from
``scipy.stats`` (ties get their average rank).

Example:
    >>> m = classification_metrics(["a", "a", "b"], ["a", "b", "b"], ["a", "b"])
    >>> m["accuracy"], round(m["macro_f1"], 4)
    (0.6667, 0.6667)
    >>> round(rouge_l("the cat sat", "the cat sat down"), 4)
    0.8571
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

# The libraries are imported where they are used: sklearn, scipy, rouge-score and sacrebleu
# take a second or more to import, and most commands that import this module score nothing.


def confusion(y_true: list[str], y_pred: list[str], labels: list[str]) -> list[list[int]]:
    """Counts: rows are true labels, columns predicted labels, in ``labels`` order."""
    from sklearn.metrics import confusion_matrix

    if len(y_true) != len(y_pred):
        raise ValueError(f"confusion needs one prediction per example ({len(y_true)} != {len(y_pred)})")
    if not y_true:
        return [[0] * len(labels) for _ in labels]
    return confusion_matrix(y_true, y_pred, labels=labels).tolist()


def classification_metrics(y_true: list[str], y_pred: list[str], labels: list[str]) -> dict:
    """Accuracy, macro-F1 and per-label P/R/F1/support, rounded to 4 places.

    Macro-F1 averages over the labels that occur in ``y_true`` or ``y_pred``: a label the
    held-out set never contains and nobody predicts says nothing about the model.
    """
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    if not y_true:
        raise ValueError("no examples to score: the held-out set is empty")
    grid = confusion(y_true, y_pred, labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=0)
    predicted = [sum(row[i] for row in grid) for i in range(len(labels))]
    per_label = {lab: {"precision": round(float(precision[i]), 4), "recall": round(float(recall[i]), 4),
                       "f1": round(float(f1[i]), 4), "support": int(support[i]), "predicted": predicted[i]}
                 for i, lab in enumerate(labels)}
    present = [lab for i, lab in enumerate(labels) if support[i] or predicted[i]]
    macro = f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)
    return {"accuracy": round(float(accuracy_score(y_true, y_pred)), 4), "macro_f1": round(float(macro), 4),
            "per_label": per_label, "confusion": grid, "n": len(y_true)}


def classification_intervals(y_true: list[str], preds: list[str], labels: list[str]) -> dict[str, list[float]]:
    """95% bootstrap intervals of accuracy and macro-F1 over the held-out rows."""
    from workbench.evaluate.intervals import bootstrap_metric

    # like classification_metrics, macro-F1 averages over the labels each resample holds
    return {f"{m}_ci": bootstrap_metric(m, y_true, preds, labels).to_list() for m in ("accuracy", "macro_f1")}


def _words(text: str) -> list[str]:
    return text.lower().split()


class _WordTokenizer:
    """rouge-score's tokenizer interface: lower-cased whitespace-separated words.

    rouge-score's default tokenizer keeps only ``[a-z0-9]`` and so drops every non-ASCII
    word; the task data is not all English, so words are split on whitespace instead.
    """

    def tokenize(self, text: str) -> list[str]:
        return _words(text)


@lru_cache(maxsize=1)
def _rouge_scorer():
    from rouge_score.rouge_scorer import RougeScorer

    return RougeScorer(["rougeL"], tokenizer=_WordTokenizer())


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1: longest common subsequence of words over both lengths."""
    return float(_rouge_scorer().score(reference, prediction)["rougeL"].fmeasure)


@lru_cache(maxsize=4)
def _chrf_metric(max_n: int, beta: float):
    from sacrebleu.metrics import CHRF

    # word_order=0: chrF, not chrF++; whitespace=False drops spaces before counting n-grams;
    # eps_smoothing=False averages P and R over the orders both strings have (chrF++.py's
    # and the paper's definition), so short strings are scored on the orders they have.
    return CHRF(char_order=max_n, word_order=0, beta=beta, lowercase=False, whitespace=False, eps_smoothing=False)


def chrf(prediction: str, reference: str, max_n: int = 6, beta: float = 2.0) -> float:
    """chrF in [0, 1]: char n-gram precision and recall averaged over n, then F-beta.

    Orders with no n-grams on either side (strings shorter than n) are left out of the
    averages, so short strings are scored on the orders they have.
    """
    return _chrf_metric(max_n, float(beta)).sentence_score(prediction, [reference]).score / 100.0


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


def _correlatable(xs: list[float], ys: list[float]) -> bool:
    """Whether a correlation is defined: two pairs or more, neither side constant.

    scipy returns NaN (with a warning) where it is not; callers here want None.
    """
    if len(xs) != len(ys):
        raise ValueError(f"a correlation needs pairs ({len(xs)} != {len(ys)})")
    return len(xs) >= 2 and len(set(xs)) > 1 and len(set(ys)) > 1


def pearson(xs: list[float], ys: list[float]) -> float | None:
    """Pearson's r; None for fewer than two pairs or when either side is constant."""
    from scipy.stats import pearsonr

    if not _correlatable(xs, ys):
        return None
    return float(pearsonr(xs, ys).statistic)


def ranks(values: list[float]) -> list[float]:
    """1-based ranks; tied values share the average of the ranks they span."""
    from scipy.stats import rankdata

    return rankdata(values, method="average").tolist()


def spearman(xs: list[float], ys: list[float]) -> float | None:
    """Spearman's rho (Pearson's r of the ranks); None where Pearson's would be."""
    from scipy.stats import spearmanr

    if not _correlatable(xs, ys):
        return None
    return float(spearmanr(xs, ys).statistic)


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), ``q`` in [0, 100]; NaN without values."""
    if not values:
        return float("nan")
    return float(np.percentile(values, q))
