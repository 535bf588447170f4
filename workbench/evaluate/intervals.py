"""Error bars: 95% bootstrap intervals over held-out rows, and paired comparisons.

A held-out set is a sample; a figure measured on it is an estimate. Every metric the report
shows carries a percentile bootstrap interval: the rows are resampled with replacement
(``scipy.stats.bootstrap`` draws and takes the percentiles) and the metric is recomputed on
each resample. Two cells scored on the same rows are compared with a *paired* bootstrap: the
same resampled rows score both, so the interval is on the difference itself, much narrower
than two separate intervals would suggest.

Metrics are computed vectorised over all resamples at once: macro-F1 averages per-label F1
over the labels that occur in each resample's true or predicted labels, as
:func:`workbench.evaluate.metrics.classification_metrics` (scikit-learn) does on one sample.

Example:
    >>> y = ["a"] * 8 + ["b"] * 2
    >>> p = ["a"] * 8 + ["a", "b"]
    >>> ci = bootstrap_metric("accuracy", y, p, resamples=2000)
    >>> ci.value, 0.6 <= ci.low < 0.9 < ci.high <= 1.0
    (0.9, True)
    >>> d = paired_difference("accuracy", y, y, p, resamples=2000)   # a perfect model minus p
    >>> round(d.value, 4), d.low >= 0.0
    (0.1, True)
    >>> print(Interval(0.024, 0.009, 0.038).signed())
    +2.4 [+0.9, +3.8]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

RESAMPLES = 1000
CONFIDENCE = 0.95
# Resampled index rows scored at once: bounds memory (B x n x labels booleans) on big sets.
_CHUNK = 250


@dataclass(frozen=True)
class Interval:
    """A point estimate and its bootstrap interval.

    Example:
        >>> ci = Interval(0.912, 0.8931, 0.9302)
        >>> str(ci), ci.to_list(), round(ci.half_width, 4)
        ('0.912 [0.893, 0.930]', [0.8931, 0.9302], 0.0186)
    """

    value: float
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def to_list(self) -> list[float]:
        return [round(self.low, 4), round(self.high, 4)]

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"

    def signed(self, scale: float = 100, unit: str = "") -> str:
        """A difference in points: ``+2.4 [+0.9, +3.8]``."""
        v, lo, hi = (x * scale for x in (self.value, self.low, self.high))
        return f"{v:+.1f}{unit} [{lo:+.1f}, {hi:+.1f}]"

    def excludes(self, x: float = 0.0) -> bool:
        """True when ``x`` lies outside the interval (a difference from 0 beyond the noise)."""
        return x < self.low or x > self.high


Statistic = Callable[[np.ndarray], np.ndarray]  # (B, n) resampled row indices -> (B,) values


def _accuracy(y: np.ndarray, p: np.ndarray) -> Statistic:
    right = (y == p).astype(np.float64)
    return lambda idx: right[idx].mean(axis=-1)


def _macro_f1(y: np.ndarray, p: np.ndarray, n_labels: int) -> Statistic:
    """Averaged over the first ``n_labels`` codes (the labels asked for) that occur; a prediction
    outside them (``out_of_scope``, say) still counts against its row's true label."""
    def stat(idx: np.ndarray) -> np.ndarray:
        yt, yp = y[idx], p[idx]
        total = np.zeros(idx.shape[:-1])
        present = np.zeros(idx.shape[:-1])
        for c in range(n_labels):
            t, q = yt == c, yp == c
            tp = (t & q).sum(axis=-1)
            denom = t.sum(axis=-1) + q.sum(axis=-1)  # 2tp + fp + fn
            occurs = denom > 0
            total += np.where(occurs, 2 * tp / np.maximum(denom, 1), 0.0)
            present += occurs
        return total / np.maximum(present, 1)
    return stat


def _encode(y_true: Sequence, preds: Sequence[Sequence], labels: Sequence | None) -> tuple[np.ndarray, list, int]:
    """Integer codes, the given ``labels`` first; returns how many codes macro-F1 averages over:
    the given labels (as scikit-learn's ``labels=``), else every label seen."""
    names = list(dict.fromkeys([*(labels or []), *y_true, *(x for p in preds for x in p)]))
    code = {lab: i for i, lab in enumerate(names)}
    counted = len(dict.fromkeys(labels)) if labels else len(names)
    return (np.array([code[v] for v in y_true]), [np.array([code[v] for v in p]) for p in preds], counted)


def _statistic(metric: str | Callable, y: np.ndarray, p: np.ndarray, n_labels: int) -> Statistic:
    if callable(metric):
        return metric(y, p)
    if metric == "accuracy":
        return _accuracy(y, p)
    if metric == "macro_f1":
        return _macro_f1(y, p, n_labels)
    raise ValueError(f"unknown metric {metric!r}: use 'accuracy', 'macro_f1' or a callable")


def _interval(stat: Statistic, n: int, resamples: int, confidence: float, seed: int) -> Interval:
    """The percentile interval of ``stat`` over resamples of ``n`` row indices."""
    from scipy.stats import bootstrap

    if n == 0:
        raise ValueError("no rows to bootstrap over")
    full = float(stat(np.arange(n)[None, :])[0])
    if n == 1:
        return Interval(full, full, full)

    def chunked(idx: np.ndarray, axis: int = -1) -> np.ndarray:
        idx = np.moveaxis(np.asarray(idx, dtype=np.int64), axis, -1)
        flat = idx.reshape(-1, idx.shape[-1])
        out = np.concatenate([stat(flat[i:i + _CHUNK]) for i in range(0, len(flat), _CHUNK)])
        return out.reshape(idx.shape[:-1])

    res = bootstrap((np.arange(n),), chunked, n_resamples=resamples, confidence_level=confidence,
                    method="percentile", vectorized=True, random_state=np.random.default_rng(seed))
    low, high = res.confidence_interval
    # A metric constant over every resample (all right, say) gives NaN-free equal bounds.
    low = full if math.isnan(low) else float(low)
    high = full if math.isnan(high) else float(high)
    return Interval(full, min(low, full), max(high, full))


def bootstrap_metric(metric: str | Callable, y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None, *,
                     resamples: int = RESAMPLES, confidence: float = CONFIDENCE, seed: int = 0) -> Interval:
    """``metric`` ("accuracy" or "macro_f1") on all rows, with its bootstrap interval.

    Example:
        >>> str(bootstrap_metric("macro_f1", ["a", "b"] * 20, ["a", "b"] * 20))
        '1.000 [1.000, 1.000]'
    """
    if len(y_true) != len(y_pred):
        raise ValueError(f"one prediction per row: {len(y_true)} labels, {len(y_pred)} predictions")
    y, (p,), k = _encode(y_true, [y_pred], labels)
    return _interval(_statistic(metric, y, p, k), len(y), resamples, confidence, seed)


def paired_difference(metric: str | Callable, y_true: Sequence, pred_a: Sequence, pred_b: Sequence,
                      labels: Sequence | None = None, *, resamples: int = RESAMPLES, confidence: float = CONFIDENCE,
                      seed: int = 0) -> Interval:
    """``metric(a) - metric(b)`` with a paired bootstrap: both scored on the same resampled rows.

    Example:
        >>> d = paired_difference("accuracy", list("aabb"), list("aabb"), list("aabb"))
        >>> (d.value, d.low, d.high)
        (0.0, 0.0, 0.0)
    """
    if not len(y_true) == len(pred_a) == len(pred_b):
        raise ValueError("paired comparison needs both cells scored on the same rows")
    y, (a, b), k = _encode(y_true, [pred_a, pred_b], labels)
    sa, sb = _statistic(metric, y, a, k), _statistic(metric, y, b, k)
    return _interval(lambda idx: sa(idx) - sb(idx), len(y), resamples, confidence, seed)


def bootstrap_seeds(metric: str | Callable, y_true: Sequence, preds_by_seed: Sequence[Sequence],
                    labels: Sequence | None = None, *, resamples: int = RESAMPLES, confidence: float = CONFIDENCE,
                    seed: int = 0) -> Interval:
    """The mean of ``metric`` over several training seeds' predictions, with a bootstrap interval
    over the held-out rows (each resample scores every seed on the same rows).

    Example:
        >>> ci = bootstrap_seeds("accuracy", list("abab"), [list("abab"), list("abaa")])
        >>> ci.value
        0.875
    """
    y, preds, k = _encode(y_true, preds_by_seed, labels)
    if not preds or any(len(p) != len(y) for p in preds):
        raise ValueError("one prediction per row for every seed")
    stats = [_statistic(metric, y, p, k) for p in preds]
    return _interval(lambda idx: np.mean([s(idx) for s in stats], axis=0), len(y), resamples, confidence, seed)


def paired_seeds_difference(metric: str | Callable, y_true: Sequence, preds_a: Sequence[Sequence],
                            preds_b: Sequence[Sequence], labels: Sequence | None = None, *,
                            resamples: int = RESAMPLES, confidence: float = CONFIDENCE, seed: int = 0) -> Interval:
    """Seed-mean ``metric`` of arm a minus that of arm b, paired over the same resampled rows."""
    y, preds, k = _encode(y_true, [*preds_a, *preds_b], labels)
    if not preds_a or not preds_b or any(len(p) != len(y) for p in preds):
        raise ValueError("paired comparison needs both arms scored on the same rows")
    sa = [_statistic(metric, y, p, k) for p in preds[:len(preds_a)]]
    sb = [_statistic(metric, y, p, k) for p in preds[len(preds_a):]]
    return _interval(lambda idx: np.mean([s(idx) for s in sa], axis=0) - np.mean([s(idx) for s in sb], axis=0),
                     len(y), resamples, confidence, seed)


def bootstrap_mean(values: Sequence[float], *, resamples: int = RESAMPLES, confidence: float = CONFIDENCE,
                   seed: int = 0) -> Interval:
    """The mean of per-row scores (ROUGE-L, chrF of each reply) with its bootstrap interval."""
    v = np.asarray(values, dtype=np.float64)
    return _interval(lambda idx: v[idx].mean(axis=-1), len(v), resamples, confidence, seed)


def paired_mean_difference(a: Sequence[float], b: Sequence[float], *, resamples: int = RESAMPLES,
                           confidence: float = CONFIDENCE, seed: int = 0) -> Interval:
    """``mean(a) - mean(b)`` of per-row scores on the same rows, paired."""
    if len(a) != len(b):
        raise ValueError("paired comparison needs both cells scored on the same rows")
    return bootstrap_mean(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64), resamples=resamples,
                          confidence=confidence, seed=seed)


def rows_needed(n: int, interval: Interval, margin: float) -> int | None:
    """Held-out rows for the interval's half-width to shrink below ``|margin|``.

    The half-width of a bootstrap interval falls as 1/sqrt(n), so ``n * (h / margin)^2``
    rows would bring it to the margin; ``None`` when the margin is 0 (no set is big enough).

    Example:
        >>> rows_needed(100, Interval(0.91, 0.87, 0.95), 0.02)   # half-width 0.04 -> 4x the rows
        400
    """
    if margin == 0 or n <= 0:
        return None
    if interval.half_width <= abs(margin):
        return n
    return int(math.ceil(n * (interval.half_width / abs(margin)) ** 2))
