"""Choosing, cleaning and splitting training data."""

import pytest

from workbench.store import save_version
from workbench.tasks import load_task
from workbench.train.data import (TrainDataError, add_seeds, class_weights, load_rows, prototype_texts,
                                  resolve_dataset, split_rows)


@pytest.fixture
def spec():
    return load_task("support_intents")


def _rows(spec, per_label=3, labels=None):
    names = labels or spec.label_names
    return [{"text": f"message {i} about {lab}", "label": lab} for lab in names for i in range(per_label)]


def test_default_is_latest_reviewed_then_synthetic(spec):
    with pytest.raises(TrainDataError, match="workbench generate --task support_intents"):
        resolve_dataset("support_intents", None)
    save_version("support_intents", _rows(spec), {})
    save_version("support_intents", _rows(spec), {})
    assert resolve_dataset("support_intents", None).version == "v002"
    save_version("support_intents", _rows(spec), {}, kind="reviewed")
    picked = resolve_dataset("support_intents", None)
    assert (picked.kind, picked.version) == ("reviewed", "v001")
    assert resolve_dataset("support_intents", "synthetic/v001").kind == "synthetic"
    assert resolve_dataset("support_intents", "v002").kind == "synthetic"  # only synthetic has a v002
    with pytest.raises(TrainDataError, match="kind must be one of"):
        resolve_dataset("support_intents", "raw/v001")
    with pytest.raises(TrainDataError, match="v009"):
        resolve_dataset("support_intents", "v009")


def test_discarded_empty_and_heldout_rows_are_left_out(spec):
    heldout_text = spec.heldout_examples()[0]["text"]
    rows = _rows(spec) + [
        {"text": "a message the reviewer threw out", "label": "billing_issue", "decision": "discarded"},
        {"text": "   ", "label": "billing_issue", "decision": "accepted"},
        {"text": heldout_text.upper() + "  ", "label": spec.heldout_examples()[0]["label"], "decision": "accepted"},
    ]
    for r in rows:
        r.setdefault("decision", "accepted")
        r.update(teacher="llamacpp:gemma3-270m", source_version="v002")
    data = load_rows(save_version("support_intents", rows, {}, kind="reviewed"), spec)
    assert data.dropped == {"discarded": 1, "empty": 1, "in_heldout": 1}
    assert (data.teachers, data.sources) == (["llamacpp:gemma3-270m"], ["v002"])
    assert len(data.rows) == 3 * len(spec.label_names)
    assert all(set(r) == {"text", "label"} for r in data.rows)


def test_a_dataset_with_one_label_is_refused_with_a_fix(spec):
    version = save_version("support_intents", _rows(spec, 5, ["billing_issue"]), {})
    with pytest.raises(TrainDataError, match=r"one label only \('billing_issue'\).*at least 2 labels"):
        load_rows(version, spec)


def test_unknown_labels_and_missing_columns_are_named(spec):
    version = save_version("support_intents", _rows(spec, 1) + [{"text": "x y z", "label": "refund"}], {})
    with pytest.raises(TrainDataError, match=r"row \d+: label 'refund' is not a label"):
        load_rows(version, spec)
    version = save_version("support_intents", [{"input": "a", "output": "b"}], {})
    with pytest.raises(TrainDataError, match=r"lacks column\(s\) \['text', 'label'\]"):
        load_rows(version, spec)


def test_split_is_seeded_stratified_and_disjoint():
    rows = [{"text": f"t{i}", "label": "a" if i < 30 else "b"} for i in range(40)]
    train, val = split_rows(rows, 0.2, seed=1, stratify="label")
    assert (len(train), len(val)) == (32, 8)
    assert sorted(r["label"] for r in val) == ["a"] * 6 + ["b"] * 2
    assert not {r["text"] for r in train} & {r["text"] for r in val}
    assert split_rows(rows, 0.2, seed=1, stratify="label") == (train, val)
    assert split_rows(rows, 0.2, seed=2, stratify="label") != (train, val)
    assert split_rows(rows, 0.0, seed=1) == (rows, [])


def test_class_weights_favour_rare_labels():
    rows = [{"label": "a"}] * 6 + [{"label": "b"}] * 2
    wa, wb, wc = class_weights(rows, ["a", "b", "c"])
    assert wb == 3 * wa and wc == 0.0
    assert wa * 6 + wb * 2 == pytest.approx(8)  # the average weight per row stays 1


def test_seeds_join_the_training_rows_once_and_become_the_prototypes(spec):
    seeds = spec.seed_examples
    rows = _rows(spec, 2) + [{"text": seeds[0]["text"].upper() + "  ", "label": seeds[0]["label"]}]  # a seed, restyled
    combined, added = add_seeds(rows, spec)
    assert added == len(seeds) - 1 and len(combined) == len(rows) + added  # not twice
    assert combined[:len(rows)] == rows and all(set(r) == {"text", "label"} for r in combined)

    protos = prototype_texts(combined, spec)
    label = seeds[0]["label"]
    assert sorted(protos[label]) == sorted([rows[-1]["text"]] + [s["text"] for s in seeds[1:] if s["label"] == label])
    without = prototype_texts(_rows(spec, 2, ["billing_issue"]), spec)  # no seeds: the label's own rows
    assert without == {"billing_issue": ["message 0 about billing_issue", "message 1 about billing_issue"]}


def test_seeds_only_data_is_the_seed_examples_for_both_objectives(spec, make_run_info):
    from workbench.train.card import render_card
    from workbench.train.data import SEEDS_ONLY, seed_rows, rows_hash
    from workbench.train.info import RunInfo

    data = seed_rows(spec)
    assert data.rows == [{"text": r["text"], "label": r["label"]} for r in spec.seed_examples]
    assert data.label_counts == {lab: 6 for lab in sorted(spec.label_names)}
    replies = load_task("support_replies")
    assert seed_rows(replies).rows == [{"input": r["input"], "output": r["output"]} for r in replies.seed_examples]
    assert rows_hash(data.rows) != rows_hash(data.rows[1:])  # other seeds, another run id

    info = RunInfo.parse(make_run_info(dataset={"kind": SEEDS_ONLY, "version": "1a2b3c4d", "teacher": None}))
    assert info.seeds_only and not RunInfo.parse(make_run_info()).seeds_only
    assert "| dataset | seeds only: the seed examples of support_intents (seeds hash 1a2b3c4d) |" in render_card(info)
