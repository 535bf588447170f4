"""The Evaluate stage: every strategy on the same held-out set, side by side.

``run_evaluate`` is what the CLI, the panels, the notebooks and the tests all call. For
each cell of the ladder (strategy x model, see :mod:`workbench.evaluate.ladder`) it
loads the model, scores the held-out messages one at a time (the latency a user of a
deployed model sees), and records quality, latency p50/p95, throughput, peak memory,
parameters and size on disk (a :class:`~workbench.evaluate.cells.CellResult`). Then it
recommends the smallest cell that meets the task's quality bar and lets the task type
finish: the worst errors, the report under ``<home>/reports/<task>/<eval-id>/`` and, for
classification, a generation plan (``plan.yaml``) aimed at the errors of the fine-tuned
student (or, with no fine-tuned student, of the recommended cell).

What differs between task types lives in their modules, chosen by the spec's ``type``
through :data:`~workbench.evaluate.task_types.TASK_TYPES`:
:mod:`workbench.evaluate.classification` (accuracy and macro-F1) and
:mod:`workbench.evaluate.generation` (ROUGE-L, chrF, length ratio and the teacher's rubric
rating, LLM-as-judge, checked against the reviewers' decisions).

Example:
    >>> from workbench.evaluate import EvaluateConfig, run_evaluate
    >>> result = run_evaluate(EvaluateConfig(task="support_intents", limit=20))   # doctest: +SKIP
    >>> result.recommendation.row["model"]                                        # doctest: +SKIP
    'minilm-l6'
"""

from __future__ import annotations

import time
from itertools import zip_longest

from workbench.evaluate.cells import Cell
from workbench.evaluate.config import STRATEGIES, EvaluateConfig, EvaluateError
from workbench.evaluate.ladder import DEFAULT_STUDENTS, build_matrix, recommend
from workbench.evaluate.result import EvaluateResult
from workbench.evaluate.task_types import TASK_TYPES, task_type
from workbench.settings import get_settings
from workbench.tasks import TaskSpec, load_task

__all__ = ["TASK_TYPES", "EvaluateResult", "run_evaluate"]


def run_evaluate(cfg: EvaluateConfig) -> EvaluateResult:
    """Score the ladder on the held-out set, recommend, and let the task type write the rest."""
    from workbench.train.info import latest_finished
    from workbench.train.predict import find_run

    spec = load_task(cfg.task)
    kind = task_type(spec.type)
    heldout = _subset(spec.heldout_examples(), cfg.limit)
    if not heldout:
        raise EvaluateError(f"task {spec.name!r} has no held-out rows; add a 'heldout:' file to its task.yaml")
    settings = get_settings()
    pool, dataset = _pool(spec, cfg.dataset)
    runs = [find_run(r) for r in cfg.runs] if cfg.runs else latest_finished(spec.name, kind.OBJECTIVE)
    matrix = build_matrix(cfg.strategies or list(STRATEGIES), cfg.students or DEFAULT_STUDENTS,
                          cfg.teacher or settings.teacher, runs, bool(pool), spec.type, spec.name)
    if not matrix.cells:
        raise EvaluateError("nothing to evaluate: " + "; ".join(f"{s['strategy']} {s['model']}: {s['why']}"
                                                                 for s in matrix.skipped))
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        rows = [kind.score_cell(cell, spec, heldout, pool, cfg) for cell in _progress(matrix.cells, cfg)]
        judge = kind.judge(rows, spec, heldout, cfg)
    finally:
        torch.set_num_threads(threads)
    metric = spec.quality_bar.metric
    rec = recommend(rows, metric, spec.quality_bar.min)
    finetuned = [r for r in rows if r.strategy == "finetuned" and r.get(metric) is not None]
    focus = max(finetuned, key=lambda r: r[metric]) if finetuned else rec.row
    eval_id = cfg.eval_id or time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out_dir = settings.path("reports", spec.name, eval_id)
    result = EvaluateResult(spec.name, eval_id, out_dir, metric, rows, matrix.skipped, rec, focus=focus,
                            dataset=dataset, heldout=len(heldout), task_type=spec.type, judge=judge)
    kind.finish(result, spec, heldout, cfg)
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
