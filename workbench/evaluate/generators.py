"""Generators: one per (strategy, model) of a generation task; each maps a message to a reply.

All decode greedily, one message at a time (the latency a user of a deployed model sees),
up to ``max_new_tokens``.

- :class:`LlamaGenerator` (GGUF models through llama.cpp: the teacher and the decoder
  students): the task's ``output`` template (``output_chat`` for chat models, in the GGUF's
  own chat format) with the examples the strategy picks: none (prompt-only), seed pairs
  (few-shot) or the training pool's nearest pairs (retrieval). Runs on the batched engine
  the teachers use (:class:`workbench.llamacpp.BatchedLlamaCpp`) with one slot, so a
  prompt prefix shared with the previous message stays in the KV cache.
- :class:`FineTunedGenerator`: a finished SFT run, prompted exactly as it was trained (its
  chat format around the bare message); with retrieval, the neighbours come first as
  earlier turns of the same chat.
- :class:`ExportedReplyGenerator`: an export of an SFT run (``workbench export --format gguf|merged``)
  as it will be shipped, loaded by :func:`workbench.export.load_export`.
- :class:`OpenAIGenerator`: an OpenAI-compatible teacher (its size is unknown here).

Example:
    >>> from workbench.models import gguf_path                                        # doctest: +SKIP
    >>> g = LlamaGenerator(gguf_path("gemma3-270m"), spec, "completion", lambda t: [], 1, 64)  # doctest: +SKIP
    >>> g.generate("How do I skip my next box?")                                       # doctest: +SKIP
    'Hi, you can skip a box from Account > Deliveries...'
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from workbench.evaluate.profile import disk_bytes, torch_parameters
from workbench.tasks import TaskSpec

Examples = Callable[[str], list[dict]]


class Generator(Protocol):
    parameters: int | None
    disk_bytes: int | None
    new_tokens: list[int]

    def generate(self, text: str) -> str: ...

    def close(self) -> None: ...


def reply_stop() -> list[str]:
    """Where a completion-mode reply ends: the next ``Customer:`` turn (as in Generate)."""
    from workbench.generate.run import REPLY_STOP

    return REPLY_STOP


class LlamaGenerator:
    """A GGUF model writes the reply through llama.cpp, greedy."""

    def __init__(self, gguf: Path, spec: TaskSpec, mode: str, examples_for: Examples, threads: int,
                 max_new_tokens: int, slot_ctx: int = 2048):
        from workbench.llamacpp import BatchedLlamaCpp

        self.engine = BatchedLlamaCpp(gguf, slots=1, slot_ctx=slot_ctx, threads=threads)
        self.spec, self.mode, self.examples_for, self.max_new_tokens = spec, mode, examples_for, max_new_tokens
        self.parameters: int | None = int(self.engine.model.n_params())
        self.disk_bytes: int | None = disk_bytes(gguf)
        self.new_tokens: list[int] = []
        self._stop = reply_stop()

    def prompt(self, text: str) -> str:
        rendered = self.spec.render("output", self.mode, examples=self.examples_for(text), input=text)
        return self.engine.chat_prompt([{"role": "user", "content": rendered}]) if self.mode == "chat" else rendered

    def generate(self, text: str) -> str:
        out = self.engine.generate([self.prompt(text)], max_new_tokens=self.max_new_tokens, temperature=0.0,
                                   stop=self._stop)[0]
        self.new_tokens.append(out.completion_tokens)
        return out.text.strip()

    def close(self) -> None:
        self.engine.close()


class FineTunedGenerator:
    """A finished SFT run of the Train stage writes the reply (transformers, greedy)."""

    def __init__(self, run: str | Path, max_new_tokens: int, examples_for: Examples | None = None):
        from workbench.train import load_student

        self.student = load_student(run)
        if self.student.objective != "sft":
            raise ValueError(f"run {self.student.run_dir.name} is a {self.student.objective} run; "
                             "a generation task needs an SFT run")
        self.max_new_tokens, self.examples_for = max_new_tokens, examples_for
        self.parameters: int | None = torch_parameters(self.student.model)
        self.disk_bytes: int | None = disk_bytes(self.student.run_dir / "model")
        self.new_tokens: list[int] = []

    def prompt(self, text: str) -> str:
        from workbench.train.sft import chat_prompt

        tok = self.student.tokenizer
        examples = self.examples_for(text) if self.examples_for else []
        if not examples:
            return chat_prompt(tok, text)  # exactly the training prompt
        if getattr(tok, "chat_template", None):
            turns = [m for ex in examples for m in ({"role": "user", "content": ex["input"]},
                                                     {"role": "assistant", "content": ex["output"]})]
            return tok.apply_chat_template(turns + [{"role": "user", "content": text}], tokenize=False,
                                           add_generation_prompt=True)
        eos = tok.eos_token or ""
        return "".join(chat_prompt(tok, ex["input"]) + ex["output"] + eos + "\n" for ex in examples) \
            + chat_prompt(tok, text)

    def generate(self, text: str) -> str:
        import torch

        tok, model = self.student.tokenizer, self.student.model
        enc = tok(self.prompt(text), return_tensors="pt", add_special_tokens=False).to(self.student.device)
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=self.max_new_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        new = out[0, enc["input_ids"].shape[1]:]
        self.new_tokens.append(int(new.shape[0]))
        return tok.decode(new, skip_special_tokens=True).strip()

    def close(self) -> None:
        pass


class ExportedReplyGenerator:
    """An exported SFT student (GGUF on llama.cpp, or merged transformers) writes the reply, greedy,
    in the prompt it was trained with."""

    def __init__(self, folder: str | Path, max_new_tokens: int, threads: int | None = None):
        from workbench.export import load_export

        self.model = load_export(folder, threads=threads)
        if self.model.objective != "sft":
            raise ValueError(f"export {Path(folder).name} is of a {self.model.objective} run; a generation task "
                             "needs an SFT run's export")
        self.max_new_tokens = max_new_tokens
        self.parameters: int | None = self.model.parameters
        self.disk_bytes: int | None = self.model.disk_bytes
        self.new_tokens: list[int] = []

    def generate(self, text: str) -> str:
        [reply] = self.model.predict([text], batch_size=1, max_new_tokens=self.max_new_tokens)
        self.new_tokens.append(self.model.new_tokens[-1])
        return reply

    def close(self) -> None:
        self.model.close()


class OpenAIGenerator:
    """An OpenAI-compatible teacher writes the reply (temperature 0)."""

    def __init__(self, teacher, spec: TaskSpec, examples_for: Examples, max_new_tokens: int):
        import openai

        from workbench.generate.teachers import check_teacher
        from workbench.settings import get_settings

        check_teacher(teacher)
        self.teacher, self.spec, self.examples_for, self.max_new_tokens = teacher, spec, examples_for, max_new_tokens
        self.client = openai.OpenAI(base_url=teacher.base_url, api_key=get_settings().api_key() or "not-needed",
                                    max_retries=2)
        self.parameters: int | None = None  # a remote model: its size is not ours to measure
        self.disk_bytes: int | None = None
        self.new_tokens: list[int] = []

    def generate(self, text: str) -> str:
        import openai

        from workbench.generate.teachers import teacher_call_failed

        try:
            return self._generate(text)
        except openai.APIError as exc:  # its message may echo the key: never shown as it is
            raise teacher_call_failed(self.teacher, exc) from None

    def _generate(self, text: str) -> str:
        prompt = self.spec.render("output", self.teacher.mode, examples=self.examples_for(text), input=text)
        if self.teacher.mode == "completion":
            resp = self.client.completions.create(model=self.teacher.model, prompt=prompt, temperature=0,
                                                  max_tokens=self.max_new_tokens, stop=reply_stop())
            reply = resp.choices[0].text
        else:
            resp = self.client.chat.completions.create(model=self.teacher.model, temperature=0,
                                                       max_tokens=self.max_new_tokens,
                                                       messages=[{"role": "user", "content": prompt}])
            reply = resp.choices[0].message.content or ""
        self.new_tokens.append(resp.usage.completion_tokens if resp.usage else 0)
        return reply.strip()

    def close(self) -> None:
        self.client.close()
