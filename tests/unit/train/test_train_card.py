"""The model card and the hardware choice."""

from workbench.train.card import render_card
from workbench.train.hardware import choose_hardware


def test_card_carries_lineage_and_settings():
    run = {"task": "support_intents", "run_id": "minilm-l6-reviewed-v003-abcd1234", "student": "minilm-l6",
           "objective": "classify", "method": "lora", "labels": ["a", "b"],
           "dataset": {"kind": "reviewed", "version": "v003", "data_sha256": "f" * 64, "teacher": "llamacpp:gemma3-270m",
                       "spec_hash": "1234abcd"},
           "hyperparameters": {"epochs": 4, "lora_r": 8}, "metrics": {"eval_macro_f1": 0.9},
           "hardware": {"device": "cpu"}, "wall_seconds": 12.5}
    card = render_card(run)
    assert card.startswith("---\nlibrary_name: transformers\n")
    assert "support_intents/reviewed/v003" in card and "f" * 64 in card
    assert "llamacpp:gemma3-270m" in card and "| lora_r | 8 |" in card and "| eval_macro_f1 | 0.9 |" in card
    assert "| wall time (s) | 12.5 |" in card


def test_cpu_choice_keeps_fp32_and_the_batch():
    choice = choose_hardware("cpu", 16)
    assert (choice.device, choice.batch_size, choice.bf16) == ("cpu", 16, False)
    assert "CPUs" in choice.description
