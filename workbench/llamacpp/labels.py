"""A decoder reads a message and scores each label: the log-likelihood of the label's name
after ``Intent:`` in a completion prompt listing the task's intents.

Evaluate's prompt-only classifier (``LlamaScorer``) ranks the labels by these scores; Generate's
critic (:mod:`workbench.generate.critic`) asks the teacher how likely the label it was told to
write is, given the message it wrote. One forward pass per message: the prompt's header (the
intents and examples) stays in the KV cache between messages, so only the message is computed,
and when every label's first token differs (the bundled models and labels) one next-token
distribution scores them all.

Example:
    >>> from workbench.llamacpp.labels import LabelReader, intent_prompt
    >>> reader = LabelReader(gguf_path("gemma3-270m"), spec.label_names, threads=1)   # doctest: +SKIP
    >>> scores = reader.label_scores(intent_prompt(spec, [], "my card was charged twice"))  # doctest: +SKIP
    >>> spec.label_names[scores.index(max(scores))]                                    # doctest: +SKIP
    'billing_issue'
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from workbench.llamacpp.logprobs import LlamaLM
from workbench.llamacpp.runtime import PromptTooLongError

if TYPE_CHECKING:
    from workbench.tasks import TaskSpec


def flat(text: str) -> str:
    """``text`` on one line, runs of white space as one space."""
    return " ".join(text.split())


def intent_prompt(spec: TaskSpec, examples: Sequence[dict], text: str) -> str:
    """The completion prompt a decoder classifies with; examples are ``{"text", "label"}``."""
    lines = [flat(spec.description), "Each customer message below is labelled with one intent.", "Intents:"]
    lines += [f"- {lab.name}: {lab.description}" for lab in spec.labels]
    lines.append("")
    for ex in examples:
        lines += [f"Message: {flat(ex['text'])}", f"Intent: {ex['label']}", ""]
    lines += [f"Message: {flat(text)}", "Intent:"]
    return "\n".join(lines)


def log_softmax(scores: Sequence[float]) -> list[float]:
    """``scores`` normalised over themselves: log-probabilities that sum (as probabilities) to 1.

    Example:
        >>> [round(x, 3) for x in log_softmax([0.0, 0.0])]
        [-0.693, -0.693]
    """
    top = max(scores)
    total = math.log(sum(math.exp(s - top) for s in scores))
    return [s - top - total for s in scores]


class LabelReader(LlamaLM):
    """A GGUF model that scores ``labels`` as the continuation of a prompt (:meth:`label_scores`)."""

    def __init__(self, gguf: Path, labels: Sequence[str], threads: int, n_ctx: int = 4096):
        super().__init__(gguf, threads, n_ctx)
        self.label_tokens = [self.tokenize(f" {name}") for name in labels]
        firsts = [t[0] for t in self.label_tokens]
        # Distinct first tokens need one pass; otherwise whole label names are scored token by token.
        self.first_only = len(set(firsts)) == len(firsts)

    def label_scores(self, prompt: str) -> list[float]:
        """Per label (in order), the log-likelihood of its name after ``prompt``: of its first
        token, or the mean over its tokens when two labels share a first token."""
        tokens = self.tokenize(prompt, bos=True)
        if len(tokens) >= self.llm.n_ctx():
            raise PromptTooLongError(f"the prompt has {len(tokens)} tokens, over the context of "
                                     f"{self.llm.n_ctx()}; show fewer examples")
        self.feed(tokens)
        first = self.logprobs()
        if self.first_only:
            return [float(first[t[0]]) for t in self.label_tokens]
        scores = []
        for toks in self.label_tokens:
            logp, lp = 0.0, first
            for j, t in enumerate(toks):
                logp += float(lp[t])
                if j + 1 < len(toks):
                    self.llm.eval([t])
                    lp = self.logprobs()
            self.llm.n_tokens = len(tokens)
            scores.append(logp / len(toks))
        return scores
