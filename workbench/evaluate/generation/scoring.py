"""Scoring one generation cell: its replies to the held-out messages, their quality and costs.

Per cell: the replies (greedy, up to ``max_new_tokens``), ROUGE-L, chrF and length ratio
against the held-out reference (per reply in ``items``, their means on the row, ROUGE-L and
chrF with the 95% bootstrap interval of the mean over the replies), latency
p50/p95, throughput, peak memory, parameters and size on disk. The judge's columns are
filled afterwards (:mod:`workbench.evaluate.generation.judging`).

Example:
    >>> row = ReplyCellResult(strategy="prompt", model="smollm2-135m", rouge_l=0.2, chrf=0.3, length_ratio=1.1,
    ...                       judge=None, judge_pass=None, latency_p50_ms=90.0, latency_p95_ms=99.0,
    ...                       throughput_per_s=10.0, peak_mem_mb=300.0, parameters=134_515_008, disk_mb=98.0,
    ...                       new_tokens_mean=8.0, predictions=["Hi"], items=[{"rouge_l": 0.2}])
    >>> row.row(["model", "rouge_l", "judge"])
    {'model': 'smollm2-135m', 'rouge_l': 0.2, 'judge': None}
    >>> worst_replies(row, [{"input": "Where?", "output": "Here."}], "rouge_l", 1)[0]["prediction"]
    'Hi'
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

from workbench.evaluate.cells import Cell, CellResult, disk_mb
from workbench.evaluate.generation.builders import STRATEGIES
from workbench.tasks import TaskSpec

if TYPE_CHECKING:
    from workbench.evaluate.config import EvaluateConfig


class ReplyCellResult(CellResult):
    """A generation cell: mean ROUGE-L, chrF and length ratio, the judge's mean score and pass
    share (``None`` until judged, or without a judge), and per-reply figures in ``items``."""

    rouge_l: float
    chrf: float
    length_ratio: float
    rouge_l_ci: list[float] | None = None  # 95% bootstrap interval of the per-reply scores, [low, high]
    chrf_ci: list[float] | None = None
    rouge_l_mean: float | None = None  # fine-tuned cells with --seeds N: over the N training seeds
    rouge_l_sd: float | None = None
    seeds: int | None = None
    judge: float | None = None
    judge_pass: float | None = None
    new_tokens_mean: float | None = None
    items: list[dict[str, Any]]


def score_cell(cell: Cell, spec: TaskSpec, heldout: list[dict], pool: list[dict],
               cfg: EvaluateConfig) -> ReplyCellResult:
    """Write a reply to every held-out message with one cell; quality and cost figures."""
    from workbench.evaluate.intervals import bootstrap_mean
    from workbench.evaluate.metrics import chrf, length_ratio, rouge_l
    from workbench.evaluate.profile import profile_calls

    texts, refs = [r["input"] for r in heldout], [r["output"] for r in heldout]
    build = STRATEGIES[cell.strategy].build
    replies, g, costs = profile_calls(lambda: build(cell, spec, pool, cfg), "generate", texts)
    parameters, size, new_tokens = g.parameters, g.disk_bytes, g.new_tokens
    del g
    gc.collect()
    items = [{"rouge_l": round(rouge_l(p, r), 4), "chrf": round(chrf(p, r), 4),
              "length_ratio": round(length_ratio(p, r), 4)} for p, r in zip(replies, refs)]
    mean = lambda key: round(sum(i[key] for i in items) / len(items), 4)  # noqa: E731
    ci = {f"{k}_ci": bootstrap_mean([i[k] for i in items]).to_list() for k in ("rouge_l", "chrf")}
    return ReplyCellResult(strategy=cell.strategy, model=cell.model, rouge_l=mean("rouge_l"), chrf=mean("chrf"), **ci,
                           length_ratio=mean("length_ratio"), judge=None, judge_pass=None, **costs,
                           parameters=parameters, disk_mb=disk_mb(size),
                           new_tokens_mean=round(sum(new_tokens) / len(new_tokens), 1) if new_tokens else None,
                           predictions=replies, items=items)


def worst_replies(row: ReplyCellResult, heldout: list[dict], metric: str, n: int) -> list[dict]:
    """The held-out messages this row answers worst by ``metric``, with their texts."""
    scored = [{"input": h["input"], "reference": h["output"], "prediction": p, **item}
              for h, p, item in zip(heldout, row.predictions, row.items) if item.get(metric) is not None]
    return sorted(scored, key=lambda e: e[metric])[:n]
