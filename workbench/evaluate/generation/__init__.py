"""Evaluating a generation task: every cell writes replies to the same held-out messages.

This package is the ``generation`` task type of :mod:`workbench.evaluate.task_types`:

- :mod:`.builders`: the strategy registry (:data:`STRATEGIES`), one builder per strategy;
- :mod:`.scoring`: a cell's replies, ROUGE-L, chrF, length ratio and costs (:class:`ReplyCellResult`);
- :mod:`.judging`: the teacher as a judge of every reply, and its calibration against reviewers;
- :mod:`.report`: ``report.md`` and ``report.html``.

The worst errors are the focus row's lowest-scoring replies; there is no ``plan.yaml``,
because ``workbench generate --plan`` takes per-label targets.

Example:
    >>> from workbench.evaluate import EvaluateConfig, run_evaluate
    >>> result = run_evaluate(EvaluateConfig(task="support_replies", limit=20))   # doctest: +SKIP
    >>> result.judge["calibration"].status                                         # doctest: +SKIP
    'uncalibrated'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.evaluate.generation.builders import STRATEGIES
from workbench.evaluate.generation.judging import judge_rows as judge
from workbench.evaluate.generation.report import write_report
from workbench.evaluate.generation.scoring import ReplyCellResult, score_cell, worst_replies
from workbench.tasks import TaskSpec

if TYPE_CHECKING:
    from workbench.evaluate.config import EvaluateConfig
    from workbench.evaluate.result import EvaluateResult

COLUMNS = ["strategy", "model", "rouge_l", "rouge_l_ci", "chrf", "chrf_ci", "length_ratio", "judge", "latency_p50_ms",
           "latency_p95_ms", "throughput_per_s", "peak_mem_mb", "parameters", "disk_mb"]
# Shown with --seeds N: the fine-tuned cells' ROUGE-L over N training seeds.
SEED_COLUMNS = ["rouge_l_mean", "rouge_l_sd", "seeds"]
SEED_METRIC = "rouge_l"
OBJECTIVE = "sft"  # the train objective of the runs the fine-tuned strategies score
RUN_KIND = "SFT"
# Teachers that can write replies here, and why the others cannot.
TEACHER_KINDS = ("llamacpp", "openai")
TEACHER_SKIP = ("replies are scored from llama.cpp or OpenAI-compatible teachers; use a llamacpp: or openai: "
                "teacher")
ENCODER_SKIP = ("MiniLM-L6 is an encoder: it embeds text but cannot generate a reply (it still finds the "
                "neighbours for retrieval)")


def finish(result: EvaluateResult, spec: TaskSpec, heldout: list[dict], cfg: EvaluateConfig) -> None:
    """The judge's caveat on the recommendation, the focus row's worst replies, and the report."""
    rec, judge_info = result.recommendation, result.judge
    if result.metric == "judge" and rec.row is not None and judge_info and \
            judge_info["calibration"].status != "good":
        rec.reason += f" (judge {judge_info['calibration'].status}: see the judge's calibration)"
    if result.focus is not None:
        result.worst_errors = worst_replies(result.focus, heldout, result.metric, cfg.worst_errors)
    result.report_md, result.report_html = write_report(result, spec, [r["output"] for r in heldout])


__all__ = ["COLUMNS", "ENCODER_SKIP", "OBJECTIVE", "RUN_KIND", "SEED_COLUMNS", "SEED_METRIC", "STRATEGIES",
           "TEACHER_KINDS", "TEACHER_SKIP", "ReplyCellResult", "finish", "judge", "score_cell"]
