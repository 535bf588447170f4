"""The Evaluate stage: every strategy on the same held-out set, side by side.

``run_evaluate`` is what the CLI, the panels, the notebooks and the tests all call. For
each cell of the ladder (strategy x model, see :mod:`workbench.evaluate.ladder`) it
loads the model, scores the held-out messages one at a time (the latency a user of a
deployed model sees), and records quality with its 95% bootstrap interval, latency p50/p95,
throughput, peak memory, parameters and size on disk (a
:class:`~workbench.evaluate.cells.CellResult`). Beside the fine-tuned runs it scores the
controls (:mod:`workbench.evaluate.controls`: ``seeds_lr`` and each run's seeds-only twin,
trained when missing) and measures what the synthetic data is worth, focus run minus its
control by a paired bootstrap (:class:`~workbench.evaluate.worth.Worth`, the report's first
line); with ``seeds > 1`` every fine-tuned cell is trained and scored at N training seeds.
Then it recommends the smallest cell whose interval clears the task's quality bar and lets
the task type finish: the worst errors, the report under ``<home>/reports/<task>/<eval-id>/`` and, for
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
from pathlib import Path

from workbench.evaluate.cells import Cell
from workbench.evaluate.config import EvaluateConfig, EvaluateError
from workbench.evaluate.ladder import DEFAULT_STUDENTS, build_matrix, recommend
from workbench.evaluate.result import EvaluateResult
from workbench.evaluate.task_types import TASK_TYPES, task_type
from workbench.evaluate.worth import Worth, paired
from workbench.settings import get_settings
from workbench.tasks import TaskSpec, load_task

__all__ = ["TASK_TYPES", "EvaluateResult", "run_evaluate"]


def run_evaluate(cfg: EvaluateConfig) -> EvaluateResult:
    """Score the ladder on the held-out set, recommend, and let the task type write the rest."""
    from workbench.evaluate.controls import RunPlan, focus_runs, plan_runs
    from workbench.train.predict import find_run

    spec = load_task(cfg.task)
    kind = task_type(spec.type)
    heldout = _subset(spec.heldout_examples(), cfg.limit)
    if not heldout:
        raise EvaluateError(f"task {spec.name!r} has no held-out rows; add a 'heldout:' file to its task.yaml")
    settings = get_settings()
    pool, dataset = _pool(spec, cfg.dataset)
    strategies = list(cfg.strategies or kind.STRATEGIES)
    runs = [find_run(r) for r in cfg.runs] if cfg.runs else focus_runs(spec.name, kind.OBJECTIVE)
    tuned = "finetuned" in strategies and bool(runs)
    plan = plan_runs(runs, cfg.controls, cfg.seeds, cfg.progress) if tuned else RunPlan(focus=runs)
    if tuned and cfg.controls and CONTROL_STRATEGY in kind.STRATEGIES and CONTROL_STRATEGY not in strategies:
        strategies.insert(_control_position(strategies, list(kind.STRATEGIES)), CONTROL_STRATEGY)
    matrix = build_matrix(strategies, cfg.students or DEFAULT_STUDENTS, cfg.teacher or settings.teacher, plan.focus,
                          bool(pool), spec.type, spec.name, controls=plan.control_runs)
    if not matrix.cells:
        raise EvaluateError("nothing to evaluate: " + "; ".join(f"{s['strategy']} {s['model']}: {s['why']}"
                                                                 for s in matrix.skipped))
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        rows = [kind.score_cell(cell, spec, heldout, pool, cfg) for cell in _progress(matrix.cells, cfg)]
        per_seed = _score_seeds(matrix.cells, rows, plan, kind, spec, heldout, pool, cfg)
        judge = kind.judge(rows, spec, heldout, cfg)
    finally:
        torch.set_num_threads(threads)
    metric = spec.quality_bar.metric
    y_true = [r["label"] for r in heldout] if spec.type == "classification" else None
    rec = recommend(rows, metric, spec.quality_bar.min, heldout=len(heldout))
    tuned_rows = {c.source: r for c, r in zip(matrix.cells, rows) if c.strategy == "finetuned"}
    controls = set(map(str, plan.control_runs))
    finetuned = [r for src, r in tuned_rows.items() if src not in controls and r.get(metric) is not None]
    finetuned = finetuned or [r for r in tuned_rows.values() if r.get(metric) is not None]
    focus = max(finetuned, key=lambda r: r[metric]) if finetuned else rec.row
    worth = _worth(focus if finetuned else None, tuned_rows, plan, per_seed, metric, spec, heldout, y_true, strategies,
                   kind.SEED_METRIC)
    _versus_best(rec, rows, metric, y_true, spec)
    eval_id = cfg.eval_id or time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out_dir = settings.path("reports", spec.name, eval_id)
    result = EvaluateResult(spec.name, eval_id, out_dir, metric, rows, matrix.skipped, rec, focus=focus,
                            dataset=dataset, heldout=len(heldout), task_type=spec.type, judge=judge, worth=worth,
                            seeds=cfg.seeds)
    kind.finish(result, spec, heldout, cfg)
    return result


# The cheap control added beside the fine-tuned cells when controls are on (classification).
CONTROL_STRATEGY = "seeds_lr"


def _control_position(strategies: list[str], registry: list[str]) -> int:
    """Where the control goes among ``strategies``: its place in the registry's order."""
    after = registry[registry.index(CONTROL_STRATEGY) + 1:]
    return next((i for i, s in enumerate(strategies) if s in after), len(strategies))


def _score_seeds(cells: list[Cell], rows: list, plan, kind, spec: TaskSpec, heldout: list[dict], pool: list[dict],
                 cfg: EvaluateConfig) -> dict[str, list[float]]:
    """With ``--seeds N``: each fine-tuned cell's quality at every training seed (its own first),
    and its mean and sd on the row. Returns run folder -> the values."""
    import statistics

    key = kind.SEED_METRIC
    values: dict[str, list[float]] = {}
    for cell, row in zip(cells, rows):
        extra = plan.seeds.get(Path(cell.source)) if cell.strategy == "finetuned" else None
        if not extra:
            continue
        scores = [row[key]] + [kind.score_cell(Cell(cell.strategy, cell.model, str(run)), spec, heldout, pool,
                                               cfg)[key] for run in extra]
        values[cell.source] = scores
        setattr(row, f"{key}_mean", round(statistics.fmean(scores), 4))
        setattr(row, f"{key}_sd", round(statistics.stdev(scores), 4))
        row.seeds = len(scores)
    return values


def _worth(focus, tuned_rows: dict, plan, per_seed: dict, metric: str, spec: TaskSpec, heldout: list[dict],
           y_true, strategies: list[str], seed_metric: str) -> Worth:
    """The focus run minus its seeds-only control, paired on the same rows; or why not."""
    metric = metric if spec.type == "classification" or metric in ("rouge_l", "chrf") else "rouge_l"
    if focus is None:
        why = ("the 'finetuned' strategy was not asked for" if "finetuned" not in strategies else
               f"no finished train run of task {spec.name!r}; train one with `workbench train --task {spec.name}`")
        return Worth(metric=metric, heldout=len(heldout), why=why)
    source = next(src for src, r in tuned_rows.items() if r is focus)
    control_run = plan.controls.get(Path(source))
    control = tuned_rows.get(str(control_run)) if control_run else None
    why = plan.why_no_control.get(Path(source), "its seeds-only control was not scored")
    # macro-F1 averages over the labels that occur in each resample (intervals.py)
    labels = spec.label_names if y_true is not None else None
    a, b = per_seed.get(source, []), per_seed.get(str(control_run), [])
    diffs = [x - y for x, y in zip(a, b)] if metric == seed_metric else []
    return Worth.measure(focus, control, metric, len(heldout), y_true, labels, why=why, seed_differences=diffs)


def _versus_best(rec, rows: list, metric: str, y_true, spec: TaskSpec) -> None:
    """The best-scoring cell minus the recommended one, by a paired bootstrap on the same rows."""
    scored = [r for r in rows if r.get(metric) is not None]
    if rec.row is None or not scored:
        return
    best = max(scored, key=lambda r: r[metric])
    if best is rec.row or best[metric] == rec.row[metric]:
        return
    labels = spec.label_names if y_true is not None else None
    d = paired(best, rec.row, metric, y_true, labels)
    if d is None:
        return
    rec.versus_best = {"strategy": best["strategy"], "model": best["model"], "difference": d.value,
                       "interval": d.to_list()}
    rec.reason += (f"; the best cell, {best['model']} {best['strategy']}, scores {d.signed(100)} points of {metric} "
                   "more (paired bootstrap)")


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
