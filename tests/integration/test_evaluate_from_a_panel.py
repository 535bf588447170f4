"""A user evaluates from the EvaluatePanel: the table, the quality-versus-latency plot and the
recommendation appear; the plan button shows what to generate next and the generate button
makes that version; a bad choice shows in the log and the last good result stays.

The fine-tuned student trains for 2 steps, and its errors are planted: it answers one label
for every message (whatever 2 steps taught it, which might happen to be right on 10 rows), so
the plan is aimed at known errors.
"""

import pytest

from workbench.evaluate import EvaluateConfig
from workbench.evaluate.strategies import FineTunedScorer
from workbench.generate import GenerateConfig
from workbench.panels import EvaluatePanel
from workbench.store import save_version
from workbench.tasks import load_task
from workbench.train import TrainConfig, run_train

pytestmark = pytest.mark.slow

PNG = b"\x89PNG\r\n\x1a\n"
LABELS = load_task("support_intents").label_names
PLANTED = LABELS[0]  # what the fine-tuned student answers, every time


@pytest.fixture(scope="module")
def panel(module_home):
    """An EvaluatePanel after Evaluate was clicked, in a home of the module's own."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two threads wait on each other on a shared 2-core machine
    with module_home("evaluate_panel_home"), pytest.MonkeyPatch.context() as mp:
        mp.setattr(FineTunedScorer, "score", lambda self, text: {lab: float(lab == PLANTED) for lab in LABELS})
        save_version("support_intents", load_task("support_intents").seed_examples, {"teacher": "seeds-as-synthetic"})
        run_train(TrainConfig(task="support_intents", student="minilm-l6", max_steps=2, batch_size=8,
                              learning_rate=3e-3, progress=False))
        panel = EvaluatePanel(EvaluateConfig(task="support_intents", plan_size=6, eval_id="p1", controls=False,
                                             progress=False),
                              generate=GenerateConfig(task="support_intents", slots=8, batch_size=16, progress=False))
        for strategy, box in panel.strategies.items():
            box.value = strategy in ("prompt", "fewshot", "finetuned")
        panel.students.value = ("minilm-l6",)
        panel.limit.value = 10
        panel.run_button.click()
        yield panel
    torch.set_num_threads(threads)


def test_evaluate_shows_the_table_the_plot_and_the_recommendation(panel):
    assert panel.last_error is None, panel.log_text()
    result = panel.result
    assert [(r["strategy"], r["model"].split("/")[0][:9]) for r in result.table()] == [
        ("prompt", "minilm-l6"), ("fewshot", "minilm-l6"), ("finetuned", "minilm-l6")]
    for row in result.table():
        assert f"<td>{row['strategy']}</td>" in panel.results_table.value
    assert panel.plot.value == (result.out_dir / "quality_latency.png").read_bytes()
    assert panel.plot.value[:8] == PNG
    rec = result.recommendation
    assert "recommended" in panel.recommendation.value and rec.row["model"] in panel.recommendation.value
    log = panel.log_text()
    assert f"report at {result.out_dir / 'report.html'}" in log and f"generation plan at {result.plan_path}" in log


def test_plan_next_shows_the_labels_and_the_confusable_pairs(panel):
    path = panel.plan_next()
    assert panel.last_error is None, panel.log_text()
    plan = panel.result.plan
    assert path == panel.result.plan_path and path.is_file() and plan["total"] == 6  # planted errors
    assert plan["source"]["strategy"] == "finetuned" and "6 new examples aimed at" in panel.plan.value
    assert plan["status"] == "errors" and panel.plan_status == "errors" and PLANTED in plan["labels"]
    for label, n in plan["labels"].items():
        assert f"<td>{label}</td><td>{n}</td>" in panel.plan.value
    first = plan["pairs"][0]
    assert f"{first['labels'][0]} &lt;-&gt; {first['labels'][1]}" in panel.plan.value
    assert str(path) in panel.plan.value and f"at {path}" in panel.log_text()


def test_a_bad_choice_is_logged_and_the_last_result_stays(panel):
    good = panel.result
    for box in panel.strategies.values():
        box.value = False
    panel.run_button.click()
    assert "tick at least one strategy" in panel.status_line.value and panel.result is good
    assert panel.plot.value[:8] == PNG and not panel.run_button.disabled


def test_generate_next_makes_the_planned_version(panel):
    gen = panel.generate_next()
    assert panel.last_error is None, panel.log_text()
    plan = panel.result.plan
    assert gen.manifest["parameters"]["plan"] == str(panel.result.plan_path)
    assert gen.manifest["parameters"]["targets"] == plan["labels"]
    assert set(gen.version.load()["label"]) <= set(plan["labels"])  # nothing unplanned
    assert f"new version {gen.version.version}" in panel.generated.value
    assert f"saved {gen.version.version} at {gen.version.path}" in panel.log_text()
