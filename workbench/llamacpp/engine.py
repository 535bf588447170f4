"""Batched text generation on one llama.cpp model, over parallel slots.

One llama.cpp context holds ``slots`` sequences. Every decode step advances all active
sequences together (one matrix-matrix product instead of ``slots`` matrix-vector ones),
and a slot that finishes is refilled with the next prompt at once (continuous batching),
keeping the prompt prefix it shares with the previous one (:func:`shared_prefix`).
On a 2-core CPU this is what makes a small teacher several times faster than calling
``Llama.create_completion`` prompt after prompt. Generate's teachers run on it (through
the distilabel wrapper in :mod:`workbench.generate.llamacpp`), and so do Evaluate's reply
generators, with one slot.

Example:
    >>> from workbench.llamacpp import BatchedLlamaCpp, batched_gguf
    >>> engine = BatchedLlamaCpp(batched_gguf("gemma3-270m"), slots=4)   # doctest: +SKIP
    >>> outs = engine.generate(["1. Where is my parcel?\\n2."], max_new_tokens=16)  # doctest: +SKIP
    >>> outs[0].completion_tokens <= 16                                   # doctest: +SKIP
    True
"""

from __future__ import annotations

import ctypes
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Optional

from workbench.errors import ConfigError
from workbench.llamacpp.runtime import chat_prompt, quiet_llama_logs, shared_prefix


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: Literal["stop", "length"]


@dataclass
class _Slot:
    index: int  # which prompt this slot is working on
    prompt_tokens: int
    sampler: Any
    pos: int
    out: list[int] = field(default_factory=list)
    pieces: bytearray = field(default_factory=bytearray)
    next_token: int | None = None
    logits_at: int = -1


class BatchedLlamaCpp:
    """Parallel-slot text generation on one llama.cpp model."""

    def __init__(self, gguf: Path, *, slots: int = 8, slot_ctx: int = 1024, threads: int = 2):
        import llama_cpp
        from llama_cpp import _internals as internals

        quiet_llama_logs()
        self._llama_cpp = llama_cpp
        self.path = Path(gguf)
        self.slots = slots
        self.slot_ctx = slot_ctx
        mparams = llama_cpp.llama_model_default_params()
        self.model = internals.LlamaModel(path_model=str(self.path), params=mparams, verbose=False)
        cparams = llama_cpp.llama_context_default_params()
        cparams.n_ctx = slots * slot_ctx
        cparams.n_seq_max = slots
        # One KV stream per slot: with a unified pool every token would attend over all
        # slots' cells (masked), which on this CPU cost ~12% of the decode throughput.
        cparams.kv_unified = False
        # A batch holds one token per active slot plus at most one whole new prompt.
        self.n_batch = slot_ctx + slots
        cparams.n_batch = self.n_batch
        cparams.n_ubatch = min(512, self.n_batch)
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        self.ctx = internals.LlamaContext(model=self.model, params=cparams, verbose=False)
        self.batch = llama_cpp.llama_batch_init(self.n_batch, 0, 1)
        self._add_bos = self.model.add_bos_token()
        self._piece_buf = ctypes.create_string_buffer(256)
        self._cached: list[list[int]] = [[] for _ in range(slots)]  # prompt tokens held per slot

    def close(self) -> None:
        if self.batch is not None:
            self._llama_cpp.llama_batch_free(self.batch)
            self.batch = None
        self.ctx.close()
        self.model.close()

    # -- text helpers --------------------------------------------------------------------
    def tokenize(self, text: str) -> list[int]:
        return self.model.tokenize(text.encode("utf-8"), add_bos=self._add_bos, special=True)

    def _piece(self, token: int) -> bytes:
        buf = self._piece_buf
        n = self._llama_cpp.llama_token_to_piece(self.model.vocab, token, buf, len(buf), 0, False)
        return bytes(buf[:max(n, 0)])

    def chat_prompt(self, messages: list[dict[str, str]]) -> str:
        """``messages`` in the GGUF's own chat template (chat-mode models)."""
        return chat_prompt(self.model, messages, self.path.name)

    def _reuse_prefix(self, seq: int, tokens: list[int]) -> int:
        """Keep the part of ``seq``'s cached prompt that ``tokens`` starts with; returns where
        prefill starts. (Copying prefixes across slots needs a unified KV pool, slower here.)
        """
        keep = shared_prefix(self._cached[seq], tokens)
        self.ctx.kv_cache_seq_rm(seq, keep, -1)
        self._cached[seq] = list(tokens)
        return keep

    def _sampler(self, temperature: float, top_p: float, top_k: int, seed: int):
        lc = self._llama_cpp
        chain = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())
        if temperature <= 0:
            lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_greedy())
            return chain
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_top_k(top_k))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_top_p(top_p, 1))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_temp(temperature))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_dist(seed & 0xFFFFFFFF))
        return chain

    # -- generation ----------------------------------------------------------------------
    def generate(
        self,
        prompts: list[str],
        *,
        max_new_tokens: int = 256,
        temperature: float = 0.9,
        top_p: float = 0.95,
        top_k: int = 40,
        stop: Optional[list[str]] = None,
        seeds: Optional[list[int]] = None,
        on_done: Optional[Callable[[int, Completion], None]] = None,
    ) -> list[Completion]:
        """Complete every prompt; results come back in prompt order. ``on_done(index, completion)``
        fires as each one finishes (they finish out of order): a caller can keep each answer the
        moment it exists, rather than when the whole list is done."""
        lc = self._llama_cpp
        stop = [s for s in (stop or []) if s]
        seeds = seeds or [i for i in range(len(prompts))]
        room = self.slot_ctx - max_new_tokens
        if room < 16:
            raise ConfigError(f"max_new_tokens={max_new_tokens} leaves no room for a prompt in "
                              f"{self.slot_ctx} tokens")
        pending = deque(range(len(prompts)))
        slots: list[_Slot | None] = [None] * self.slots
        cached: list[list[int]] = self._cached
        results: list[Completion | None] = [None] * len(prompts)
        vocab = self.model.vocab
        b = self.batch

        def add(token: int, pos: int, seq: int, logits: bool) -> None:
            n = b.n_tokens
            b.token[n], b.pos[n], b.n_seq_id[n] = token, pos, 1
            b.seq_id[n][0] = seq
            b.logits[n] = logits
            b.n_tokens = n + 1

        def finish(seq: int, slot: _Slot, reason: Literal["stop", "length"], text: str) -> None:
            done = Completion(text, slot.prompt_tokens, len(slot.out), reason)
            results[slot.index] = done
            lc.llama_sampler_free(slot.sampler)
            # Drop the generated tokens but keep the prompt: the next prompt may share it.
            self.ctx.kv_cache_seq_rm(seq, len(cached[seq]), -1)
            slots[seq] = None
            if on_done:
                on_done(slot.index, done)

        while pending or any(slots):
            b.n_tokens = 0
            for seq, slot in enumerate(slots):
                if slot is not None and slot.next_token is not None:
                    slot.logits_at = b.n_tokens
                    add(slot.next_token, slot.pos, seq, True)
                    slot.pos += 1
            for seq in range(self.slots):
                if slots[seq] is not None or not pending:
                    continue
                tokens = self.tokenize(prompts[pending[0]])
                if len(tokens) > room:  # keep the end: it holds the part to continue
                    tokens = tokens[:1] + tokens[-(room - 1):] if self._add_bos else tokens[-room:]
                if b.n_tokens + len(tokens) > self.n_batch:
                    break  # no room in this step; the prompt waits for the next one
                index = pending.popleft()
                start = self._reuse_prefix(seq, tokens)
                for pos in range(start, len(tokens)):
                    add(tokens[pos], pos, seq, pos == len(tokens) - 1)
                sampler = self._sampler(temperature, top_p, top_k, seeds[index])
                slots[seq] = _Slot(index, len(tokens), sampler, pos=len(tokens), logits_at=b.n_tokens - 1)
            rc = lc.llama_decode(self.ctx.ctx, b)
            if rc != 0:
                raise RuntimeError(f"llama_decode failed with code {rc} (batch of {b.n_tokens} tokens)")
            for seq, slot in enumerate(slots):
                if slot is None:
                    continue
                tok = lc.llama_sampler_sample(slot.sampler, self.ctx.ctx, slot.logits_at)
                if lc.llama_vocab_is_eog(vocab, tok):
                    finish(seq, slot, "stop", slot.pieces.decode("utf-8", "ignore"))
                    continue
                slot.out.append(tok)
                slot.pieces += self._piece(tok)
                text = slot.pieces.decode("utf-8", "ignore")
                cut = min((text.find(s) for s in stop if s in text), default=-1)
                if cut >= 0:
                    finish(seq, slot, "stop", text[:cut])
                elif len(slot.out) >= max_new_tokens:
                    finish(seq, slot, "length", text)
                else:
                    slot.next_token = tok
        return results  # type: ignore[return-value]
