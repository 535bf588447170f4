"""Bootstrap intervals against cases worked out by hand (binomial resampling distributions)."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from workbench.evaluate.intervals import (Interval, _encode, _macro_f1, bootstrap_mean, bootstrap_metric,
                                          paired_difference, paired_mean_difference, rows_needed)


def test_accuracy_interval_is_the_binomial_percentiles():
    # 8 of 10 right: a resample's accuracy is Binomial(10, 0.8) / 10. P(X <= 4) = 0.006 and
    # P(X <= 5) = 0.033, so the 2.5th percentile is 0.5; P(X <= 9) = 0.893, so the 97.5th is 1.0.
    y = list("aaaaaaaaaa")
    p = list("aaaaaaaabb")
    ci = bootstrap_metric("accuracy", y, p, resamples=20000, seed=3)
    assert (ci.value, ci.low, ci.high) == (0.8, 0.5, 1.0)


def test_paired_difference_counts_only_the_rows_that_differ():
    # The cells differ on one row of 10 (a right, b wrong): the difference is D / 10 with
    # D ~ Binomial(10, 0.1). P(D = 0) = 0.349 and P(D <= 2) = 0.930 < 0.975 <= P(D <= 3) = 0.987.
    y = list("abababab") + ["a", "b"]
    a = list(y)
    b = list(y[:9]) + ["a"]
    d = paired_difference("accuracy", y, a, b, resamples=20000, seed=1)
    assert round(d.value, 4) == 0.1
    assert (round(d.low, 4), round(d.high, 4)) == (0.0, 0.3)
    assert not d.excludes(0.0)  # one row of ten is no evidence


def test_vectorised_macro_f1_matches_scikit_learn_on_every_resample():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 6, 80)
    p = np.where(rng.random(80) < 0.7, y, rng.integers(0, 6, 80))
    yy, (pp,), k = _encode(list(y), [list(p)], None)
    idx = rng.integers(0, 80, (50, 80))
    ours = _macro_f1(yy, pp, k)(idx)
    # scikit-learn on one resample averages over the labels present in its y_true or y_pred
    theirs = [f1_score(yy[i], pp[i], average="macro", zero_division=0) for i in idx]
    assert np.allclose(ours, theirs)
    assert bootstrap_metric("macro_f1", list(y), list(p)).value == pytest.approx(f1_score(y, p, average="macro"))


def test_perfect_predictions_have_a_zero_width_interval_and_means_pair():
    ci = bootstrap_metric("macro_f1", list("abcabc"), list("abcabc"))
    assert (ci.low, ci.high) == (1.0, 1.0)
    m = bootstrap_mean([0.2, 0.4, 0.6, 0.8], resamples=5000)
    assert m.value == pytest.approx(0.5) and 0.2 <= m.low < 0.5 < m.high <= 0.8
    same = paired_mean_difference([0.1, 0.5, 0.9], [0.1, 0.5, 0.9])
    assert (same.value, same.low, same.high) == (0.0, 0.0, 0.0)


def test_rows_needed_and_the_printed_forms():
    assert rows_needed(100, Interval(0.9, 0.86, 0.94), 0.02) == 400
    assert rows_needed(100, Interval(0.9, 0.89, 0.91), 0.02) == 100
    assert rows_needed(100, Interval(0.9, 0.8, 1.0), 0.0) is None
    assert Interval(0.024, 0.009, 0.038).signed() == "+2.4 [+0.9, +3.8]"
    assert str(Interval(0.9123, 0.8931, 0.9302)) == "0.912 [0.893, 0.930]"


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="one prediction per row"):
        bootstrap_metric("accuracy", ["a", "b"], ["a"])
    with pytest.raises(ValueError, match="same rows"):
        paired_difference("accuracy", ["a"], ["a"], ["a", "b"])
    with pytest.raises(ValueError, match="unknown metric"):
        bootstrap_metric("f2", ["a"], ["a"])


def test_seed_means_pair_on_the_same_rows():
    from workbench.evaluate.intervals import bootstrap_seeds, paired_seeds_difference

    y = list("abababababab")
    one, two = list(y), list(y[:-1]) + ["a"]
    mean = bootstrap_seeds("accuracy", y, [one, two])
    assert mean.value == pytest.approx((1 + 11 / 12) / 2)
    d = paired_seeds_difference("accuracy", y, [one, one], [one, two])
    assert d.value == pytest.approx(1 / 24) and d.low >= 0.0
    with pytest.raises(ValueError, match="same rows"):
        paired_seeds_difference("accuracy", y, [one], [y[:3]])


def test_a_prediction_outside_the_labels_counts_against_its_row_but_is_not_averaged():
    from workbench.evaluate.metrics import classification_metrics

    y = list("aabbcc")
    p = ["a", "a", "b", "out_of_scope", "c", "c"]  # a gate turned one row away
    ci = bootstrap_metric("macro_f1", y, p, ["a", "b", "c"])
    assert ci.value == pytest.approx(classification_metrics(y, p, ["a", "b", "c"])["macro_f1"], abs=1e-4)
    assert ci.value == pytest.approx((1 + 2 / 3 + 1) / 3)
