"""Scorers of classification tasks: one per (strategy, model); each maps a text to a
probability per label. (Generation tasks: :mod:`workbench.evaluate.generators`.)

- :class:`EmbeddingScorer` (MiniLM): cosine similarity to reference vectors: the label
  descriptions (prompt-only), the seed centroids (few-shot) or the training pool's
  nearest neighbours, which vote weighted by similarity (retrieval). Its ``index`` is
  the neighbour search of retrieval for generation tasks too.
- :class:`LlamaScorer` (GGUF models through llama.cpp, the teacher and decoder
  students): a completion prompt lists the intents, optionally shows examples, ends in
  ``Intent:``, and the label is the one whose first token the model finds likeliest.
  One forward pass per message on :class:`workbench.llamacpp.labels.LabelReader` (Generate's
  critic reads labels the same way); the prompt prefix shared with the previous message
  stays in the KV cache, so only the message itself is computed.
- :class:`FineTunedScorer`: a finished train run (``workbench.train.load_student``).
- :class:`MixScorer`: fine-tuned probabilities blended with the neighbour vote.
- :class:`SeedRegressionScorer`: the ``seeds_lr`` control, logistic regression on frozen MiniLM
  vectors of the seeds.

Example:
    >>> from workbench.models import load_embedder                     # doctest: +SKIP
    >>> s = EmbeddingScorer.from_descriptions(load_embedder(), spec)    # doctest: +SKIP
    >>> max(s.score("my card was charged twice").items(), key=lambda kv: kv[1])[0]  # doctest: +SKIP
    'billing_issue'
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Protocol

from workbench.evaluate.profile import disk_bytes, torch_parameters
from workbench.llamacpp.labels import LabelReader, intent_prompt
from workbench.tasks import TaskSpec


class Scorer(Protocol):
    parameters: int
    disk_bytes: int

    def score(self, text: str) -> dict[str, float]: ...

    def close(self) -> None: ...


def _softmax(xs: list[float]) -> list[float]:
    top = max(xs)
    exps = [math.exp(x - top) for x in xs]
    total = sum(exps)
    return [e / total for e in exps]


class EmbeddingScorer:
    """MiniLM similarity to labelled reference vectors."""

    # Cosines of MiniLM sit close together; dividing by 0.05 spreads them into
    # probabilities that rank the same and read sensibly in a report.
    TEMPERATURE = 0.05

    def __init__(self, embedder, refs, ref_labels: list[str], labels: list[str], k: int | None, extra_bytes: int = 0):
        self.embedder, self.refs, self.ref_labels, self.labels, self.k = embedder, refs, ref_labels, labels, k
        self.parameters = torch_parameters(embedder)
        self.disk_bytes = disk_bytes(*_st_paths(embedder)) + extra_bytes

    @classmethod
    def from_descriptions(cls, embedder, spec: TaskSpec) -> EmbeddingScorer:
        texts = [f"{lab.name.replace('_', ' ')}: {lab.description}" for lab in spec.labels]
        return cls(embedder, _encode(embedder, texts), spec.label_names, spec.label_names, None)

    @classmethod
    def from_seeds(cls, embedder, spec: TaskSpec) -> EmbeddingScorer:
        import numpy as np

        vecs = _encode(embedder, [r["text"] for r in spec.seed_examples])
        seed_labels = [r["label"] for r in spec.seed_examples]
        centroids = []
        for lab in spec.label_names:
            c = vecs[[i for i, s in enumerate(seed_labels) if s == lab]].mean(0)
            centroids.append(c / np.linalg.norm(c))
        return cls(embedder, np.stack(centroids), spec.label_names, spec.label_names, None)

    @classmethod
    def from_pool(cls, embedder, spec: TaskSpec, pool: list[dict], k: int) -> EmbeddingScorer:
        vecs = _encode(embedder, [r["text"] for r in pool])
        # The index ships with the model, so it counts towards the size on disk.
        return cls(embedder, vecs, [r["label"] for r in pool], spec.label_names, k, extra_bytes=vecs.nbytes)

    @classmethod
    def index(cls, embedder, texts: list[str]) -> EmbeddingScorer:
        """A neighbour index only (no labels to vote): in-context examples for generation."""
        vecs = _encode(embedder, texts)
        return cls(embedder, vecs, [], [], None, extra_bytes=vecs.nbytes)

    def neighbours(self, text: str, k: int) -> list[int]:
        sims = self.refs @ _encode(self.embedder, [text])[0]
        return sims.argsort()[::-1][:k].tolist()

    def score(self, text: str) -> dict[str, float]:
        sims = (self.refs @ _encode(self.embedder, [text])[0]).tolist()
        if self.k is None:  # one reference per label
            return dict(zip(self.labels, _softmax([s / self.TEMPERATURE for s in sims])))
        top = sorted(range(len(sims)), key=sims.__getitem__, reverse=True)[:self.k]
        votes = {lab: 0.0 for lab in self.labels}
        for i in top:
            votes[self.ref_labels[i]] += math.exp(sims[i] / self.TEMPERATURE)
        total = sum(votes.values())
        return {lab: v / total for lab, v in votes.items()}

    def close(self) -> None:
        pass


def _encode(embedder, texts: list[str]):
    return embedder.encode(texts, normalize_embeddings=True, batch_size=64, show_progress_bar=False)


def _st_paths(embedder) -> list[Path]:
    # sentence-transformers keeps no public "where was I loaded from"; the first module's
    # model carries its folder as name_or_path.
    return [Path(embedder[0].auto_model.name_or_path)]


class LlamaScorer(LabelReader):
    """A GGUF model ranks the labels by the likelihood of their name after ``Intent:``."""

    def __init__(self, gguf: Path, spec: TaskSpec, examples_for, threads: int, n_ctx: int = 4096):
        super().__init__(gguf, spec.label_names, threads, n_ctx)
        self.disk_bytes = disk_bytes(gguf)
        self.spec, self.examples_for = spec, examples_for

    def score(self, text: str) -> dict[str, float]:
        scores = self.label_scores(intent_prompt(self.spec, self.examples_for(text), text))
        return dict(zip(self.spec.label_names, _softmax(scores)))


class FineTunedScorer:
    """A finished classification run of the Train stage, or an export of one (``workbench export``)."""

    def __init__(self, run: str | Path, threads: int | None = None):
        from workbench.export import is_export, load_export

        if is_export(run):
            self.student = load_export(run, threads=threads)
            self.parameters, self.disk_bytes = self.student.parameters, self.student.disk_bytes
            name = Path(run).name
        else:
            from workbench.train import load_student

            self.student = load_student(run)
            self.parameters = torch_parameters(self.student.model)
            self.disk_bytes = disk_bytes(self.student.run_dir / "model")
            name = self.student.run_dir.name
        if self.student.objective != "classify":
            raise ValueError(f"{name} is a {self.student.objective} model; the classification strategies need a "
                             "classify run")

    def score(self, text: str) -> dict[str, float]:
        return self.student.predict_proba([text])[0]

    def close(self) -> None:
        close = getattr(self.student, "close", None)
        if close:
            close()


class MixScorer:
    """``(1 - w) * fine-tuned + w * neighbour vote``: the vote corrects where the pool is dense."""

    def __init__(self, model: FineTunedScorer, knn: EmbeddingScorer, weight: float):
        self.model, self.knn, self.weight = model, knn, weight
        self.parameters = model.parameters + knn.parameters
        self.disk_bytes = model.disk_bytes + knn.disk_bytes

    def score(self, text: str) -> dict[str, float]:
        a, b = self.model.score(text), self.knn.score(text)
        return {lab: (1 - self.weight) * a.get(lab, 0.0) + self.weight * b[lab] for lab in b}

    def close(self) -> None:
        self.model.close()


class SeedRegressionScorer:
    """The ``seeds_lr`` control: logistic regression on frozen MiniLM vectors of the seeds
    (:class:`workbench.label.scorer.RegressionScorer`, the label stage's few-shot model)."""

    def __init__(self, embedder, spec: TaskSpec):
        from workbench.label.scorer import RegressionScorer

        self.embedder = embedder
        self.lr = RegressionScorer.fit(_encode(embedder, [r["text"] for r in spec.seed_examples]),
                                       [r["label"] for r in spec.seed_examples])
        coef = self.lr.model.coef_
        self.parameters = torch_parameters(embedder) + coef.size + self.lr.model.intercept_.size
        self.disk_bytes = disk_bytes(*_st_paths(embedder)) + coef.nbytes

    def score(self, text: str) -> dict[str, float]:
        return dict(zip(self.lr.labels, self.lr.proba(_encode(self.embedder, [text]))[0].tolist()))

    def close(self) -> None:
        pass
