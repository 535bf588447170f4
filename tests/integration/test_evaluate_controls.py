"""User story: a skeptic reads the report and sees what the synthetic data is worth.

One tiny MiniLM run on a synthetic version (2 steps, short rows); the evaluation (``seeds=2``)
trains its seeds-only control with the same hyperparameters and one more training seed of each,
scores them and ``seeds_lr`` beside them; the report's first line is the paired difference with
its 95% interval.
"""

import pytest
from typer.testing import CliRunner

from workbench.evaluate import EvaluateConfig, run_evaluate
from workbench.store import save_version
from workbench.tasks import load_task
from workbench.train import TrainConfig, run_train
from workbench.train.info import RunInfo

pytestmark = pytest.mark.slow

TASK = "support_intents"
TINY = dict(task=TASK, student="minilm-l6", max_steps=2, batch_size=8, max_length=32, learning_rate=3e-3,
            progress=False)


@pytest.fixture(scope="module")
def evaluated(module_home):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with module_home("evaluate_controls") as root:
        spec = load_task(TASK)
        save_version(TASK, spec.seed_examples[::2], {"teacher": "seeds-as-synthetic"})
        trained = run_train(TrainConfig(**TINY))
        result = run_evaluate(EvaluateConfig(task=TASK, strategies=["finetuned"], limit=12, seeds=2, eval_id="c1",
                                             progress=False))
        yield result, trained, root
    torch.set_num_threads(threads)


def _runs(root):
    return set((root / "home" / "runs" / TASK / "train").glob("*/run.json"))


def test_the_control_rows_sit_in_the_same_table(evaluated):
    result, trained, root = evaluated
    names = [(r.strategy, r.model) for r in result.rows]
    control = next(r for r in result.rows if "seeds only" in r.model)
    assert names == [("seeds_lr", "minilm-l6"), ("finetuned", f"minilm-l6 ({trained.run_id})"),
                     ("finetuned", control.model)]
    run = RunInfo.read(trained.run_dir.parent / control.model.split("(")[1][:-1])
    assert run.seeds_only and run.hyperparameters.max_steps == 2 and run.hyperparameters.max_length == 32
    assert result.focus.model == f"minilm-l6 ({trained.run_id})"  # the control is never the focus
    for r in result.rows:  # every metric with its interval around it
        for m in ("accuracy", "macro_f1"):
            low, high = r[f"{m}_ci"]
            assert 0 <= low <= r[m] <= high <= 1, (r.model, m)


def test_the_first_line_is_the_synthetic_datas_worth_with_its_interval(evaluated):
    result, _, _ = evaluated
    w = result.worth
    assert w.value is not None and w.low <= w.value <= w.high and w.heldout == 12 and w.seeds == 2
    first = result.report_md.read_text().splitlines()[0]
    assert first.startswith(f"**synthetic data: {w.value * 100:+.1f} macro-F1 over seeds only, 95% CI "
                            f"[{w.low * 100:+.1f}, {w.high * 100:+.1f}]")
    assert "<p><b>synthetic data: " in result.report_html.read_text().split("<h1>")[0]
    md = result.report_md.read_text()
    assert "| seeds_lr | minilm-l6 |" in md and "seeds only (" in md
    low, high = result.rows[0]["macro_f1_ci"]
    assert f"| seeds_lr | minilm-l6 | {result.rows[0]['accuracy']:.3f} [" in md
    assert f"{result.rows[0]['macro_f1']:.3f} [{low:.3f}, {high:.3f}]" in md


def test_each_fine_tuned_cell_reports_mean_and_sd_over_its_training_seeds(evaluated):
    result, trained, root = evaluated
    seeds = {RunInfo.read(p.parent).hyperparameters.seed for p in _runs(root)}
    assert len(_runs(root)) == 4 and seeds == {0, 1}  # focus and control, at seeds 0 and 1
    for r in result.rows[1:]:
        # two values, the first the row's own (seed 0): the mean sits sd / sqrt(2) from it
        assert r.seeds == 2 and abs(r.macro_f1_mean - r.macro_f1) == pytest.approx(r.macro_f1_sd / 2 ** 0.5, abs=2e-4)
    assert result.rows[0].seeds is None  # seeds_lr trains nothing
    assert "macro-F1 mean ± sd" in result.report_md.read_text()
    assert "over 2 training seeds" in result.headline


def test_the_cli_takes_seeds_and_controls_and_bounds_them():
    from workbench.cli import app

    bad = CliRunner().invoke(app, ["evaluate", "--task", TASK, "--seeds", "0", "--no-controls"])
    assert bad.exit_code == 2 and "seeds" in bad.output
