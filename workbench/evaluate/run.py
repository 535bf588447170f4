"""The Evaluate stage: every strategy on the same held-out set, side by side.

``run_evaluate`` is what the CLI, the panels, the notebooks and the tests all call. For
each cell of the ladder (strategy x model, see :mod:`workbench.evaluate.ladder`) it
loads the model, scores the held-out messages one at a time (the latency a user of a
deployed model sees), and records quality, latency p50/p95, throughput, peak memory,
parameters and size on disk. Then it recommends the smallest cell that meets the
task's quality bar, writes the report under ``<home>/reports/<task>/<eval-id>/`` and a
generation plan (``plan.yaml``) aimed at the errors of the fine-tuned student (or, with
no fine-tuned student, of the recommended cell).

Classification quality is accuracy and macro-F1. Generation tasks (see
:mod:`workbench.evaluate.replies`) write replies: ROUGE-L, chrF, length ratio and the
teacher's rubric rating (LLM-as-judge), checked against the reviewers' decisions when a
reviewed version exists. Their worst errors are the lowest-scoring replies; they get no
plan.yaml, because ``workbench generate --plan`` takes per-label targets.

Example:
    >>> from workbench.evaluate import EvaluateConfig, run_evaluate
    >>> result = run_evaluate(EvaluateConfig(task="support_intents", limit=20))   # doctest: +SKIP
    >>> result.recommendation.row["model"]                                        # doctest: +SKIP
    'minilm-l6'
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import Any

from workbench.evaluate.config import STRATEGIES, EvaluateConfig
from workbench.evaluate.ladder import (
    DEFAULT_STUDENTS,
    OBJECTIVES,
    Cell,
    Recommendation,
    build_matrix,
    finished_runs,
    recommend,
)
from workbench.evaluate.metrics import classification_metrics
from workbench.evaluate.profile import profile_calls
from workbench.next_round import NextRoundPlan
from workbench.settings import get_settings
from workbench.tasks import TaskSpec, load_task

COLUMNS = ["strategy", "model", "accuracy", "macro_f1", "latency_p50_ms", "latency_p95_ms", "throughput_per_s",
           "peak_mem_mb", "parameters", "disk_mb"]
# Why a generation task's evaluation writes no plan.yaml (shown in the report).
NO_PLAN_FOR_GENERATION = ("no plan.yaml: `workbench generate --plan` takes per-label targets, and a generation "
                          "task has no labels. Write or generate more data like the worst replies above.")


@dataclass
class EvaluateResult:
    """Every scored cell, the recommendation, the plan and the report; a table in a notebook."""

    task: str
    eval_id: str
    out_dir: Path
    metric: str
    rows: list[dict[str, Any]]
    skipped: list[dict[str, str]]
    recommendation: Recommendation
    focus: dict[str, Any] | None = None
    worst_errors: list[dict[str, Any]] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)
    plan_path: Path | None = None
    report_md: Path | None = None
    report_html: Path | None = None
    dataset: str | None = None
    heldout: int = 0
    task_type: str = "classification"
    judge: dict[str, Any] | None = None  # generation: the judge, its reference score and calibration

    @property
    def columns(self) -> list[str]:
        from workbench.evaluate.replies import COLUMNS as GENERATION_COLUMNS

        return GENERATION_COLUMNS if self.task_type == "generation" else COLUMNS

    def table(self) -> list[dict[str, Any]]:
        """The rows without predictions: what the report and ``--json`` show."""
        return [{k: r.get(k) for k in self.columns} for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        judge = self.judge and {k: v for k, v in self.judge.items() if k != "calibration"}
        calibration = self.judge and {k: v for k, v in self.judge["calibration"].items() if k != "items"}
        return {"task": self.task, "type": self.task_type, "eval_id": self.eval_id, "out_dir": str(self.out_dir),
                "metric": self.metric, "heldout": self.heldout, "dataset": self.dataset, "rows": self.table(),
                "skipped": self.skipped, "recommendation": self.recommendation.to_dict(),
                "focus": self.focus and {"strategy": self.focus["strategy"], "model": self.focus["model"]},
                "plan": str(self.plan_path) if self.plan_path else None, "plan_labels": self.plan.get("labels"),
                **({"judge": judge, "judge_calibration": calibration} if self.judge else {}),
                "report_md": str(self.report_md), "report_html": str(self.report_html)}

    def _repr_html_(self) -> str:
        import html

        from workbench.evaluate.report import html_table

        verdict = (f"<br><i>{html.escape(self.judge['calibration']['verdict'])}</i>" if self.judge else "")
        return (f"<b>{self.task}</b> evaluation {self.eval_id} on {self.heldout} held-out rows; "
                f"<b>{html.escape(self.recommendation.reason)}</b>{verdict}"
                + html_table(self.table(), self.recommendation.row))


def run_evaluate(cfg: EvaluateConfig) -> EvaluateResult:
    """Score the ladder on the held-out set, recommend, write the report and the plan."""
    from workbench.train.predict import find_run

    spec = load_task(cfg.task)
    generation = spec.type == "generation"
    heldout = _subset(spec.heldout_examples(), cfg.limit)
    if not heldout:
        raise ValueError(f"task {spec.name!r} has no held-out rows; add a 'heldout:' file to its task.yaml")
    settings = get_settings()
    pool, dataset = _pool(spec, cfg.dataset)
    runs = [find_run(r) for r in cfg.runs] if cfg.runs else finished_runs(spec.name, OBJECTIVES[spec.type])
    matrix = build_matrix(cfg.strategies or list(STRATEGIES), cfg.students or DEFAULT_STUDENTS,
                          cfg.teacher or settings.teacher, runs, bool(pool), spec.type)
    if not matrix.cells:
        raise ValueError("nothing to evaluate: " + "; ".join(f"{s['strategy']} {s['model']}: {s['why']}"
                                                              for s in matrix.skipped))
    import torch

    from workbench.evaluate import replies

    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        score = replies.score_cell if generation else _score_cell
        rows = [score(cell, spec, heldout, pool, cfg) for cell in _progress(matrix.cells, cfg)]
        judge = replies.judge_rows(rows, spec, heldout, cfg) if generation and cfg.judge else None
    finally:
        torch.set_num_threads(threads)
    metric = spec.quality_bar.metric
    rec = recommend(rows, metric, spec.quality_bar.min)
    if metric == "judge" and rec.row is not None and judge and judge["calibration"]["status"] != "good":
        rec.reason += f" (judge {judge['calibration']['status']}: see the judge's calibration)"
    finetuned = [r for r in rows if r["strategy"] == "finetuned" and r.get(metric) is not None]
    focus = max(finetuned, key=lambda r: r[metric]) if finetuned else rec.row
    eval_id = cfg.eval_id or time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out_dir = settings.path("reports", spec.name, eval_id)
    result = EvaluateResult(spec.name, eval_id, out_dir, metric, rows, matrix.skipped, rec, focus=focus,
                            dataset=dataset, heldout=len(heldout), task_type=spec.type, judge=judge)
    from workbench.evaluate.report import write_report

    if generation:
        if focus is not None:
            result.worst_errors = replies.worst_replies(focus, heldout, metric, cfg.worst_errors)
        result.report_md, result.report_html = write_report(result, spec, [r["output"] for r in heldout])
        return result
    texts = [r["text"] for r in heldout]
    y_true = [r["label"] for r in heldout]
    if focus is not None:
        result.worst_errors = _worst_errors(focus, texts, y_true, cfg.worst_errors)
        plan = NextRoundPlan.build(spec.name, y_true, focus["predictions"], cfg.plan_size,
                                   source={"eval_id": eval_id, "strategy": focus["strategy"], "model": focus["model"],
                                           metric: focus[metric]}, labels=spec.label_names)
        result.plan, result.plan_path = plan.to_dict(), plan.write(out_dir / "plan.yaml")
    result.report_md, result.report_html = write_report(result, spec, y_true)
    return result


def _subset(rows: list[dict], limit: int | None) -> list[dict]:
    """The first ``limit`` rows taken round-robin over labels: held-out files are often sorted
    by label, and a head of one label would score a constant predictor perfect. Rows without
    labels (generation) are simply the first ``limit``."""
    if limit is None or limit >= len(rows):
        return rows
    if any("label" not in r for r in rows):
        return rows[:limit]
    by_label: dict[str, list[dict]] = {}
    for r in rows:
        by_label.setdefault(r["label"], []).append(r)
    mixed = [r for group in zip_longest(*by_label.values()) for r in group if r is not None]
    return mixed[:limit]


def _progress(cells: list[Cell], cfg: EvaluateConfig):
    from tqdm.auto import tqdm

    bar = tqdm(cells, desc="evaluate", unit="cell", disable=not cfg.progress)
    for cell in bar:
        bar.set_postfix_str(f"{cell.strategy} / {cell.model}")
        yield cell


def _pool(spec: TaskSpec, ref: str | None) -> tuple[list[dict], str | None]:
    """Retrieval's pool: the training data (discarded and held-out rows dropped), or nothing."""
    from workbench.train.data import TrainDataError, load_rows, resolve_dataset

    try:
        version = resolve_dataset(spec.name, ref)
    except TrainDataError:
        if ref is not None:
            raise
        return [], None
    return load_rows(version, spec).rows, f"{version.kind}/{version.version}"


def _build(cell: Cell, spec: TaskSpec, pool: list[dict], cfg: EvaluateConfig):
    from workbench.evaluate import strategies as st
    from workbench.models import load_embedder

    if cell.source == "embedder":
        emb = load_embedder("minilm-l6")
        if cell.strategy == "prompt":
            return st.EmbeddingScorer.from_descriptions(emb, spec)
        if cell.strategy == "fewshot":
            return st.EmbeddingScorer.from_seeds(emb, spec)
        return st.EmbeddingScorer.from_pool(emb, spec, pool, cfg.k)
    if cell.strategy in ("finetuned", "finetuned_retrieval"):
        model = st.FineTunedScorer(cell.source)
        if cell.strategy == "finetuned":
            return model
        return st.MixScorer(model, st.EmbeddingScorer.from_pool(load_embedder("minilm-l6"), spec, pool, cfg.k),
                            cfg.retrieval_weight)
    threads = cfg.threads
    if cell.strategy == "retrieval":
        knn = st.EmbeddingScorer.from_pool(load_embedder("minilm-l6"), spec, pool, cfg.k)
        # Most similar last: nearest to the message the model labels.
        scorer = st.LlamaScorer(Path(cell.source), spec, lambda text: [pool[i] for i in
                                                                       knn.neighbours(text, cfg.k)[::-1]], threads)
        scorer.parameters += knn.parameters
        scorer.disk_bytes += knn.disk_bytes
        return scorer
    shots = _fewshot(spec, cfg.shots_per_label) if cell.strategy == "fewshot" else []
    return st.LlamaScorer(Path(cell.source), spec, lambda text: shots, threads)


def _fewshot(spec: TaskSpec, per_label: int) -> list[dict]:
    """The first ``per_label`` seeds of each label, interleaved so no label sits last every time."""
    by_label = {lab: [r for r in spec.seed_examples if r["label"] == lab][:per_label] for lab in spec.label_names}
    return [by_label[lab][i] for i in range(per_label) for lab in spec.label_names if i < len(by_label[lab])]


def _score_cell(cell: Cell, spec: TaskSpec, heldout: list[dict], pool: list[dict], cfg: EvaluateConfig) -> dict:
    texts = [r["text"] for r in heldout]
    probs, scorer, costs = profile_calls(lambda: _build(cell, spec, pool, cfg), "score", texts)
    parameters, size = scorer.parameters, scorer.disk_bytes
    del scorer
    gc.collect()
    preds = [max(p, key=p.get) for p in probs]
    m = classification_metrics([r["label"] for r in heldout], preds, spec.label_names)
    return {"strategy": cell.strategy, "model": cell.model, "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
            **costs, "parameters": parameters, "disk_mb": round(size / 2**20, 1),
            "per_label": m["per_label"], "confusion": m["confusion"], "predictions": preds,
            "confidence": [round(p[q], 4) for p, q in zip(probs, preds)]}


def _worst_errors(row: dict, texts: list[str], y_true: list[str], n: int) -> list[dict]:
    """The most confident mistakes first: those say most about what the model believes."""
    wrong = [{"text": t, "label": y, "predicted": p, "confidence": c}
             for t, y, p, c in zip(texts, y_true, row["predictions"], row["confidence"]) if y != p]
    return sorted(wrong, key=lambda e: -e["confidence"])[:n]
