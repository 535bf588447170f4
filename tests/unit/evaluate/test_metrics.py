"""Metrics against values worked out by hand (the arithmetic is in the comments)."""

import math

import pytest

from workbench.evaluate.metrics import (
    chrf,
    classification_metrics,
    confusion,
    generation_metrics,
    length_ratio,
    percentile,
    rouge_l,
)

Y_TRUE = ["a", "a", "a", "b", "b", "c"]
Y_PRED = ["a", "a", "b", "b", "c", "c"]


def test_confusion_counts_rows_true_columns_predicted():
    assert confusion(Y_TRUE, Y_PRED, ["a", "b", "c"]) == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]


def test_classification_metrics_by_hand():
    m = classification_metrics(Y_TRUE, Y_PRED, ["a", "b", "c"])
    # a: tp 2, predicted 2, support 3 -> P 1, R 2/3, F1 0.8
    assert m["per_label"]["a"] == {"precision": 1.0, "recall": 0.6667, "f1": 0.8, "support": 3, "predicted": 2}
    # b: tp 1 of 2 predicted, 2 true -> 0.5 / 0.5 / 0.5
    assert m["per_label"]["b"]["f1"] == 0.5
    # c: tp 1 of 2 predicted, 1 true -> P 0.5, R 1, F1 2/3
    assert m["per_label"]["c"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1, "predicted": 2}
    assert m["accuracy"] == 0.6667  # 4 of 6
    assert m["macro_f1"] == round((0.8 + 0.5 + 2 / 3) / 3, 4) == 0.6556


def test_label_absent_everywhere_does_not_drag_macro_f1_but_a_missed_one_does():
    # "d" neither occurs nor is predicted: it says nothing about the model
    assert classification_metrics(["a", "b"], ["a", "b"], ["a", "b", "d"])["macro_f1"] == 1.0
    # "b" occurs but is never predicted: precision 0 by convention, F1 0
    m = classification_metrics(["a", "b"], ["a", "a"], ["a", "b"])
    assert m["per_label"]["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "predicted": 0}
    assert m["macro_f1"] == round((2 / 3 + 0) / 2, 4)  # a: P 1/2, R 1 -> F1 2/3


def test_classification_metrics_agree_with_scikit_learn():
    from sklearn.metrics import f1_score

    y_true = list("aabbccabcabccbaa")
    y_pred = list("abbbcaabcccccbab")
    m = classification_metrics(y_true, y_pred, ["a", "b", "c"])
    assert m["macro_f1"] == round(f1_score(y_true, y_pred, average="macro"), 4)


def test_empty_heldout_is_a_clear_error():
    with pytest.raises(ValueError, match="held-out set is empty"):
        classification_metrics([], [], ["a"])


def test_rouge_l_by_hand():
    # LCS of "the cat sat on the mat" / "the cat is on the mat" = the cat on the mat (5): P = R = 5/6
    assert rouge_l("the cat sat on the mat", "The cat is on the mat") == pytest.approx(5 / 6)
    # LCS 3 of 3 predicted and 4 reference words: 2 * 1 * 0.75 / 1.75
    assert rouge_l("the cat sat", "the cat sat down") == pytest.approx(1.5 / 1.75)
    assert rouge_l("", "anything") == 0.0


def test_chrf_by_hand():
    assert chrf("same text", "same text") == pytest.approx(1.0)
    assert chrf("a b", "ab") == pytest.approx(1.0)  # whitespace is ignored
    # "abc" vs "abd": 1-grams 2/3, 2-grams 1/2, 3-grams 0; orders 4-6 do not exist -> P = R = 7/18
    assert chrf("abc", "abd") == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)
    # precision and recall differ: "ab" vs "abcd": 1-grams P 1, R 1/2; 2-grams P 1, R 1/3
    p, r = 1.0, (1 / 2 + 1 / 3) / 2
    assert chrf("ab", "abcd") == pytest.approx(5 * p * r / (4 * p + r))
    assert chrf("xyz", "abc") == 0.0


def test_length_ratio_and_generation_metrics():
    assert length_ratio("a b c", "a b") == 1.5
    assert math.isinf(length_ratio("a", ""))
    g = generation_metrics(["the cat sat", "x"], ["the cat sat down", "x"])
    assert g == {"rouge_l": round((1.5 / 1.75 + 1) / 2, 4), "chrf": round((chrf("the cat sat", "the cat sat down")
                                                                           + 1) / 2, 4),
                 "length_ratio": round((0.75 + 1) / 2, 4), "n": 2}


def test_percentile_interpolates_like_numpy():
    import numpy as np

    xs = [5.0, 1.0, 3.0, 2.0, 4.0, 10.0]
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)  # position 0.95 * 3 = 2.85
    assert percentile(xs, 95) == pytest.approx(np.percentile(xs, 95))


def test_ranks_share_ties():
    from workbench.evaluate.metrics import ranks

    # sorted: 1 (rank 1), 2 2 (ranks 2, 3 -> 2.5 each), 5 (rank 4)
    assert ranks([2, 5, 1, 2]) == [2.5, 4.0, 1.0, 2.5]


def test_pearson_and_spearman_by_hand():
    from workbench.evaluate.metrics import pearson, spearman

    # x = 1 2 3, y = 1 3 2: means 2 and 2; sxy = (-1)(-1) + 0 + (1)(0) = 1; sxx = syy = 2 -> r = 0.5
    assert pearson([1, 2, 3], [1, 3, 2]) == pytest.approx(0.5)
    # a monotone but not linear relation: rho 1, r below 1
    assert spearman([1, 2, 3, 4], [1, 4, 9, 100]) == pytest.approx(1.0)
    assert pearson([1, 2, 3, 4], [1, 4, 9, 100]) < 0.9
    # ranks of y with a tie: [1, 2.5, 2.5]; x ranks [1, 2, 3]: means 2, 2; sxy = 1*1.5... by hand:
    # dx = -1, 0, 1; dy = -1, 0.5, 0.5 -> sxy = 1 + 0 + 0.5 = 1.5; sxx = 2; syy = 1 + 0.25 + 0.25 = 1.5
    assert spearman([1, 2, 3], [0, 7, 7]) == pytest.approx(1.5 / math.sqrt(2 * 1.5))
    assert pearson([1, 1, 1], [1, 2, 3]) is None and pearson([1], [2]) is None  # constant / too few
    with pytest.raises(ValueError, match="pairs"):
        pearson([1, 2], [1])


def test_pearson_and_spearman_agree_with_scipy():
    from scipy import stats

    from workbench.evaluate.metrics import pearson, spearman

    xs = [3.2, 1.5, 4.4, 4.4, 2.0, 3.9, 1.1]
    ys = [4, 2, 5, 3, 1, 4, 2]
    assert pearson(xs, ys) == pytest.approx(stats.pearsonr(xs, ys)[0])
    assert spearman(xs, ys) == pytest.approx(stats.spearmanr(xs, ys)[0])
