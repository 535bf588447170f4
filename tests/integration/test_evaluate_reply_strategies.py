"""User story: every reply strategy writes replies to the same held-out messages; the teacher
judges them against the rubric, and the judge is checked against what reviewers decided.

One evaluation (module-scoped) on 2 held-out messages with the real bundled models: the Gemma
teacher (and judge), SmolLM2 through llama.cpp, and SmolLM2 fine-tuned (SFT, one step) on the
seeds. The retrieval pool and the judge's calibration come from a reviewed version planted
with workbench.store: good replies the reviewers accepted, others they corrected or discarded.
"""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.evaluate import EvaluateConfig, run_evaluate
from workbench.evaluate.generation import STRATEGIES
from workbench.evaluate.metrics import chrf, rouge_l
from workbench.review.agreement import cohen_kappa
from workbench.settings import get_settings
from workbench.store import record_id, save_version
from workbench.tasks import load_task
from workbench.train import TrainConfig, run_train

pytestmark = pytest.mark.slow

TASK = "support_replies"
GENERIC = "Hi,\n\nThanks for your message. We will look into it.\n\n— Larkspur Support"


def _reviewed_rows(seeds: list[dict]) -> list[dict]:
    """10 human decisions: 4 accepted replies, 3 wrong-topic replies corrected, 3 vague ones discarded."""
    rows = []
    plan = [("accepted", 5), ("accepted", 4), ("accepted", 5), ("accepted", 4),
            ("corrected", 1), ("corrected", 2), ("corrected", 1),
            ("discarded", None), ("discarded", 1), ("discarded", None)]
    for i, (decision, rating) in enumerate(plan):
        seed = seeds[i]
        suggestion = {"accepted": seed["output"], "corrected": seeds[(i + 5) % len(seeds)]["output"],
                      "discarded": GENERIC}[decision]
        rows.append({"id": record_id(seed["input"], suggestion), "input": seed["input"],
                     "output": None if decision == "discarded" else seed["output"], "suggestion": suggestion,
                     "decision": decision, "decided_by": "human", "reviewers": ["ana"], "agreement": None,
                     "rating": rating, "source_version": "v001", "teacher": "llamacpp:gemma3-270m"})
    return rows


@pytest.fixture(scope="module")
def evaluated(module_home):
    with module_home("evaluate_replies"):
        spec = load_task(TASK)
        save_version(TASK, spec.seed_examples, {"teacher": "seeds-as-synthetic"})
        trained = run_train(TrainConfig(task=TASK, student="smollm2-135m", max_steps=1, batch_size=2,
                                        learning_rate=1e-3, max_length=96, progress=False))
        reviewed = _reviewed_rows(spec.seed_examples)
        save_version(TASK, reviewed, {"task": TASK, "kind": "reviewed"}, kind="reviewed")
        result = run_evaluate(EvaluateConfig(task=TASK, students=["minilm-l6", "smollm2-135m"], limit=2, k=2, shots=2,
                                             max_new_tokens=8, eval_id="r1", controls=False, progress=False))
        yield result, trained, reviewed


def _row(result, strategy, model_prefix):
    found = [r for r in result.rows if r["strategy"] == strategy and r["model"].startswith(model_prefix)]
    assert len(found) == 1, (strategy, model_prefix, [(r["strategy"], r["model"]) for r in result.rows])
    return found[0]


def test_every_reply_strategy_is_scored_with_quality_and_costs(evaluated):
    result, trained, _ = evaluated
    assert result.task_type == "generation" and result.heldout == 2 and result.dataset == "reviewed/v001"
    assert {r["strategy"] for r in result.rows} == set(STRATEGIES)
    assert len(result.rows) == 1 + 3 + 2  # teacher, 3 strategies x SmolLM2, 2 fine-tuned
    # MiniLM cannot write: skipped with the reason, once per strategy it was asked for
    assert [(s["strategy"], s["model"]) for s in result.skipped] == [(s, "minilm-l6") for s in
                                                                      ("prompt", "fewshot", "retrieval")]
    assert all("cannot generate" in s["why"] for s in result.skipped)
    refs = [h["output"] for h in load_task(TASK).heldout_examples()[:2]]
    for r in result.rows:
        assert len(r["predictions"]) == 2 and all(isinstance(p, str) for p in r["predictions"])
        assert 0 <= r["new_tokens_mean"] <= 8  # max_new_tokens holds
        # the row's metrics are the means of the per-reply ones against the references
        assert r["rouge_l"] == pytest.approx(sum(rouge_l(p, g) for p, g in zip(r["predictions"], refs)) / 2, abs=1e-4)
        assert r["chrf"] == pytest.approx(sum(chrf(p, g) for p, g in zip(r["predictions"], refs)) / 2, abs=1e-4)
        assert 0 <= r["judge"] <= 1 and 0 <= r["judge_pass"] <= 1 and r["length_ratio"] > 0
        assert 0 < r["latency_p50_ms"] <= r["latency_p95_ms"] and r["throughput_per_s"] > 0
        assert r["disk_mb"] > 1 and r["peak_mem_mb"] >= 0
    assert 260e6 < _row(result, "teacher", "teacher:gemma3-270m")["parameters"] < 275e6
    prompt = _row(result, "prompt", "smollm2-135m")
    assert 130e6 < prompt["parameters"] < 140e6
    # retrieval adds MiniLM (and its index) to the decoder
    assert 22e6 < _row(result, "retrieval", "smollm2")["parameters"] - prompt["parameters"] < 23e6
    ft, ftr = _row(result, "finetuned", "smollm2-135m"), _row(result, "finetuned_retrieval", "smollm2-135m")
    assert trained.run_id in ft["model"] and 130e6 < ft["parameters"] < 140e6 and ftr["parameters"] > ft["parameters"]
    assert result.focus["strategy"] == "finetuned"


def test_judge_agreement_is_computed_from_its_own_verdicts(evaluated):
    from workbench.evaluate.judge import Judge, passes

    result, _, reviewed = evaluated
    c = result.judge["calibration"]
    assert c["dataset"] == "reviewed/v001" and (c["n"], c["n_rated"]) == (10, 8)
    items = c["items"]
    assert [i["decision"] for i in items] == [r["decision"] for r in reviewed]
    # the stored verdicts are the judge's: rate the same replies again
    judge = Judge(load_task(TASK), "llamacpp:gemma3-270m")
    try:
        again = [judge.rate(r["input"], r["suggestion"]) for r in reviewed[:3]]
    finally:
        judge.close()
    assert again == pytest.approx([i["judge_rating"] for i in items[:3]], abs=0.02)
    # and the figures follow from them
    judge_pass = [passes(i["judge_rating"], 4) for i in items]
    human_pass = [i["decision"] == "accepted" for i in items]
    assert c["kappa"] == pytest.approx(cohen_kappa(judge_pass, human_pass), abs=1e-4)
    assert c["agreement"] == pytest.approx(sum(a == b for a, b in zip(judge_pass, human_pass)) / 10, abs=1e-4)
    assert c["judge_pass_rate"] == pytest.approx(sum(judge_pass) / 10, abs=1e-4) and c["human_pass_rate"] == 0.4
    assert c["status"] in ("poor", "moderate", "good") and c["verdict"]
    md = result.report_md.read_text()
    assert c["verdict"] in md and f"Cohen's kappa {c['kappa']:.3f}" in md
    saved = json.loads((result.out_dir / "results.json").read_text())
    assert saved["judge_calibration"]["kappa"] == c["kappa"] and saved["judge"]["teacher"].startswith("llamacpp:")
    assert 0 <= result.judge["reference_score"] <= 1


def test_report_files_hold_the_table_plot_and_worst_replies(evaluated):
    result, _, _ = evaluated
    out = result.out_dir
    assert out.parts[-4:] == ("home", "reports", TASK, "r1")
    md, page = result.report_md.read_text(), result.report_html.read_text()
    assert "| strategy | model | ROUGE-L | chrF | length ratio | judge | p50 ms |" in md
    for r in result.rows:
        lo, hi = r["rouge_l_ci"]  # every metric with its 95% bootstrap interval
        assert f"| {r['strategy']} | {r['model']} | {r['rouge_l']:.3f} [{lo:.3f}, {hi:.3f}] |" in md
        assert f"<td>{r['model']}</td>" in page
    assert result.recommendation.reason in md and "quality_latency.png" in page
    assert (out / "quality_latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob("confusion-*.png")) and not (out / "plan.yaml").exists() and result.plan_path is None
    assert "no plan.yaml" in md
    # the worst replies are the fine-tuned student's, lowest ROUGE-L first, with message and reference
    errs = result.worst_errors
    assert len(errs) == 2 and errs[0]["rouge_l"] <= errs[1]["rouge_l"]
    flat = " ".join(md.split())
    assert all(" ".join(e["input"].split())[:30] in flat and " ".join(e["reference"].split())[:30] in flat
               for e in errs)
    saved = json.loads((out / "results.json").read_text())
    assert saved["rows"] == result.table() and saved["type"] == "generation" and len(saved["references"]) == 2
    assert "ROUGE-L" in result._repr_html_()


def test_cli_json_and_an_uncalibrated_judge_said_plainly(tmp_path, monkeypatch):
    from workbench.cli import app

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "fresh"))  # no reviewed data here
    get_settings.cache_clear()
    out = CliRunner().invoke(app, ["evaluate", "--task", TASK, "--strategies", "prompt", "--students",
                                   "minilm-l6,smollm2-135m", "--limit", "1", "--max-new-tokens", "6", "--json"])
    assert out.exit_code == 0, out.output[-2000:]
    d = json.loads(out.stdout.strip().splitlines()[-1])
    assert [(r["strategy"], r["model"]) for r in d["rows"]] == [("prompt", "smollm2-135m")]
    assert d["type"] == "generation" and d["plan"] is None and d["rows"][0]["judge"] is not None
    assert d["judge_calibration"]["status"] == "uncalibrated"
    md = Path(d["report_md"]).read_text()
    assert "The judge is NOT calibrated" in md and "no reviewed records" in md
