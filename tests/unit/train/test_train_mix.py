"""The training mix: real rows validate, synthetic rows are capped per real row, real rows weigh more."""

from collections import Counter

import pytest

from workbench.tasks import load_task
from workbench.train.data import add_seeds, split_rows
from workbench.train.mix import ALL_ROWS, MIN_REAL_TRAIN, NO_VALIDATION, REAL_ROWS, VALIDATION_FILE, mix_rows


@pytest.fixture
def spec():
    return load_task("support_intents")  # 10 labels, 6 seeds each, no validation file


def _synthetic(labels, per_label):
    return [{"text": f"teacher message {i} about {lab}", "label": lab} for lab in labels for i in range(per_label)]


def _texts(rows):
    return Counter(r["text"] for r in rows)


def test_synthetic_rows_are_capped_per_label_by_its_real_rows(spec):
    rows, _ = add_seeds(_synthetic(spec.label_names, 30), spec)
    mix = mix_rows(rows, spec, fraction=0.1, seed=0, max_synthetic_per_real=2.33, seed_weight=1)
    # one seed of each label validates, so 5 real rows a label train: round(2.33 x 5) = 12 synthetic kept
    kept = Counter(r["label"] for r in mix.train if r["text"].startswith("teacher"))
    assert kept == {lab: 12 for lab in spec.label_names}
    assert mix.dropped == {"over_cap": 10 * 18} and (mix.real, mix.synthetic) == (50, 120)
    again = mix_rows(rows, spec, fraction=0.1, seed=0, max_synthetic_per_real=2.33, seed_weight=1)
    other = mix_rows(rows, spec, fraction=0.1, seed=1, max_synthetic_per_real=2.33, seed_weight=1)
    assert again.train == mix.train and other.train != mix.train  # a seeded sample: same seed, same rows
    for no_cap in (0, None):
        assert mix_rows(rows, spec, fraction=0.1, seed=0, max_synthetic_per_real=no_cap, seed_weight=1).synthetic == 300


def test_a_label_without_real_rows_keeps_its_synthetic_rows(spec):
    a, b = spec.label_names[:2]
    seeds_of_a = [{"text": r["text"], "label": a} for r in spec.seed_examples if r["label"] == a]
    rows = seeds_of_a + _synthetic([a, b], 20)
    mix = mix_rows(rows, spec, fraction=0.0, seed=0, max_synthetic_per_real=1.0, seed_weight=1)
    kept = Counter(r["label"] for r in mix.train if r["text"].startswith("teacher"))
    assert kept == {a: 6, b: 20} and mix.dropped == {"over_cap": 14}


def test_seeds_and_reviewed_real_rows_are_repeated_only_in_training(spec):
    real_message = {"text": "my parcel is lost, the courier says delivered", "label": spec.label_names[0]}
    rows, _ = add_seeds([real_message] + _synthetic(spec.label_names, 3), spec)
    mix = mix_rows(rows, spec, fraction=0.1, seed=0, max_synthetic_per_real=None, seed_weight=3,
                   real={"my parcel is lost, the courier says delivered"}, real_weight=2)
    counts = _texts(mix.train)
    seeds_in_training = [r["text"] for r in spec.seed_examples if r["text"] in counts]
    assert len(seeds_in_training) == 50 and all(counts[t] == 3 for t in seeds_in_training)
    assert counts[real_message["text"]] == 2 and counts["teacher message 0 about billing_issue"] == 1
    assert all(n == 1 for n in _texts(mix.validation).values()) and mix.weighted
    assert (mix.real, mix.synthetic, len(mix.train)) == (51, 30, 50 * 3 + 2 + 30)
    # Real rows alone: nothing to weigh them against, and repeating every row alike is only more epochs.
    alone = mix_rows(add_seeds([], spec)[0], spec, fraction=0.1, seed=0, max_synthetic_per_real=2.33, seed_weight=3)
    assert not alone.weighted and len(alone.train) == 50


def test_validation_is_a_share_of_the_real_rows_when_the_task_has_no_validation_file(spec):
    rows, _ = add_seeds(_synthetic(spec.label_names, 30), spec)
    mix = mix_rows(rows, spec, fraction=0.1, seed=0, max_synthetic_per_real=2.33, seed_weight=2)
    seeds = {r["text"] for r in spec.seed_examples}
    assert mix.validation_source == REAL_ROWS and mix.warning is None
    assert {r["text"] for r in mix.validation} <= seeds  # never a teacher's row
    assert Counter(r["label"] for r in mix.validation) == {lab: 1 for lab in spec.label_names}
    assert not {r["text"] for r in mix.validation} & {r["text"] for r in mix.train}


def test_with_few_real_rows_each_label_keeps_its_minimum_and_else_all_rows_validate(spec):
    a, b = spec.label_names[:2]
    few = [r for r in spec.seed_examples if r["label"] == a][:MIN_REAL_TRAIN + 1]  # one to spare for a
    few += [r for r in spec.seed_examples if r["label"] == b][:MIN_REAL_TRAIN]  # none to spare for b
    rows = few + _synthetic([a, b], 10)
    mix = mix_rows(rows, spec, fraction=0.5, seed=0, max_synthetic_per_real=None, seed_weight=1)
    assert mix.validation_source == REAL_ROWS and [r["label"] for r in mix.validation] == [a]
    train_seeds = Counter(r["label"] for r in mix.train if not r["text"].startswith("teacher"))
    assert train_seeds == {a: MIN_REAL_TRAIN, b: MIN_REAL_TRAIN}

    none_to_spare = few[1:] + _synthetic([a, b], 10)
    mix = mix_rows(none_to_spare, spec, fraction=0.2, seed=0, max_synthetic_per_real=None, seed_weight=1)
    assert mix.validation_source == ALL_ROWS and "may flatter the student" in mix.warning
    assert mix.validation and (mix.validation, mix.train) == split_rows(none_to_spare, 0.2, 0, "label")[::-1]
    assert mix_rows(rows, spec, fraction=0.0, seed=0, max_synthetic_per_real=None,
                    seed_weight=1).validation_source == NO_VALIDATION


def test_real_rows_alone_split_exactly_as_before(spec):
    """Data of seeds only (what most training tests save) trains and validates on the rows it did."""
    rows, _ = add_seeds([], spec)
    for fraction, seed in ((0.1, 0), (0.15, 3)):
        mix = mix_rows(rows, spec, fraction=fraction, seed=seed, max_synthetic_per_real=2.33, seed_weight=2)
        assert (mix.train, mix.validation) == split_rows(rows, fraction, seed, "label")


def test_the_task_validation_file_validates_and_its_texts_leave_training():
    spec = load_task("clinc_bank")  # 5 seeds an intent and a validation.jsonl of 600 real messages
    val_file = spec.validation_examples()
    copied = {"text": val_file[0]["text"], "label": val_file[0]["label"]}  # a teacher that wrote a validation text
    rows, _ = add_seeds([copied] + _synthetic(spec.label_names, 20), spec)
    mix = mix_rows(rows, spec, fraction=0.1, seed=0, max_synthetic_per_real=2.33, seed_weight=2)
    assert mix.validation_source == VALIDATION_FILE and len(mix.validation) == len(val_file) == 600
    assert mix.dropped["in_validation"] == 1 and copied["text"] not in _texts(mix.train)
    assert mix.real == 150 and mix.synthetic == 30 * 12  # all seeds train; round(2.33 x 5) = 12 a label


def test_the_card_says_where_validation_came_from_and_what_the_mix_was(make_run_info):
    from workbench.train.card import render_card
    from workbench.train.info import RunInfo

    rows = {"validation_source": REAL_ROWS, "real_in_training": 50, "synthetic_in_training": 120,
            "dropped": {"over_cap": 180}}
    hp = {"seed_weight": 2, "max_synthetic_per_real": 2.33}
    card = render_card(RunInfo.parse(make_run_info(rows=rows, hyperparameters=hp)))
    assert "| validation_source | real rows (10 rows) |" in card and "Warning" not in card
    assert ("50 real rows (each seed counted 2x), 120 synthetic (at most 2.33 per real row of a label; "
            "180 over the cap left out)") in card
    card = render_card(RunInfo.parse(make_run_info(rows={**rows, "validation_source": ALL_ROWS}, hyperparameters=hp)))
    assert "| validation_source | all rows (10 rows) |" in card and "**Warning:** validation rows are a share" in card


def test_the_train_command_passes_the_mix_options_with_their_bounds():
    from typer.testing import CliRunner

    from workbench.cli import app

    out = CliRunner().invoke(app, ["train", "--task", "support_intents", "--seed-weight", "0"])
    assert out.exit_code == 2 and "--seed-weight must be between 1 and 10" in out.output
    out = CliRunner().invoke(app, ["train", "--task", "support_intents", "--max-synthetic-per-real", "-1"])
    assert out.exit_code == 2 and "--max-synthetic-per-real must be between 0 and 1000" in out.output
