"""The strategy registry of generation tasks: name -> builder of a reply generator.

A generator has ``generate(text) -> reply``, ``parameters``, ``disk_bytes`` (``None`` when
unknown), ``new_tokens`` (per reply) and ``close()``. Retrieval's MiniLM index counts in the
size of the strategies that use it. To add a strategy, write a builder
``(cell, spec, pool, cfg) -> generator`` and add one entry to :data:`STRATEGIES`.

Example:
    >>> list(STRATEGIES)
    ['teacher', 'prompt', 'fewshot', 'retrieval', 'finetuned', 'finetuned_retrieval']
    >>> STRATEGIES["finetuned_retrieval"].over, STRATEGIES["finetuned_retrieval"].needs_pool
    ('runs', True)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from workbench.evaluate.cells import Cell, Strategy
from workbench.tasks import TaskSpec

if TYPE_CHECKING:
    from workbench.evaluate.config import EvaluateConfig

# The longest reply a default evaluation writes: a full run must finish on a 2-core CPU.
MAX_NEW_TOKENS = 128


def max_new_tokens(spec: TaskSpec, cfg: EvaluateConfig) -> int:
    return cfg.max_new_tokens or min(spec.generation.max_new_tokens, MAX_NEW_TOKENS)


def shots(spec: TaskSpec, cfg: EvaluateConfig) -> list[dict]:
    """The few-shot seed pairs: the first ``shots`` seeds, the same for every message."""
    return spec.seed_examples[:cfg.shots or spec.generation.shots]


def default_teacher() -> str:
    from workbench.settings import get_settings

    return get_settings().teacher


def _knn(pool: list[dict]):
    from workbench.evaluate.strategies import EmbeddingScorer
    from workbench.models import load_embedder

    return EmbeddingScorer.index(load_embedder(), [r["input"] for r in pool])


def _with_index(generator, knn):
    generator.parameters += knn.parameters
    generator.disk_bytes += knn.disk_bytes
    return generator


def _student(cell: Cell, spec: TaskSpec, cfg: EvaluateConfig, examples_for):
    from workbench.evaluate.generators import LlamaGenerator
    from workbench.models import prompt_mode

    return LlamaGenerator(Path(cell.source), spec, prompt_mode(cell.model), examples_for, cfg.threads,
                          max_new_tokens(spec, cfg))


def build_prompt(cell: Cell, spec: TaskSpec, pool: list[dict], cfg: EvaluateConfig):
    """The task's instructions alone."""
    return _student(cell, spec, cfg, lambda text: [])


def build_fewshot(cell: Cell, spec: TaskSpec, pool: list[dict], cfg: EvaluateConfig):
    """The same few seed pairs before every message."""
    seeds = shots(spec, cfg)
    return _student(cell, spec, cfg, lambda text: seeds)


def build_retrieval(cell: Cell, spec: TaskSpec, pool: list[dict], cfg: EvaluateConfig):
    """The pool's pairs nearest to the message, most similar last (nearest to the message answered)."""
    knn = _knn(pool)
    return _with_index(_student(cell, spec, cfg, lambda text: [pool[i] for i in knn.neighbours(text, cfg.k)[::-1]]),
                       knn)


def build_teacher(cell: Cell, spec: TaskSpec, pool: list[dict], cfg: EvaluateConfig):
    """The teacher with the few-shot seeds: llama.cpp, or an OpenAI-compatible server."""
    from workbench.evaluate import generators as gen
    from workbench.generate.teachers import TeacherSpec

    seeds = shots(spec, cfg)
    teacher = TeacherSpec.parse(cfg.teacher or default_teacher())
    if teacher.kind == "openai":
        return gen.OpenAIGenerator(teacher, spec, lambda text: seeds, max_new_tokens(spec, cfg))
    return gen.LlamaGenerator(Path(cell.source), spec, teacher.mode, lambda text: seeds, cfg.threads,
                              max_new_tokens(spec, cfg))


def build_finetuned(cell: Cell, spec: TaskSpec, pool: list[dict], cfg: EvaluateConfig):
    """The SFT student, on the message alone: the run, or an export of it (GGUF, merged) as shipped."""
    from workbench.evaluate.generators import ExportedReplyGenerator, FineTunedGenerator
    from workbench.export import is_export

    if is_export(cell.source):
        return ExportedReplyGenerator(cell.source, max_new_tokens(spec, cfg), cfg.threads)
    return FineTunedGenerator(cell.source, max_new_tokens(spec, cfg), None)


def build_finetuned_retrieval(cell: Cell, spec: TaskSpec, pool: list[dict], cfg: EvaluateConfig):
    """The SFT student shown the pool's nearest pairs (a run: an export answers single messages only)."""
    from workbench.evaluate.generators import FineTunedGenerator

    knn = _knn(pool)
    return _with_index(FineTunedGenerator(cell.source, max_new_tokens(spec, cfg),
                                          lambda text: [pool[i] for i in knn.neighbours(text, cfg.k)[::-1]]), knn)


STRATEGIES: dict[str, Strategy] = {
    "teacher": Strategy(build_teacher, over="teacher"),
    "prompt": Strategy(build_prompt),
    "fewshot": Strategy(build_fewshot),
    "retrieval": Strategy(build_retrieval, needs_pool=True),
    "finetuned": Strategy(build_finetuned, over="runs"),
    "finetuned_retrieval": Strategy(build_finetuned_retrieval, over="runs", needs_pool=True),
}
