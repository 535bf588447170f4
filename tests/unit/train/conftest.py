"""A complete RunInfo for the tests of the card and of finding runs."""

import pytest


def run_info_dict(**overrides) -> dict:
    """A run.json as run_train writes it; nested dicts in ``overrides`` update the defaults'."""
    info = {"task": "support_intents", "type": "classification", "objective": "classify", "method": "lora",
            "run_id": "minilm-l6-reviewed-v003-abcd1234", "run_dir": "/runs/support_intents/train/x",
            "student": "minilm-l6", "student_path": "/models/minilm", "labels": ["a", "b"], "pooling": "mean",
            "dataset": {"kind": "reviewed", "version": "v003", "path": "/datasets/support_intents/reviewed/v003",
                        "data_sha256": "f" * 64, "teacher": "llamacpp:gemma3-270m", "spec_hash": "1234abcd",
                        "parent_version": None, "source_versions": ["v001"]},
            "spec_hash": "1234abcd",
            "hyperparameters": {"method": "lora", "epochs": 4, "learning_rate": 0.003, "batch_size": 8,
                                "validation_fraction": 0.15, "max_length": 128, "seed": 0, "max_steps": None,
                                "warmup_ratio": 0.06, "weight_decay": 0.0, "early_stopping_patience": 2,
                                "checkpoint_every": None, "class_weights": True, "train_on_seeds": True,
                                "lora_r": 8, "lora_alpha": 16, "lora_dropout": 0.0, "effective_batch_size": 8},
            "rows": {"train": 50, "validation": 10, "seeds_added": 0, "dropped": {},
                     "label_counts": {"a": 30, "b": 30}},
            "metrics": {"eval_macro_f1": 0.9}, "train": {"train_runtime": 3.2}, "steps": 24,
            "resumed_from_step": None, "trainable_parameters": 1000, "total_parameters": 100000,
            "hardware": {"device": "cpu"}, "wall_seconds": 12.5, "finished": "2026-12-01T10:00:00Z",
            "workbench_version": "0.1.0"}
    for key, value in overrides.items():
        info[key] = {**info[key], **value} if isinstance(value, dict) and isinstance(info.get(key), dict) else value
    return info


@pytest.fixture
def make_run_info():
    return run_info_dict
