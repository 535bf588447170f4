"""Calibrated confidence and the thresholds chosen from it: temperature scaling, a precision
threshold for pseudo-labels, and the out-of-scope gate.

Everything here is fitted on labelled *validation* rows (never on the held-out set) and is plain
numpy / scipy, so any scorer can use it: a logistic regression on frozen embeddings as much as a
fine-tuned student.

- :func:`fit_temperature` finds the temperature ``T`` that minimizes the negative log-likelihood
  of ``softmax(logits / T)`` on validation rows (Guo et al., 2017): one number, so the ranking of
  labels never changes, only how sure the probabilities say the model is.
- :func:`precision_threshold` is the lowest confidence above which the predictions are right at
  least ``target`` of the time: the bar a pseudo-label must clear.
- :func:`nearest_similarity` scores how close a message lies to the labelled rows (mean cosine
  of its ``k`` nearest ones); :func:`fit_scope_gate` turns that score into a :class:`ScopeGate`
  that abstains below a threshold chosen so that at most ``max_in_scope_loss`` of the in-scope
  validation rows are turned away. On clinc_bank this score separates out-of-scope messages far
  better than the calibrated maximum probability does (bench/active.py).

Example:
    >>> import numpy as np
    >>> from workbench.calibration import fit_scope_gate, precision_threshold
    >>> precision_threshold(np.array([0.9, 0.8, 0.7]), np.array([True, True, False]), 0.9)
    0.8
    >>> gate = fit_scope_gate(np.linspace(0.5, 1.0, 101), np.array([0.1, 0.2, 0.6]), 0.02, 0.8)
    >>> gate.abstains(np.array([0.3, 0.9])).tolist()
    [True, False]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from scipy.special import softmax as _softmax

# The search interval of the temperature: sharper than 1/20 or flatter than 20x is never useful.
TEMPERATURE_BOUNDS = (0.05, 20.0)
NONE_PASS = 1.01  # a threshold no probability reaches: "no row is good enough"


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise probabilities of ``logits / temperature``.

    Example:
        >>> softmax(np.array([[0.0, 0.0]])).tolist()
        [[0.5, 0.5]]
    """
    return _softmax(np.asarray(logits, dtype=float) / temperature, axis=1)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimizing the mean negative log-likelihood of the true classes ``y``
    (column indices into ``logits``) on these rows, within :data:`TEMPERATURE_BOUNDS`.

    Example:
        >>> z = np.array([[4.0, 0.0], [4.0, 0.0], [0.0, 4.0], [4.0, 0.0]])
        >>> fit_temperature(z, np.array([0, 1, 1, 0])) > 1   # one confident mistake: flatten
        True
    """
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y, dtype=int)
    if z.ndim != 2 or len(z) != len(y) or len(y) == 0:
        raise ValueError(f"logits must be (n, classes) with one class index per row; got {z.shape} and {len(y)}")
    rows = np.arange(len(y))

    def nll(t: float) -> float:
        return float(-log_softmax(z / t, axis=1)[rows, y].mean())

    return float(minimize_scalar(nll, bounds=TEMPERATURE_BOUNDS, method="bounded").x)


def precision_threshold(confidence: np.ndarray, correct: np.ndarray, target: float) -> float:
    """The lowest threshold ``t`` (one of the confidences) such that the rows with confidence
    ``>= t`` are correct at least ``target`` of the time; :data:`NONE_PASS` (1.01) if no ``t`` is.

    Example:
        >>> precision_threshold(np.array([0.9, 0.6, 0.5]), np.array([True, False, True]), 0.6)
        0.5
    """
    conf = np.asarray(confidence, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    if len(conf) == 0:
        return NONE_PASS
    order = np.argsort(-conf, kind="stable")
    conf, ok = conf[order], ok[order]
    precision = np.cumsum(ok) / np.arange(1, len(ok) + 1)
    # A cut between equal confidences is not a threshold: only the last row of each tie counts.
    last_of_tie = np.append(conf[1:] != conf[:-1], True)
    passing = np.flatnonzero((precision >= target) & last_of_tie)
    return float(conf[passing.max()]) if len(passing) else NONE_PASS


def nearest_similarity(vectors: np.ndarray, reference: np.ndarray, k: int = 3) -> np.ndarray:
    """Per row of ``vectors``, the mean cosine of its ``k`` most similar ``reference`` rows
    (both unit-length; ``k`` is capped at the reference size).

    Example:
        >>> ref = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> nearest_similarity(np.array([[1.0, 0.0]]), ref, k=1).tolist()
        [1.0]
    """
    sims = np.asarray(vectors, dtype=float) @ np.asarray(reference, dtype=float).T
    k = max(1, min(k, sims.shape[1]))
    return np.sort(sims, axis=1)[:, -k:].mean(axis=1)


@dataclass
class ScopeGate:
    """Abstain ("out_of_scope") on a message whose score is below ``threshold``.

    ``validation_recall`` is the share of the out-of-scope examples it turned away when it was
    fitted (None without examples); ``validation_in_scope_loss`` the share of in-scope
    validation rows it turned away.

    Example:
        >>> ScopeGate(0.5, None, 0.0).abstains(np.array([0.4, 0.5])).tolist()
        [True, False]
    """

    threshold: float
    validation_recall: float | None
    validation_in_scope_loss: float

    def abstains(self, scores: np.ndarray) -> np.ndarray:
        """True where the score is below the threshold."""
        return np.asarray(scores, dtype=float) < self.threshold


def fit_scope_gate(in_scope_scores: np.ndarray, out_of_scope_scores: np.ndarray | None,
                   max_in_scope_loss: float, target_recall: float) -> ScopeGate:
    """The highest threshold that turns away at most ``max_in_scope_loss`` of the in-scope
    validation rows (an in-scope row is turned away when its score is below the threshold).

    The in-scope bound is the one kept: ``target_recall`` is what the gate is hoped to reach on
    the out-of-scope examples, and the recall it does reach is measured on them and reported in
    ``validation_recall`` for the caller to compare (the task's spec holds both numbers).

    Example:
        >>> gate = fit_scope_gate(np.array([0.6, 0.7, 0.8, 0.9]), np.array([0.2, 0.75]), 0.25, 0.8)
        >>> gate.threshold, gate.validation_recall, gate.validation_in_scope_loss
        (0.7, 0.5, 0.25)
    """
    inside = np.sort(np.asarray(in_scope_scores, dtype=float))
    if len(inside) == 0:
        raise ValueError("fit_scope_gate needs in-scope validation scores; got none")
    if not 0.0 <= max_in_scope_loss < 1.0:
        raise ValueError(f"max_in_scope_loss must be in [0, 1); got {max_in_scope_loss}")
    # Turning away the m lowest rows (threshold = the (m+1)-th score) loses m / n; take the
    # largest m allowed, and step down past ties so that no more than m rows fall below it.
    m = int(np.floor(max_in_scope_loss * len(inside) + 1e-9))
    threshold = float(inside[min(m, len(inside) - 1)])
    loss = float((inside < threshold).mean())
    recall = None
    if out_of_scope_scores is not None and len(out_of_scope_scores):
        recall = float((np.asarray(out_of_scope_scores, dtype=float) < threshold).mean())
    return ScopeGate(threshold=threshold, validation_recall=recall, validation_in_scope_loss=loss)
