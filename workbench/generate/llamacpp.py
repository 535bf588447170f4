"""The llama.cpp teacher as a distilabel ``LLM``: :class:`BatchedLlamaCppLLM`.

It runs on the batched engine below the stages (:class:`workbench.llamacpp.BatchedLlamaCpp`:
parallel slots, continuous batching, cached prompt prefixes), loaded from the GGUF
re-laid-out for batched decoding (:func:`workbench.llamacpp.batched_gguf`), so it plugs
into any distilabel task and pipeline. Each prompt samples with its own seed
(:func:`prompt_seed`), so a rerun writes the same rows.

Example:
    >>> prompt_seed(0, "1. Where is my parcel?") == prompt_seed(0, "1. Where is my parcel?")
    True
"""

from __future__ import annotations

import hashlib
from typing import Any, List, Literal, Optional

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
    progress_file: Optional[str] = None  # one byte appended per finished sequence, for progress bars
    _engine: Optional[BatchedLlamaCpp] = PrivateAttr(default=None)

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

    def _tick(self, _index: int) -> None:
        if self.progress_file:
            with open(self.progress_file, "ab") as fh:
                fh.write(b".")

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
        outs = self._engine.generate(flat, max_new_tokens=max_new_tokens, temperature=temperature,  # type: ignore
                                     top_p=top_p, top_k=top_k, stop=stop, seeds=seeds, on_done=self._tick)
        grouped = []
        for i in range(len(prompts)):
            chunk = outs[i * num_generations:(i + 1) * num_generations]
            grouped.append(prepare_output([c.text for c in chunk],
                                          input_tokens=[c.prompt_tokens for c in chunk],
                                          output_tokens=[c.completion_tokens for c in chunk]))
        return grouped
