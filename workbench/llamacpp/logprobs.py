"""A GGUF model in llama.cpp read for next-token log-probabilities, one sequence at a time.

Evaluate's prompt-only classifier and its judge read models this way: ``feed`` a prompt,
then ``logprobs`` of the token that would follow. The prefix a prompt shares with the one
fed before stays in the KV cache (:func:`shared_prefix`), so a series of prompts with one
header costs little more than their differing tails.

Example:
    >>> from workbench.llamacpp import LlamaLM
    >>> from workbench.models import gguf_path
    >>> lm = LlamaLM(gguf_path("gemma3-270m"), threads=1)            # doctest: +SKIP
    >>> lm.feed(lm.tokenize("The capital of France is", bos=True))    # doctest: +SKIP
    >>> int(lm.logprobs().argmax()) == lm.tokenize(" Paris")[0]      # doctest: +SKIP
    True
"""

from __future__ import annotations

import math
from pathlib import Path

from workbench.llamacpp.runtime import PromptTooLongError, chat_prompt, quiet_llama_logs, shared_prefix


class LlamaLM:
    """A GGUF model in llama.cpp, read for next-token log-probabilities (one sequence).

    ``feed`` evaluates a token sequence, keeping the KV cache of the prefix it shares
    with the previous one; ``logprobs`` are those of the token after the last one fed.
    ``llm`` is the underlying ``llama_cpp.Llama``.
    """

    def __init__(self, gguf: Path, threads: int, n_ctx: int = 4096):
        import llama_cpp

        quiet_llama_logs()
        self._lib = llama_cpp
        self.path = Path(gguf)
        self.llm = llama_cpp.Llama(str(gguf), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                                   n_batch=512, verbose=False)
        self.parameters = int(llama_cpp.llama_model_n_params(self.llm.model))
        self._n_vocab = self.llm.n_vocab()

    def tokenize(self, text: str, bos: bool = False, special: bool = False) -> list[int]:
        return self.llm.tokenize(text.encode(), add_bos=bos, special=special)

    def chat_prompt(self, messages: list[dict[str, str]]) -> str:
        """``messages`` in the GGUF's own chat template (chat-mode models)."""
        return chat_prompt(self.llm._model, messages, self.path.name)

    def logprobs(self):
        """Log-probabilities over the vocabulary of the token after the last one fed."""
        import numpy as np

        ptr = self._lib.llama_get_logits_ith(self.llm.ctx, -1)
        logits = np.ctypeslib.as_array(ptr, shape=(self._n_vocab,)).astype(np.float64)
        top = logits.max()
        return logits - top - math.log(np.exp(logits - top).sum())

    def feed(self, tokens: list[int]) -> None:
        """Evaluate ``tokens``, reusing the KV cache for the prefix shared with the last call."""
        if len(tokens) >= self.llm.n_ctx():
            raise PromptTooLongError(f"the prompt has {len(tokens)} tokens, over the context of "
                                     f"{self.llm.n_ctx()}")
        common = shared_prefix(self.llm.input_ids[:self.llm.n_tokens].tolist(), tokens)
        self.llm.n_tokens = common  # eval() drops the cache cells past this point
        self.llm.eval(tokens[common:])

    def close(self) -> None:
        self.llm.close()
