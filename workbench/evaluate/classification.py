"""Evaluating a classification task: its strategies, the scoring of a cell, and its report.

Every cell labels the same held-out texts; quality is accuracy and macro-F1 (with per-label
figures and the confusion matrix). The worst errors are the focus row's most confident
mistakes, and the next round's generation plan (``plan.yaml``) aims at its errors.

:data:`STRATEGIES` is this task type's strategy registry: name -> :class:`Strategy` (the
builder, and what the strategy is crossed with). To add a strategy, write a builder
``(cell, spec, pool, cfg) -> scorer`` (a scorer has ``score(text) -> {label: prob}``,
``parameters``, ``disk_bytes`` and ``close()``) and add one entry.

Example:
    >>> sorted(STRATEGIES) == sorted(["teacher", "prompt", "fewshot", "seeds_lr", "retrieval", "finetuned",
    ...                               "finetuned_retrieval"])
    True
    >>> STRATEGIES["finetuned"].over, STRATEGIES["retrieval"].needs_pool
    ('runs', True)
"""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.evaluate.cells import Cell, CellResult, Strategy, disk_mb
from workbench.evaluate.report import (
    markdown_table,
    md_cell,
    page_context,
    plot_confusion,
    plot_quality_latency,
    skipped_md,
    write_files,
)
from workbench.tasks import TaskSpec

if TYPE_CHECKING:
    from workbench.evaluate.config import EvaluateConfig
    from workbench.evaluate.result import EvaluateResult

COLUMNS = ["strategy", "model", "accuracy", "accuracy_ci", "macro_f1", "macro_f1_ci", "latency_p50_ms",
           "latency_p95_ms", "throughput_per_s", "peak_mem_mb", "parameters", "disk_mb"]
# Shown when a row has them: a task with out_of_scope on.
OUT_OF_SCOPE_COLUMNS = ["in_scope_accuracy", "oos_recall", "oos_precision"]
# Shown with --seeds N: the fine-tuned cells' quality over N training seeds.
SEED_COLUMNS = ["macro_f1_mean", "macro_f1_sd", "seeds"]
SEED_METRIC = "macro_f1"
OBJECTIVE = "classify"  # the train objective of the runs the fine-tuned strategies score
RUN_KIND = "classification"
# Teachers that can label here, and why the others cannot.
TEACHER_KINDS = ("llamacpp",)
TEACHER_SKIP = ("prompt-only scoring reads token likelihoods, which only llama.cpp teachers give here; use a "
                "llamacpp: teacher")
ENCODER_SKIP = None  # an encoder (MiniLM) labels by similarity: every strategy can use it


class LabelCellResult(CellResult):
    """A classification cell: accuracy, macro-F1, per-label figures, the confusion matrix and the
    confidence of each prediction."""

    accuracy: float
    macro_f1: float
    accuracy_ci: list[float] | None = None  # 95% bootstrap interval over the held-out rows, [low, high]
    macro_f1_ci: list[float] | None = None
    macro_f1_mean: float | None = None  # fine-tuned cells with --seeds N: over the N training seeds
    macro_f1_sd: float | None = None
    seeds: int | None = None
    per_label: dict[str, dict[str, Any]]
    confusion: list[list[int]]
    confidence: list[float]
    # A fine-tuned run of a task with out_of_scope on (its gate abstains), CLINC150's protocol:
    in_scope_accuracy: float | None = None  # an in-scope row counts right only if labelled right and not turned away
    oos_recall: float | None = None  # share of the spec's out_of_scope.heldout messages turned away
    oos_precision: float | None = None  # share of the turned-away messages that were out of scope


def _knn(spec: TaskSpec, pool: list[dict], cfg: EvaluateConfig):
    from workbench.evaluate.strategies import EmbeddingScorer
    from workbench.models import load_embedder

    return EmbeddingScorer.from_pool(load_embedder(), spec, pool, cfg.k)


def _llama(cell: Cell, spec: TaskSpec, cfg: EvaluateConfig, examples_for):
    from workbench.evaluate.strategies import LlamaScorer

    return LlamaScorer(Path(cell.source), spec, examples_for, cfg.threads)


def build_prompt(cell: Cell, spec: TaskSpec, pool: list[dict], cfg: EvaluateConfig):
    """The label descriptions alone: MiniLM's nearest description, or a decoder's likeliest label."""
    from workbench.evaluate.strategies import EmbeddingScorer
    from workbench.models import load_embedder

    if cell.source == "embedder":
        return EmbeddingScorer.from_descriptions(load_embedder(), spec)
    return _llama(cell, spec, cfg, lambda text: [])


def build_fewshot(cell: Cell, spec: TaskSpec, pool: list[dict], cfg: EvaluateConfig):
    """The seeds: MiniLM's nearest seed centroid, or a decoder shown a few seeds per label."""
    from workbench.evaluate.strategies import EmbeddingScorer
    from workbench.models import load_embedder

    if cell.source == "embedder":
        return EmbeddingScorer.from_seeds(load_embedder(), spec)
    shots = fewshot(spec, cfg.shots_per_label)
    return _llama(cell, spec, cfg, lambda text: shots)


def build_retrieval(cell: Cell, spec: TaskSpec, pool: list[dict], cfg: EvaluateConfig):
    """The pool's neighbours: MiniLM's vote, or a decoder shown them (MiniLM counted in its size)."""
    knn = _knn(spec, pool, cfg)
    if cell.source == "embedder":
        return knn
    # Most similar last: nearest to the message the model labels.
    scorer = _llama(cell, spec, cfg, lambda text: [pool[i] for i in knn.neighbours(text, cfg.k)[::-1]])
    scorer.parameters += knn.parameters
    scorer.disk_bytes += knn.disk_bytes
    return scorer


def build_teacher(cell: Cell, spec: TaskSpec, pool: list[dict], cfg: EvaluateConfig):
    """The llama.cpp teacher, prompt-only."""
    return _llama(cell, spec, cfg, lambda text: [])


def build_seeds_lr(cell: Cell, spec: TaskSpec, pool: list[dict], cfg: EvaluateConfig):
    """The control a skeptic asks for first: logistic regression on frozen MiniLM vectors of the seeds."""
    from workbench.evaluate.strategies import SeedRegressionScorer
    from workbench.models import load_embedder

    return SeedRegressionScorer(load_embedder(), spec)


def build_finetuned(cell: Cell, spec: TaskSpec, pool: list[dict], cfg: EvaluateConfig):
    from workbench.evaluate.strategies import FineTunedScorer

    return FineTunedScorer(cell.source, cfg.threads)


def build_finetuned_retrieval(cell: Cell, spec: TaskSpec, pool: list[dict], cfg: EvaluateConfig):
    """The fine-tuned student's probabilities mixed with the neighbours' vote."""
    from workbench.evaluate.strategies import FineTunedScorer, MixScorer

    return MixScorer(FineTunedScorer(cell.source, cfg.threads), _knn(spec, pool, cfg), cfg.retrieval_weight)


STRATEGIES: dict[str, Strategy] = {
    "teacher": Strategy(build_teacher, over="teacher"),
    "prompt": Strategy(build_prompt),
    "fewshot": Strategy(build_fewshot),
    "seeds_lr": Strategy(build_seeds_lr, over="embedder"),
    "retrieval": Strategy(build_retrieval, needs_pool=True),
    "finetuned": Strategy(build_finetuned, over="runs"),
    "finetuned_retrieval": Strategy(build_finetuned_retrieval, over="runs", needs_pool=True),
}


def fewshot(spec: TaskSpec, per_label: int) -> list[dict]:
    """The first ``per_label`` seeds of each label, interleaved so no label sits last every time."""
    by_label = {lab: [r for r in spec.seed_examples if r["label"] == lab][:per_label] for lab in spec.label_names}
    return [by_label[lab][i] for i in range(per_label) for lab in spec.label_names if i < len(by_label[lab])]


def score_cell(cell: Cell, spec: TaskSpec, heldout: list[dict], pool: list[dict],
               cfg: EvaluateConfig) -> LabelCellResult:
    """Label every held-out text with one cell; quality and cost figures."""
    from workbench.evaluate.metrics import classification_intervals, classification_metrics
    from workbench.evaluate.profile import profile_calls

    texts = [r["text"] for r in heldout]
    build = STRATEGIES[cell.strategy].build
    probs, scorer, costs = profile_calls(lambda: build(cell, spec, pool, cfg), "score", texts)
    parameters, size = scorer.parameters, scorer.disk_bytes
    preds = [max(p, key=p.get) for p in probs]
    scope = getattr(getattr(scorer, "student", None), "scope", None)  # a fine-tuned run's out-of-scope gate
    oos = out_of_scope_figures(scope, spec, texts, preds, [r["label"] for r in heldout]) if scope else {}
    del scorer
    gc.collect()
    y_true = [r["label"] for r in heldout]
    m = classification_metrics(y_true, preds, spec.label_names)
    return LabelCellResult(strategy=cell.strategy, model=cell.model, accuracy=m["accuracy"], macro_f1=m["macro_f1"],
                           **classification_intervals(y_true, preds, spec.label_names),
                           **costs, parameters=parameters, disk_mb=disk_mb(size), per_label=m["per_label"],
                           confusion=m["confusion"], predictions=preds,
                           confidence=[round(p[q], 4) for p, q in zip(probs, preds)], **oos)


def out_of_scope_figures(scope, spec: TaskSpec, texts: list[str], preds: list[str], y_true: list[str]) -> dict:
    """In-scope accuracy with the gate on, and out-of-scope recall and precision on the spec's
    ``out_of_scope.heldout`` messages (CLINC150's protocol). Macro-F1 stays the gate-free figure."""
    import numpy as np

    away_in = scope.gate.abstains(scope.scores(texts))
    figures = {"in_scope_accuracy": round(float(((np.array(preds) == np.array(y_true)) & ~away_in).mean()), 4)}
    outside = spec.out_of_scope_heldout()
    if outside:
        away_out = scope.gate.abstains(scope.scores(outside))
        flagged = int(away_out.sum() + away_in.sum())
        figures["oos_recall"] = round(float(away_out.mean()), 4)
        figures["oos_precision"] = round(float(away_out.sum()) / flagged, 4) if flagged else None
    return figures


def judge(rows: list[LabelCellResult], spec: TaskSpec, heldout: list[dict], cfg: EvaluateConfig) -> None:
    """Labels need no judge."""
    return None


def worst_errors(row: LabelCellResult, texts: list[str], y_true: list[str], n: int) -> list[dict]:
    """The most confident mistakes first: those say most about what the model believes."""
    wrong = [{"text": t, "label": y, "predicted": p, "confidence": c}
             for t, y, p, c in zip(texts, y_true, row.predictions, row.confidence) if y != p]
    return sorted(wrong, key=lambda e: -e["confidence"])[:n]


def finish(result: EvaluateResult, spec: TaskSpec, heldout: list[dict], cfg: EvaluateConfig) -> None:
    """The focus row's worst errors, the next round's plan aimed at them, and the report."""
    from workbench.next_round import NextRoundPlan

    texts = [r["text"] for r in heldout]
    y_true = [r["label"] for r in heldout]
    focus = result.focus
    if focus is not None:
        result.worst_errors = worst_errors(focus, texts, y_true, cfg.worst_errors)
        plan = NextRoundPlan.build(spec.name, y_true, focus.predictions, cfg.plan_size,
                                   source={"eval_id": result.eval_id, "strategy": focus.strategy,
                                           "model": focus.model, result.metric: focus[result.metric]},
                                   labels=spec.label_names)
        result.plan, result.plan_path = plan.to_dict(), plan.write(result.out_dir / "plan.yaml")
    result.report_md, result.report_html = write_report(result, spec, y_true)


# What the brackets and the control rows in the table are (shown under it).
INTERVALS_NOTE = ("Each metric shows its 95% bootstrap interval over the held-out rows in brackets; a difference "
                  "between two cells is tested by a paired bootstrap on the same rows. Controls: `seeds_lr` is "
                  "logistic regression on frozen MiniLM vectors of the seeds; `<student> seeds only (<run>)` is the "
                  "student fine-tuned on the seeds alone with the focus run's hyperparameters. With --seeds N, "
                  "mean ± sd over N training seeds.")


def write_report(result: EvaluateResult, spec: TaskSpec, y_true: list[str]) -> tuple[Path, Path]:
    """The plots, ``results.json``, ``report.md`` and ``report.html``; returns the two reports."""
    out = result.out_dir
    rec = result.recommendation
    plot_quality_latency(result.rows, result.metric, rec.bar, out / "quality_latency.png")
    confusions = [plot_confusion(r.confusion, spec.label_names, f"{r.model} / {r.strategy}",
                                 out / f"confusion-{i}.png").name for i, r in enumerate(result.rows)]
    results = {**result.to_dict(), "rows_full": [r.to_dict() for r in result.rows],
               "worst_errors": result.worst_errors, "plan_full": result.plan, "labels": spec.label_names,
               "y_true": y_true}
    focus = result.focus
    focus_cm = confusions[result.rows.index(focus)] if focus in result.rows else None
    focus_name = f"{focus.model} / {focus.strategy}" if focus else "-"
    errors_md = "\n".join(f"| {md_cell(e['text'])} | {e['label']} | {e['predicted']} | {e['confidence']:.2f} |"
                          for e in result.worst_errors)
    plan_md = "\n".join(f"- {k}: {v}" for k, v in result.plan.get("labels", {}).items()) or "- (no errors: no plan)"
    pairs_md = "\n".join(f"- {' / '.join(p['labels'])}: {p['errors']} errors, {p['n']} examples"
                         for p in result.plan.get("pairs", [])[:8])
    md = f"""**{result.headline}**

# Evaluation {result.eval_id}: {spec.name}

{result.heldout} held-out rows; retrieval pool {result.dataset or 'none'}; quality bar {rec.metric} >= {rec.bar}.

**Recommendation:** {rec.reason}.

{markdown_table(result.table())}

{INTERVALS_NOTE}

Latency is per message, one at a time; throughput is messages over the wall time of that loop.
Peak MB is the resident memory the strategy added to the process (model loading included).

![quality against latency](quality_latency.png)

## Skipped

{skipped_md(result.skipped)}

## Worst errors of {focus_name}

| text | true | predicted | confidence |
|---|---|---|---|
{errors_md}

{f'![confusion matrix]({focus_cm})' if focus_cm else ''}

## Next round of data (plan.yaml)

{plan_md}

Confusable pairs:

{pairs_md}

Run: `workbench generate --task {spec.name} --plan {result.plan_path}`
"""
    return write_files(out, results, md, "evaluate_classification.html", **page_context(result, "rows"),
                       focus_name=focus_name, worst_errors=result.worst_errors, focus_cm=focus_cm, note=INTERVALS_NOTE,
                       plan_labels=json.dumps(result.plan.get("labels", {}), indent=1))
