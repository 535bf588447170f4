"""The judge's arithmetic and its calibration against reviewers, worked out by hand."""

import pytest

from workbench.evaluate.judge import (
    MIN_CALIBRATION,
    calibrate,
    expected_rating,
    passes,
    to_score,
    uncalibrated,
)


def test_expected_rating_renormalises_over_the_ratings_given():
    # 0.2 on "2" and 0.6 on "5" (0.2 of the mass elsewhere): (2 * 0.2 + 5 * 0.6) / 0.8 = 4.25
    assert expected_rating({2: 0.2, 5: 0.6}) == pytest.approx(4.25)
    assert expected_rating({}) is None
    assert to_score(1) == 0.0 and to_score(5) == 1.0 and to_score(4.25) == pytest.approx(0.8125)


def test_a_rating_passes_when_it_rounds_to_the_pass_mark():
    assert passes(3.5, 4) and passes(5, 4) and not passes(3.49, 4)


def test_calibration_by_hand():
    judge = [4.6, 1.2, 4.1, 2.0, None]
    decisions = ["accepted", "corrected", "discarded", "discarded", "accepted"]
    ratings = [5, 2, 1, None, 4]
    c = calibrate(judge, decisions, ratings, pass_rating=4)
    # the unrated last item is left out: judge pass/fail P F P F vs reviewers P F F F
    assert c["n"] == 4 and c["agreement"] == 0.75
    # chance: judge 2 P 2 F, reviewers 1 P 3 F -> (2*1 + 2*3) / 16 = 0.5; kappa (0.75 - 0.5) / 0.5
    assert c["kappa"] == 0.5
    assert c["judge_pass_rate"] == 0.5 and c["human_pass_rate"] == 0.25
    # ratings pair where both exist: judge (4.6, 1.2, 4.1) vs reviewers (5, 2, 1)
    assert c["n_rated"] == 3
    assert c["spearman"] == pytest.approx(0.5)  # ranks (3, 1, 2) vs (3, 2, 1): r = 0.5
    assert c["status"] == "too_few" and "NOT calibrated" in c["verdict"] and f"fewer than {MIN_CALIBRATION}" \
        in c["verdict"]


def test_verdicts_poor_moderate_good():
    good = calibrate([5, 5, 5, 5, 5, 1, 1, 1, 1, 1], ["accepted"] * 5 + ["discarded"] * 5, [5] * 5 + [1] * 5, 4)
    assert good["kappa"] == 1.0 and good["spearman"] == pytest.approx(1.0) and good["status"] == "good"
    # a judge that passes everything: kappa 0 -> poor, said plainly
    flat = calibrate([4.2] * 10, ["accepted"] * 5 + ["corrected"] * 5, [5] * 5 + [2] * 5, 4)
    assert flat["kappa"] == 0.0 and flat["status"] == "poor" and "POORLY" in flat["verdict"]
    assert flat["spearman"] is None  # a constant judge has no rank correlation
    # 8 of 10 decisions agree (kappa 0.6) but ratings run the wrong way: poor
    judge = [5, 5, 5, 5, 1, 1, 1, 1, 5, 1]
    decisions = ["accepted"] * 4 + ["discarded"] * 4 + ["discarded", "accepted"]
    mixed = calibrate(judge, decisions, [1, 1, 1, 1, 5, 5, 5, 5, 5, 1], 4)
    assert mixed["kappa"] == pytest.approx(0.6) and mixed["spearman"] < 0 and mixed["status"] == "poor"
    agreeing = calibrate(judge, decisions, [5, 5, 5, 5, 1, 1, 1, 1, 1, 5], 4)
    assert agreeing["spearman"] == pytest.approx(0.6) and agreeing["status"] == "good"
    # P P P P P F F F F F vs P P P F F F F F F P: agreement 0.7, chance (5*4 + 5*6) / 100 = 0.5 -> kappa 0.4
    moderate = calibrate([5] * 5 + [1] * 5, ["accepted"] * 3 + ["corrected"] * 6 + ["accepted"], [None] * 10, 4)
    assert moderate["kappa"] == pytest.approx(0.4) and moderate["status"] == "moderate"
    half = calibrate([5, 5, 5, 5, 5, 1, 1, 1, 1, 1], ["accepted"] * 4 + ["corrected"] * 2 + ["accepted"] + [
        "discarded"] * 3, [None] * 10, 4)
    # P P P P P F F F F F vs P P P P F F P F F F: agreement 0.8, chance 0.5 -> kappa 0.6; no ratings
    assert half["kappa"] == pytest.approx(0.6) and half["spearman"] is None and half["status"] == "good"


def test_uncalibrated_says_so():
    c = uncalibrated("task 't' has no reviewed records")
    assert c["status"] == "uncalibrated" and "NOT calibrated" in c["verdict"] and "no reviewed" in c["verdict"]


def test_one_sided_reviews_cannot_calibrate_pass_fail():
    # every suggestion was rejected: kappa is 0 whatever the judge does, so it is not reported as agreement
    c = calibrate([1.0, 4.0, 2.0, 1.5, 1.0, 1.0, 3.9, 1.0, 2.0, 1.0], ["discarded"] * 5 + ["corrected"] * 5,
                  [1, 2, 1, 1, 1, 1, 2, 1, 1, 1], 4)
    assert c["status"] == "one_sided" and c["judge_pass_rate"] == 0.2 and c["human_pass_rate"] == 0.0
    assert "NOT calibrated" in c["verdict"] and "corrected or discarded all 10" in c["verdict"]
