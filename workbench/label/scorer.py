"""The few-shot student: a logistic regression on frozen MiniLM vectors, calibrated on
validation rows, with an out-of-scope gate.

Before any student is fine-tuned this is "the best current model": fitted on the seeds (and on
the reviewed pool rows of earlier rounds) in well under a second, it scores a pool of thousands
of messages as fast as MiniLM embeds them. :meth:`RegressionScorer.calibrate` fits its
temperature (:func:`workbench.calibration.fit_temperature`) and, when the task asks for it, the
out-of-scope gate: a message whose mean cosine to its 3 nearest training rows
(:func:`~workbench.calibration.nearest_similarity`) is below the threshold is answered
``out_of_scope``. The calibrated maximum probability is a poor gate on clinc_bank (recall 0.80
cost 3.7 points of in-scope accuracy where nearness cost 1.0 for recall 0.94; bench/active.py).

Example:
    >>> import numpy as np
    >>> from workbench.label.scorer import RegressionScorer
    >>> x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> x /= np.linalg.norm(x, axis=1, keepdims=True)
    >>> scorer = RegressionScorer.fit(x, ["card", "card", "loan", "loan"])
    >>> scorer.predict(x[:1])[0][0]
    'card'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.calibration import (
    ScopeGate,
    fit_scope_gate,
    fit_temperature,
    nearest_similarity,
    precision_threshold,
    softmax,
)
from workbench.label.errors import LabelError
from workbench.tasks import OUT_OF_SCOPE

if TYPE_CHECKING:
    from workbench.tasks import OutOfScopeSpec

# Rows weighted below this (pseudo-labels) train the classifier but are not the gate's reference:
# a guess is no evidence that a message is in scope.
REFERENCE_WEIGHT = 1.0
NEIGHBOURS = 3


@dataclass
class RegressionScorer:
    """Labels for unit-length vectors; ``labels`` in the probability columns' order.

    Example:
        >>> scorer.labels, scorer.temperature, scorer.gate       # doctest: +SKIP
        (['card', 'loan'], 1.0, None)
    """

    labels: list[str]
    temperature: float = 1.0
    gate: ScopeGate | None = None
    model: Any = field(default=None, repr=False)
    reference: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def fit(cls, vectors, labels: list[str], weights=None, C: float = 10.0, seed: int = 0) -> RegressionScorer:
        """A logistic regression (scikit-learn, L2 with inverse strength ``C``) on these rows;
        ``weights`` per row (e.g. 0.5 for pseudo-labels). Needs two labels at least.

        Example:
            >>> RegressionScorer.fit(np.eye(2), ["a", "b"]).labels
            ['a', 'b']
        """
        from sklearn.linear_model import LogisticRegression

        x = np.asarray(vectors, dtype=float)
        if len(x) != len(labels):
            raise ValueError(f"{len(x)} vectors but {len(labels)} labels")
        if len(set(labels)) < 2:
            raise LabelError(f"the scorer needs labelled rows of two labels at least; got {sorted(set(labels))}; "
                             "add seed examples for more labels to the task")
        w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
        model = LogisticRegression(C=C, max_iter=2000, random_state=seed).fit(x, list(labels), sample_weight=w)
        return cls(labels=[str(c) for c in model.classes_], model=model, reference=x[w >= REFERENCE_WEIGHT])

    def logits(self, vectors) -> np.ndarray:
        """Uncalibrated scores, one column per label."""
        z = self.model.decision_function(np.asarray(vectors, dtype=float))
        return np.column_stack([np.zeros(len(z)), z]) if z.ndim == 1 else z  # two labels: one column

    def proba(self, vectors) -> np.ndarray:
        """Calibrated probabilities (``softmax(logits / temperature)``), columns = ``labels``."""
        return softmax(self.logits(vectors), self.temperature)

    def raw_proba(self, vectors) -> np.ndarray:
        """The regression's own probabilities (temperature 1): what selection ranks margins by.
        On clinc_bank's validation rows, choosing by these beat choosing by the calibrated ones
        (macro-F1 0.970 against 0.960 after 150 reviews); calibration is for confidences and
        thresholds.

        Example:
            >>> select("default", scorer.raw_proba(pool_x), pool_x, k=30)   # doctest: +SKIP
        """
        return softmax(self.logits(vectors))

    def scope_scores(self, vectors) -> np.ndarray:
        """Mean cosine of each row's 3 nearest reference (training) rows: low = out of scope."""
        return nearest_similarity(np.asarray(vectors, dtype=float), self.reference, NEIGHBOURS)

    def calibrate(self, val_vectors, val_labels, oos_vectors=None, spec_oos: OutOfScopeSpec | None = None) -> None:
        """Fit the temperature on labelled validation rows (rows of a label the scorer does not
        know are left out) and, when ``spec_oos`` is enabled, the out-of-scope gate: the highest
        threshold that turns away at most ``spec_oos.max_in_scope_loss`` of the validation
        rows; its recall on ``oos_vectors`` (out-of-scope examples), when given, is recorded.

        Example:
            >>> scorer.calibrate(val_x, val_y, oos_x, spec.out_of_scope)    # doctest: +SKIP
            >>> scorer.gate.validation_recall                               # doctest: +SKIP
            0.93
        """
        x = np.asarray(val_vectors, dtype=float)
        index = {label: i for i, label in enumerate(self.labels)}
        known = np.array([label in index for label in val_labels], dtype=bool)
        if not known.any():
            raise LabelError("no validation row has a label the scorer knows; the task's `validation:` file "
                             f"must use its labels ({', '.join(self.labels[:5])}, ...)")
        y = np.array([index[label] for label, ok in zip(val_labels, known) if ok])
        self.temperature = fit_temperature(self.logits(x[known]), y)
        if spec_oos is None or not spec_oos.enabled:
            self.gate = None
            return
        oos = None if oos_vectors is None or len(oos_vectors) == 0 else self.scope_scores(oos_vectors)
        self.gate = fit_scope_gate(self.scope_scores(x[known]), oos, spec_oos.max_in_scope_loss,
                                   spec_oos.target_recall)

    def predict(self, vectors) -> list[tuple[str, float]]:
        """(label, calibrated confidence) per row; the label is ``out_of_scope`` where the gate
        abstains, with the confidence the best in-scope label would have had.

        Example:
            >>> scorer.predict(x[:1])                                       # doctest: +SKIP
            [('card', 0.93)]
        """
        p = self.proba(vectors)
        best = p.argmax(axis=1)
        out = [(self.labels[b], float(p[i, b])) for i, b in enumerate(best)]
        if self.gate is not None and len(out):
            for i in np.flatnonzero(self.gate.abstains(self.scope_scores(vectors))):
                out[i] = (OUT_OF_SCOPE, out[i][1])
        return out

    def pseudo_labels(self, vectors, val_vectors, val_labels,
                      target_precision: float = 0.95) -> list[tuple[int, str, float]]:
        """(row, label, confidence) for the rows of ``vectors`` the scorer is sure about: its
        calibrated confidence clears the lowest threshold at which its validation predictions
        are right at least ``target_precision`` of the time (and the gate, if any, keeps it).

        Example:
            >>> scorer.pseudo_labels(pool_x, val_x, val_y, 0.95)[:1]        # doctest: +SKIP
            [(12, 'card_lost', 0.97)]
        """
        pv = self.proba(val_vectors)
        correct = np.array([self.labels[b] == label for b, label in zip(pv.argmax(axis=1), val_labels)])
        threshold = precision_threshold(pv.max(axis=1), correct, target_precision)
        out = []
        for i, (label, confidence) in enumerate(self.predict(vectors)):
            if label != OUT_OF_SCOPE and confidence >= threshold:
                out.append((i, label, confidence))
        return out
