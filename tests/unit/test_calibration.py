"""Calibration and thresholds on hand-computed cases and a planted temperature."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.calibration import (
    NONE_PASS,
    ScopeGate,
    fit_scope_gate,
    fit_temperature,
    nearest_similarity,
    precision_threshold,
    softmax,
)


@pytest.mark.parametrize("planted", [0.5, 2.0, 4.0])
def test_fit_temperature_recovers_a_planted_temperature(planted):
    rng = np.random.default_rng(0)
    logits = 3 * rng.normal(size=(4000, 5))
    p = softmax(logits, planted)  # labels drawn from softmax(logits / planted): T = planted is right
    y = np.array([rng.choice(5, p=row) for row in p])
    assert fit_temperature(logits, y) == pytest.approx(planted, rel=0.15)


def test_softmax_rows_sum_to_one_and_temperature_flattens():
    z = np.array([[2.0, 0.0, -1.0]])
    assert softmax(z).sum() == pytest.approx(1.0)
    assert softmax(z, 10.0).max() < softmax(z).max()


def test_precision_threshold_hand_case():
    conf = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5])
    correct = np.array([True, True, False, True, True, False])
    # cumulative precision from the top: 1, 1, 2/3, 3/4, 4/5, 4/6
    assert precision_threshold(conf, correct, 0.75) == 0.6
    assert precision_threshold(conf, correct, 0.8) == 0.6
    assert precision_threshold(conf, correct, 0.9) == 0.9
    assert precision_threshold(conf, np.zeros(6, bool), 0.5) == NONE_PASS
    assert precision_threshold(np.array([]), np.array([], bool), 0.5) == NONE_PASS


def test_precision_threshold_never_cuts_between_ties():
    # At 0.8 both rows come in together: precision 1/2 there, so 0.9 is the bar for 0.9.
    conf, correct = np.array([0.9, 0.8, 0.8]), np.array([True, True, False])
    assert precision_threshold(conf, correct, 0.9) == 0.9
    assert precision_threshold(conf, correct, 0.6) == 0.8


def test_nearest_similarity_hand_case():
    ref = np.array([[1.0, 0.0], [0.0, 1.0], [np.sqrt(0.5), np.sqrt(0.5)]])
    rows = np.array([[1.0, 0.0], [0.0, -1.0]])
    # row 0: cosines 1, 0, 0.707 -> top 2 mean (1 + 0.707) / 2; row 1: 0, -1, -0.707 -> (0 - 0.707) / 2
    got = nearest_similarity(rows, ref, k=2)
    assert got == pytest.approx([(1 + np.sqrt(0.5)) / 2, -np.sqrt(0.5) / 2])
    assert nearest_similarity(rows, ref, k=10) == pytest.approx(nearest_similarity(rows, ref, k=3))


def test_fit_scope_gate_hand_case():
    inside = np.array([0.9, 0.5, 0.8, 0.7, 0.6, 0.95, 0.85, 0.75, 0.65, 0.55])
    outside = np.array([0.1, 0.3, 0.52, 0.6, 0.9])
    gate = fit_scope_gate(inside, outside, max_in_scope_loss=0.2, target_recall=0.8)
    # Two of ten in-scope rows may go: 0.5 and 0.55; the threshold is the third lowest, 0.6.
    assert gate.threshold == 0.6
    assert gate.validation_in_scope_loss == pytest.approx(0.2)
    assert gate.validation_recall == pytest.approx(3 / 5)  # 0.1, 0.3, 0.52 < 0.6
    assert gate.abstains(np.array([0.59, 0.6, 0.7])).tolist() == [True, False, False]
    assert fit_scope_gate(inside, None, 0.0, 0.8) == ScopeGate(0.5, None, 0.0)


def test_fit_scope_gate_ties_do_not_exceed_the_loss():
    gate = fit_scope_gate(np.array([0.5, 0.5, 0.5, 0.9]), None, 0.25, 0.8)
    assert gate.validation_in_scope_loss <= 0.25
