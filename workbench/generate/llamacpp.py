"""The llama.cpp teacher as a distilabel ``LLM``: :class:`BatchedLlamaCppLLM`.

It runs on the batched engine below the stages (:class:`workbench.llamacpp.BatchedLlamaCpp`:
parallel slots, continuous batching, cached prompt prefixes), loaded from the GGUF
re-laid-out for batched decoding (:func:`workbench.llamacpp.batched_gguf`), so it plugs
into any distilabel task and pipeline. Each prompt samples with its own seed
(:func:`prompt_seed`), so a rerun writes the same rows. Inside :meth:`BatchedLlamaCppLLM.answers_to`,
each answer is handed over the moment its sequence finishes (the journal keeps it then), not
when the whole batch is done.

Example:
    >>> prompt_seed(0, "1. Where is my parcel?") == prompt_seed(0, "1. Where is my parcel?")
    True
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from typing import Any, Callable, Iterator, List, Literal, Optional

from distilabel.models.llms.base import LLM
from distilabel.models.llms.utils import prepare_output
from pydantic import PrivateAttr, validate_call

from workbench.llamacpp import BatchedLlamaCpp, batched_gguf


def prompt_seed(seed: int, prompt: str, k: int = 0) -> int:
    """A sampling seed derived from the prompt: the same prompt samples the same way."""
    digest = hashlib.sha256(f"{seed}\x1f{k}\x1f{prompt}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


class BatchedLlamaCppLLM(LLM):
    """A distilabel LLM over :class:`BatchedLlamaCpp`.

    ``mode="completion"`` sends the last message's text as a raw prompt (few-shot lists
    for base models); ``mode="chat"`` applies the GGUF's chat template.

    Example:
        >>> llm = BatchedLlamaCppLLM(model="gemma3-270m", slots=8)   # doctest: +SKIP
        >>> llm.load()                                                 # doctest: +SKIP
        >>> llm.generate([[{"role": "user", "content": "1. hi\\n2."}]], max_new_tokens=8)  # doctest: +SKIP
    """

    model: str
    mode: Literal["completion", "chat"] = "completion"
    slots: int = 8
    slot_ctx: int = 1024
    threads: int = 2
    seed: int = 0
    weights: Literal["fast", "f16", "original"] = "fast"  # see workbench.llamacpp.batched_gguf
    _engine: Optional[BatchedLlamaCpp] = PrivateAttr(default=None)
    _on_answer: Optional[Callable[[int, Any], None]] = PrivateAttr(default=None)

    def load(self) -> None:
        self._engine = BatchedLlamaCpp(batched_gguf(self.model, self.weights), slots=self.slots,
                                       slot_ctx=self.slot_ctx, threads=self.threads)
        super().load()

    def unload(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    @property
    def model_name(self) -> str:
        return self.model

    @contextmanager
    def answers_to(self, on_answer: Callable[[int, Any], None]) -> Iterator[None]:
        """Within the block, ``generate`` calls ``on_answer(i, output)`` as soon as input ``i``'s
        generations are all done (``output`` as ``generate`` returns it for that input)."""
        self._on_answer = on_answer
        try:
            yield
        finally:
            self._on_answer = None

    def _prompt(self, messages: Any) -> str:
        if isinstance(messages, str):
            return messages
        if self.mode == "completion":
            return messages[-1]["content"]
        return self._engine.chat_prompt(messages)  # type: ignore[union-attr]

    @validate_call
    def generate(  # type: ignore[override]
        self,
        inputs: List[Any],
        num_generations: int = 1,
        max_new_tokens: int = 256,
        temperature: float = 0.9,
        top_p: float = 0.95,
        top_k: int = 40,
        stop: Optional[List[str]] = None,
    ) -> List[Any]:
        """Generate ``num_generations`` completions per input, all batched together."""
        prompts = [self._prompt(i) for i in inputs]
        flat = [p for p in prompts for _ in range(num_generations)]
        seeds = [prompt_seed(self.seed, p, k) for p in prompts for k in range(num_generations)]
        finished: list[Any] = [None] * len(flat)
        on_answer = self._on_answer

        def done(index: int, completion: Any) -> None:
            finished[index] = completion
            i = index // num_generations
            chunk = finished[i * num_generations:(i + 1) * num_generations]
            if on_answer is not None and all(c is not None for c in chunk):
                on_answer(i, _output(chunk))

        outs = self._engine.generate(flat, max_new_tokens=max_new_tokens, temperature=temperature,  # type: ignore
                                     top_p=top_p, top_k=top_k, stop=stop, seeds=seeds, on_done=done)
        return [_output(outs[i * num_generations:(i + 1) * num_generations]) for i in range(len(prompts))]


def _output(chunk: list[Any]) -> Any:
    """One input's generations, in distilabel's output form (texts and token counts)."""
    return prepare_output([c.text for c in chunk], input_tokens=[c.prompt_tokens for c in chunk],
                          output_tokens=[c.completion_tokens for c in chunk])
