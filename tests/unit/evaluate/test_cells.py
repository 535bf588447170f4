"""Typed evaluation records: CellResult rows and the judge's Calibration, read by key as before."""

import json

import pytest
from pydantic import ValidationError

from workbench.evaluate.cells import CellResult
from workbench.evaluate.classification import COLUMNS, LabelCellResult
from workbench.evaluate.generation import COLUMNS as REPLY_COLUMNS
from workbench.evaluate.generation import ReplyCellResult
from workbench.evaluate.judge import Calibration, calibrate, uncalibrated

COSTS = {"latency_p50_ms": 12.5, "latency_p95_ms": 20.0, "throughput_per_s": 70.1, "peak_mem_mb": 88.0}


def label_row(**over) -> LabelCellResult:
    fields = {"strategy": "prompt", "model": "minilm-l6", "accuracy": 0.5, "macro_f1": 0.4, **COSTS,
              "parameters": 22_713_216, "disk_mb": 86.7, "per_label": {"a": {"f1": 0.5, "support": 1}},
              "confusion": [[1, 0], [1, 0]], "predictions": ["a", "a"], "confidence": [0.9, 0.6]}
    return LabelCellResult(**{**fields, **over})


def test_a_classification_row_round_trips_through_json():
    row = label_row()
    again = LabelCellResult.model_validate(json.loads(json.dumps(row.to_dict())))
    assert again == row and again.confusion == [[1, 0], [1, 0]]
    assert row.row(COLUMNS) == {"strategy": "prompt", "model": "minilm-l6", "accuracy": 0.5, "accuracy_ci": None,
                                "macro_f1": 0.4, "macro_f1_ci": None, **COSTS, "parameters": 22_713_216,
                                "disk_mb": 86.7}
    # read by key, as the dict rows were
    assert row["macro_f1"] == 0.4 and row.get("judge") is None and row.get("judge", "-") == "-"
    with pytest.raises(KeyError):
        row["judge"]


def test_a_generation_row_round_trips_and_keeps_unknown_sizes():
    row = ReplyCellResult(strategy="teacher", model="teacher:qwen", rouge_l=0.25, chrf=0.31, length_ratio=1.2,
                          **COSTS, parameters=None, disk_mb=None, new_tokens_mean=7.5, predictions=["Hi there"],
                          items=[{"rouge_l": 0.25, "chrf": 0.31, "length_ratio": 1.2}])
    assert row.judge is None and row.judge_pass is None
    row.judge, row.items[0]["judge"] = 0.75, 0.75
    again = ReplyCellResult.model_validate(json.loads(json.dumps(row.to_dict())))
    assert again == row and again.items[0]["judge"] == 0.75
    assert list(row.row(REPLY_COLUMNS)) == REPLY_COLUMNS and row.row(REPLY_COLUMNS)["parameters"] is None


def test_a_row_is_validated():
    with pytest.raises(ValidationError):
        label_row(accuracy="high")
    with pytest.raises(ValidationError):
        CellResult.model_validate({"strategy": "prompt", "model": "m"})


def test_calibration_is_typed_and_keeps_its_keys():
    c = calibrate([5, 5, 5, 5, 5, 1, 1, 1, 1, 1], ["accepted"] * 5 + ["discarded"] * 5, [5] * 5 + [1] * 5, 4)
    assert isinstance(c, Calibration) and c.status == "good" and c["kappa"] == c.kappa == 1.0
    assert list(c.to_dict()) == ["n", "n_rated", "kappa", "agreement", "judge_pass_rate", "human_pass_rate",
                                 "spearman", "pearson", "status", "verdict"]
    c.dataset, c.items = "reviewed/v001", [{"decision": "accepted", "judge_rating": 5}]
    assert c.to_dict()["dataset"] == "reviewed/v001" and "items" not in c.to_dict()
    assert Calibration.model_validate(c.to_dict(items=True)) == c
    none = uncalibrated("no reviewed records")
    assert "dataset" not in none.to_dict() and none.to_dict()["status"] == "uncalibrated"
