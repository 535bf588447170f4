"""The controls beside the fine-tuned student: finding focus runs, rebuilding a run's config for its
seeds-only control and its extra training seeds, and what the synthetic data is worth (paired)."""

import json

import pytest

from workbench.evaluate.controls import focus_runs, plan_runs, retrain_config
from workbench.evaluate.intervals import paired_difference
from workbench.evaluate.worth import Worth
from workbench.store import run_folder


def _run(name, info):
    folder = run_folder("support_intents", "train", name, create=True)
    (folder / "run.json").write_text(json.dumps(info))
    return folder


def test_focus_runs_leave_out_the_seeds_only_controls(make_run_info):
    tuned = _run("minilm-l6-synthetic-v001-a", make_run_info(finished="2026-12-01T10:00:00Z"))
    _run("minilm-l6-seeds-b", make_run_info(dataset={"kind": "seeds", "version": "seeds"},
                                            finished="2026-12-01T11:00:00Z"))  # newer, but a control
    assert focus_runs("support_intents", "classify") == [tuned]
    assert focus_runs("support_intents", "sft") == []
    # a later run at another training seed (--seeds N) does not move the focus; another config does
    _run("minilm-l6-synthetic-v001-c", make_run_info(hyperparameters={"seed": 1}, finished="2026-12-01T12:00:00Z"))
    assert focus_runs("support_intents", "classify") == [tuned]
    newer = _run("minilm-l6-synthetic-v001-d", make_run_info(hyperparameters={"epochs": 9},
                                                             finished="2026-12-01T13:00:00Z"))
    assert focus_runs("support_intents", "classify") == [newer]


def test_a_runs_config_is_rebuilt_from_its_run_json_with_changes(make_run_info):
    run = _run("r", make_run_info(hyperparameters={"max_steps": 12, "seed": 3, "pseudo_labels": None}))
    cfg = retrain_config(run, dataset="seeds")
    assert (cfg.task, cfg.student, cfg.dataset) == ("support_intents", "minilm-l6", "seeds")
    assert (cfg.epochs, cfg.learning_rate, cfg.batch_size, cfg.max_steps, cfg.seed, cfg.lora_r) == (4, 0.003, 8, 12,
                                                                                                   3, 8)
    assert cfg.pseudo_labels is False and cfg.progress is False
    assert retrain_config(run).dataset == "reviewed/v003" and retrain_config(run, seed=4).seed == 4


def test_a_given_seeds_only_run_is_the_control_and_controls_off_trains_nothing(make_run_info):
    tuned = _run("tuned", make_run_info())
    seeds = _run("seeds", make_run_info(dataset={"kind": "seeds", "version": "seeds"}))
    plan = plan_runs([tuned, seeds], controls=False, seeds=1)
    assert plan.focus == [tuned] and plan.controls == {tuned: seeds} and plan.control_runs == [seeds]
    alone = plan_runs([tuned], controls=False, seeds=1)
    assert alone.controls == {} and "controls are off" in alone.why_no_control[tuned]
    only = plan_runs([seeds], controls=True, seeds=1)
    assert only.focus == [seeds] and "seeds alone" in only.why_no_control[seeds]


def test_worth_is_the_paired_difference_of_focus_and_control():
    y = ["a", "b"] * 30
    focus = {"model": "m (a)", "predictions": y[:50] + ["a"] * 10}
    control = {"model": "m seeds only (b)", "predictions": y[:30] + ["a"] * 30}
    w = Worth.measure(focus, control, "accuracy", 60, y, ["a", "b"], seed_differences=[0.25, 0.2, 0.3])
    d = paired_difference("accuracy", y, focus["predictions"], control["predictions"], ["a", "b"])
    assert (w.value, w.low, w.high) == (round(d.value, 4), round(d.low, 4), round(d.high, 4))
    assert w.value == pytest.approx(55 / 60 - 45 / 60, abs=1e-4) and w.low > 0 and w.verdict == "it helped"
    assert w.line().startswith(f"synthetic data: +{w.value * 100:.1f} accuracy over seeds only, 95% CI [")
    assert "over 3 training seeds +25.0 ± 5.0" in w.line() and w.seeds == 3
    missing = Worth.measure(focus, None, "accuracy", 60, y, why="controls are off")
    assert missing.line() == "synthetic data: not measured: controls are off" and missing.interval is None
