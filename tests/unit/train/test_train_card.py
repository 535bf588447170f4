"""The model card and the hardware choice."""

from workbench.train.card import render_card
from workbench.train.hardware import choose_hardware
from workbench.train.info import RunInfo


def test_card_carries_lineage_and_settings(make_run_info):
    run = RunInfo.parse(make_run_info(hyperparameters={"epochs": 4, "lora_r": 8}, metrics={"eval_macro_f1": 0.9},
                                      hardware={"device": "cpu"}, wall_seconds=12.5))
    card = render_card(run)
    assert card.startswith("---\nlibrary_name: transformers\n")
    assert "support_intents/reviewed/v003" in card and "f" * 64 in card
    assert "llamacpp:gemma3-270m" in card and "| lora_r | 8 |" in card and "| eval_macro_f1 | 0.9 |" in card
    assert "| wall time (s) | 12.5 |" in card


def test_card_lists_hyperparameters_in_the_order_run_json_has_them(make_run_info):
    card = render_card(RunInfo.parse(make_run_info()))
    section = card.split("## Hyperparameters")[1].split("##")[0]
    rows = [line.split(" | ")[0].lstrip("| ") for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| |")]
    assert rows == list(make_run_info()["hyperparameters"])


def test_cpu_choice_keeps_fp32_and_the_batch():
    choice = choose_hardware("cpu", 16)
    assert (choice.device, choice.batch_size, choice.bf16) == ("cpu", 16, False)
    assert "CPUs" in choice.description
