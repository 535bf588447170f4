"""What the SFT formats (``gguf``, ``merged``) share: the refusal of other runs, the held-out
messages, and the reply parity of an exported generator with the transformers student.

Parity is measured one message at a time, greedy, on both sides, the way a deployed model
answers: exact-match rate and ROUGE-L (rouge-score) between the two replies, the exported
model's per-message latency, and both sides' tokens per second (replies counted in the
student's own tokens, so the two rates compare).

Example:
    >>> from workbench.export.replies import parity_figures
    >>> f = parity_figures(["Hi, sorry to hear that."], ["Hi, sorry to hear that!"], [0.5], [1.0], [6], [6])
    >>> f["exact_match"], round(f["rouge_l"], 2), f["tokens_per_s"], f["reference_tokens_per_s"]
    (0.0, 1.0, 12.0, 6.0)
"""

from __future__ import annotations

import time
from typing import Any

from workbench.export.config import ExportError


class ExportRefusedError(ExportError):
    """A run this format cannot export (a classifier asked for a generator's format)."""


def require_sft(info: Any, fmt: str) -> None:
    """Refuse a run that is not an SFT student, naming the formats that fit it.

    Example:
        >>> class Run: objective, run_id = "classify", "minilm-l6-synthetic-v001-1a2b3c4d"
        >>> require_sft(Run, "gguf")                                     # doctest: +ELLIPSIS
        Traceback (most recent call last):
        workbench.export.replies.ExportRefusedError: run minilm-l6-... is a classify run; ...
    """
    if info.objective != "sft":
        raise ExportRefusedError(
            f"run {info.run_id} is a {info.objective} run; format {fmt!r} exports SFT (reply) students only: "
            "export a classifier with --format onnx or --format onnx-int8")


def heldout_texts(rows: list[dict], limit: int | None) -> list[str]:
    """The held-out messages (``input``, or ``text``), the first ``limit`` of them (None: all)."""
    texts = [str(r.get("input") or r.get("text") or "") for r in rows]
    texts = [t for t in texts if t.strip()]
    return texts if limit is None else texts[:limit]


def parity_figures(replies: list[str], reference: list[str], seconds: list[float], reference_seconds: list[float],
                   tokens: list[int], reference_tokens: list[int]) -> dict[str, Any]:
    """Exact-match rate, mean ROUGE-L F1 between the pairs, p50 latency, tokens/s of both sides."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"])
    n = len(replies)
    same = [a == b for a, b in zip(replies, reference)]
    # Two empty replies agree fully; rouge-score would call that 0.
    rouge = [1.0 if a == b else scorer.score(b, a)["rougeL"].fmeasure for a, b in zip(replies, reference)]
    ordered = sorted(seconds)
    return {
        "rows": n,
        "exact_match": sum(same) / n if n else None,
        "rouge_l": sum(rouge) / n if n else None,
        "latency_p50_ms": ordered[(n - 1) // 2] * 1000 if n else None,
        "tokens_per_s": sum(tokens) / sum(seconds) if sum(seconds) else None,
        "reference_tokens_per_s": sum(reference_tokens) / sum(reference_seconds) if sum(reference_seconds) else None,
    }


def timed_replies(model: Any, texts: list[str], max_new_tokens: int, progress: str | None = None
                  ) -> tuple[list[str], list[float]]:
    """``model.predict`` on one message at a time: the replies and each one's seconds
    (with a tqdm bar named ``progress``, if given: a parity check on CPU takes minutes)."""
    from tqdm.auto import tqdm

    replies, seconds = [], []
    for text in tqdm(texts, desc=progress, unit="reply", disable=progress is None, leave=False):
        start = time.perf_counter()
        replies += model.predict([text], batch_size=1, max_new_tokens=max_new_tokens)
        seconds.append(time.perf_counter() - start)
    return replies, seconds


def reply_parity(exported: Any, reference: Any, texts: list[str], max_new_tokens: int,
                 notes: list[str] | None = None, progress: bool = False, **extra: Any):
    """The :class:`~workbench.export.card.Parity` of ``exported`` against the transformers
    ``reference`` (a :class:`~workbench.train.predict.TrainedStudent`) on ``texts``; ``extra``
    figures are kept in it too."""
    from workbench.export.card import Parity

    replies, seconds = timed_replies(exported, texts, max_new_tokens, "parity: export" if progress else None)
    ref_replies, ref_seconds = timed_replies(reference, texts, max_new_tokens, "parity: student" if progress else None)
    tok = reference.tokenizer
    count = lambda rs: [len(tok(r, add_special_tokens=False)["input_ids"]) for r in rs]  # noqa: E731
    figures = parity_figures(replies, ref_replies, seconds, ref_seconds, count(replies), count(ref_replies))
    notes = list(notes or [])
    notes.append(f"greedy replies of up to {max_new_tokens} tokens, one message at a time; tokens/s counted in "
                 f"the student's tokens (reference: transformers fp32)")
    return Parity(**figures, **extra, notes=notes)
