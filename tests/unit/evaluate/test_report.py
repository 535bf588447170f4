"""The evaluate report pages, written from planted rows: the table, the sections, escaping."""

import json
from pathlib import Path

from workbench.evaluate import classification
from workbench.evaluate.classification import LabelCellResult
from workbench.evaluate.generation import ReplyCellResult
from workbench.evaluate.generation.report import write_report as write_reply_report
from workbench.evaluate.judge import uncalibrated
from workbench.evaluate.ladder import recommend
from workbench.evaluate.result import EvaluateResult
from workbench.tasks import load_task

COSTS = {"latency_p50_ms": 12.5, "latency_p95_ms": 20.0, "throughput_per_s": 70.1, "peak_mem_mb": 88.0}


def label_row(**over) -> LabelCellResult:
    fields = {"strategy": "prompt", "model": "minilm-l6", "accuracy": 0.5, "macro_f1": 0.4, **COSTS,
              "parameters": 22_713_216, "disk_mb": 86.7, "per_label": {}, "confusion": [[1, 0], [1, 0]],
              "predictions": [], "confidence": [0.9, 0.6]}
    return LabelCellResult(**{**fields, **over})


def _result(tmp_path: Path, rows, metric: str, task: str, **kw) -> EvaluateResult:
    rec = recommend(rows, metric, 0.3)
    return EvaluateResult(task, "e<1>", tmp_path, metric, rows, [{"strategy": "retrieval", "model": "-",
                                                                  "why": "no <pool>"}], rec, focus=rows[0],
                          dataset="synthetic/v001", heldout=2, **kw)


def test_classification_report_escapes_what_models_and_users_wrote(tmp_path):
    spec = load_task("support_intents")
    a, b = spec.label_names[:2]
    rows = [label_row(model="<b>minilm</b>", predictions=[a, a], confusion=[[1, 0], [1, 0]]),
            label_row(strategy="fewshot", macro_f1=0.2, predictions=[a, b])]
    result = _result(tmp_path, rows, "macro_f1", spec.name)
    result.worst_errors = [{"text": "my <script> | order", "label": b, "predicted": a, "confidence": 0.61}]
    md_path, html_path = classification.write_report(result, spec, [a, b])
    page, md = html_path.read_text(), md_path.read_text()
    assert "<td>&lt;b&gt;minilm&lt;/b&gt;</td>" in page and "<script>" not in page
    assert "my &lt;script&gt; | order" in page and "<td>0.61</td>" in page and "no &lt;pool&gt;" in page
    assert "Evaluation e&lt;1&gt;" in page and 'src="confusion-0.png"' in page
    assert "| my <script> \\| order |" in md and "| prompt | <b>minilm</b> |" in md
    assert result.recommendation.reason in md
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["rows"] == result.table() and saved["rows_full"][1]["predictions"] == [a, b]
    shown = result._repr_html_()
    assert shown.startswith("<b>synthetic data: not measured: no fine-tuned run was scored</b>")
    assert f"<b>{spec.name}</b> evaluation e&lt;1&gt; on 2 held-out rows;" in shown and "macro-F1" in shown


def test_the_first_line_is_the_synthetic_datas_worth_and_metrics_carry_intervals(tmp_path):
    from workbench.evaluate.worth import Worth

    spec = load_task("support_intents")
    a, b = spec.label_names[:2]
    rows = [label_row(strategy="finetuned", model="minilm-l6 (run-a)", macro_f1=0.9, macro_f1_ci=[0.85, 0.95],
                      accuracy_ci=[0.8, 0.95], predictions=[a, b], macro_f1_mean=0.88, macro_f1_sd=0.02, seeds=3),
            label_row(strategy="finetuned", model="minilm-l6 seeds only (run-b)", macro_f1=0.7,
                      macro_f1_ci=[0.6, 0.8], predictions=[a, a]),
            label_row(strategy="seeds_lr", macro_f1=0.75, macro_f1_ci=[0.65, 0.85], predictions=[b, b])]
    worth = Worth(metric="macro_f1", focus=rows[0].model, control=rows[1].model, value=0.2, low=0.05, high=0.31,
                  heldout=2)
    result = _result(tmp_path, rows, "macro_f1", spec.name, worth=worth)
    md_path, html_path = classification.write_report(result, spec, [a, b])
    md, page = md_path.read_text(), html_path.read_text()
    first = "synthetic data: +20.0 macro-F1 over seeds only, 95% CI [+5.0, +31.0]"
    assert md.splitlines()[0].startswith(f"**{first}") and "it helped" in md.splitlines()[0]
    assert page.split("<body>")[1].startswith(f"<p><b>{first}")
    # each metric with its interval; the seed mean with its sd, in a column of its own
    assert "| finetuned | minilm-l6 (run-a) | 0.500 [0.800, 0.950] | 0.900 [0.850, 0.950] |" in md
    assert "| finetuned | minilm-l6 seeds only (run-b) | 0.500 | 0.700 [0.600, 0.800] |" in md
    assert "macro-F1 mean ± sd" in md and "0.880 ± 0.020" in md and "<td>0.900 [0.850, 0.950]</td>" in page
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["worth"]["low"] == 0.05 and saved["headline"].startswith(first)
    assert saved["rows"][0]["macro_f1_ci"] == [0.85, 0.95] and saved["rows"][0]["macro_f1_sd"] == 0.02


def test_generation_report_says_the_judge_is_uncalibrated(tmp_path):
    spec = load_task("support_replies")
    row = ReplyCellResult(strategy="prompt", model="smollm2-135m", rouge_l=0.4, chrf=0.3, length_ratio=1.0,
                          judge=0.5, judge_pass=0.5, **COSTS, parameters=134_515_008, disk_mb=98.2,
                          new_tokens_mean=8.0, predictions=["<hi>", ""],
                          items=[{"rouge_l": 0.5, "judge": 0.5}, {"rouge_l": 0.3, "judge": None}])
    judge = {"teacher": "llamacpp:gemma3-270m", "rubric": ["Answers <the> question"], "pass_rating": 4,
             "rating_mass": 0.9, "reference_score": 0.8, "calibration": uncalibrated("no reviewed records")}
    result = _result(tmp_path, [row], "rouge_l", spec.name, task_type="generation", judge=judge)
    result.worst_errors = [{"input": "Where <is> it?", "reference": "Here.", "prediction": "", "rouge_l": 0.3}]
    md_path, html_path = write_reply_report(result, spec, ["a", "b"])
    page, md = html_path.read_text(), md_path.read_text()
    assert "The judge is NOT calibrated" in md and "no plan.yaml" in md and "| 0.300 | - |" in md
    assert "<li>Answers &lt;the&gt; question</li>" in page and "Where &lt;is&gt; it?" in page
    assert "<td>(empty)</td>" in page and "<p><b>Judge:</b> The judge is NOT calibrated" in page
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["judge_calibration"]["status"] == "uncalibrated" and "calibration" not in saved["judge"]
    assert saved["judge_full"]["calibration"]["verdict"].startswith("The judge is NOT calibrated")
    assert "<i>The judge is NOT calibrated" in result._repr_html_() and "ROUGE-L" in result._repr_html_()


def test_a_generation_report_opens_with_the_worth_of_the_synthetic_replies(tmp_path):
    from workbench.evaluate.intervals import paired_mean_difference
    from workbench.evaluate.worth import Worth

    spec = load_task("support_replies")

    def reply_row(model, scores):
        mean = round(sum(scores) / len(scores), 4)
        return ReplyCellResult(strategy="finetuned", model=model, rouge_l=mean, rouge_l_ci=[mean - 0.1, mean + 0.1],
                               chrf=0.3, chrf_ci=[0.2, 0.4], length_ratio=1.0, **COSTS, parameters=134_515_008,
                               disk_mb=98.2, predictions=["a"] * len(scores),
                               items=[{"rouge_l": s, "chrf": 0.3} for s in scores])

    focus = reply_row("smollm2-135m (a)", [0.5, 0.4, 0.6, 0.5])
    control = reply_row("smollm2-135m seeds only (b)", [0.3, 0.4, 0.2, 0.3])
    worth = Worth.measure(focus, control, "rouge_l", 4)
    d = paired_mean_difference([0.5, 0.4, 0.6, 0.5], [0.3, 0.4, 0.2, 0.3])
    assert (worth.value, worth.low, worth.high) == (round(d.value, 4), round(d.low, 4), round(d.high, 4))
    result = _result(tmp_path, [focus, control], "rouge_l", spec.name, task_type="generation", judge=None,
                     worth=worth)
    md_path, html_path = write_reply_report(result, spec, ["r"] * 4)
    first = md_path.read_text().splitlines()[0]
    assert first.startswith(f"**synthetic data: {worth.value * 100:+.1f} ROUGE-L over seeds only, 95% CI [")
    assert f"| finetuned | smollm2-135m (a) | {focus.rouge_l:.3f} [{focus.rouge_l - 0.1:.3f}," in md_path.read_text()
    assert "<td>0.300 [0.200, 0.400]</td>" in html_path.read_text()
