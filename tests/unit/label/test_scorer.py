"""The embedding scorer on synthetic clusters: calibrated labels, the out-of-scope gate, pseudo-labels."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from workbench.label.errors import LabelError
from workbench.label.scorer import RegressionScorer
from workbench.tasks import OUT_OF_SCOPE


def clusters(n: int, rng, centres: np.ndarray, spread: float = 0.3):
    own = rng.integers(len(centres), size=n)
    x = centres[own] + spread * rng.normal(size=(n, centres.shape[1]))
    return x / np.linalg.norm(x, axis=1, keepdims=True), [f"l{i}" for i in own]


def test_fit_calibrate_gate_and_pseudo_labels():
    rng = np.random.default_rng(0)
    centres = np.eye(12)[:4] * 3
    train_x, train_y = clusters(40, rng, centres)
    val_x, val_y = clusters(200, rng, centres)
    far = -np.eye(12)[4:8] * 3  # messages of no label: away from every training row
    oos_x, _ = clusters(50, rng, far)
    scorer = RegressionScorer.fit(train_x, train_y)
    assert scorer.labels == ["l0", "l1", "l2", "l3"]
    spec = SimpleNamespace(enabled=True, target_recall=0.8, max_in_scope_loss=0.02)
    scorer.calibrate(val_x, val_y, oos_x, spec)
    assert scorer.temperature > 0 and scorer.gate.validation_in_scope_loss <= 0.02
    assert scorer.gate.validation_recall > 0.9
    assert np.allclose(scorer.proba(val_x).sum(axis=1), 1.0)
    predicted = scorer.predict(np.vstack([val_x[:20], oos_x[:20]]))
    assert sum(label == OUT_OF_SCOPE for label, _ in predicted[20:]) >= 18
    assert sum(label == y for (label, _), y in zip(predicted[:20], val_y[:20])) >= 18
    sure = scorer.pseudo_labels(np.vstack([val_x, oos_x]), val_x, val_y, 0.95)
    assert sure and all(i < len(val_x) for i, _, _ in sure)  # never an out-of-scope row
    assert np.mean([label == val_y[i] for i, label, _ in sure]) >= 0.9


def test_pseudo_rows_are_not_the_gates_reference_and_one_label_is_an_error():
    x = np.eye(3)
    scorer = RegressionScorer.fit(x, ["a", "b", "a"], weights=[1.0, 1.0, 0.5])
    assert len(scorer.reference) == 2
    with pytest.raises(LabelError, match="two labels at least"):
        RegressionScorer.fit(x, ["a", "a", "a"])
