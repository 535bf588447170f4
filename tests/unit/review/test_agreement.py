"""Agreement statistics against hand-computed values."""

import pytest

from workbench.review.agreement import cohen_kappa, krippendorff_alpha, unit_agreement


def test_cohen_kappa_hand_computed():
    # observed 0.8; chance (2*3 + 2*2 + 1*0) / 25 = 0.4; kappa = 0.4 / 0.6
    assert cohen_kappa(list("aabbc"), list("aabba")) == pytest.approx(2 / 3)
    assert cohen_kappa(list("ab"), list("ba")) == pytest.approx(-1.0)
    assert cohen_kappa(list("aaa"), list("aaa")) == 1.0
    assert cohen_kappa([], []) is None
    with pytest.raises(ValueError, match="same items"):
        cohen_kappa(["a"], ["a", "b"])


def test_krippendorff_alpha_hand_computed():
    # Coincidences: (a,a)=2, (b,b)=2, (a,b)=(b,a)=1; n=6; Do=2; De=(3*3+3*3)/5=3.6.
    assert krippendorff_alpha([["a", "a"], ["b", "b"], ["a", "b"]]) == pytest.approx(1 - 2 / 3.6)
    # Three reviewers on one unit, weights 1/(m-1): (a,a)=1, (a,b)=(b,a)=1 each -> Do=2... with a
    # second unit (c,c) to give expected disagreement: totals a=2, b=1, c=2, n=5.
    value = krippendorff_alpha([["a", "a", "b"], ["c", "c"], ["z"]])
    do = 2.0
    de = (2 * 1 + 2 * 2 + 1 * 2 + 1 * 2 + 2 * 2 + 2 * 1) / 4
    assert value == pytest.approx(1 - do / de)
    assert krippendorff_alpha([["a"], ["b"]]) is None
    assert krippendorff_alpha([["a", "a"], ["a", "a"]]) == 1.0


def test_unit_agreement_is_the_share_of_agreeing_pairs():
    assert unit_agreement(["a", "a", "b"]) == pytest.approx(1 / 3)
    assert unit_agreement(["a"]) is None
