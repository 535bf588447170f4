"""The label-consistency critic: does a generated row say what its label says?

A teacher asked for messages of one intent often writes one of a neighbouring intent (or none
at all). Each row is judged on up to three signals, all trained or read from the task alone:

- **margin**: a logistic regression on the seeds' MiniLM vectors (scikit-learn, as Label's few-shot
  scorer) gives ``p(intended) - max p(other)``; below ``min_margin`` the row fails ``low_margin``;
- **seed vote**: of the ``vote_k`` seeds nearest by cosine, the share that carry the intended
  label; below ``min_vote_share`` the row fails ``seed_vote``. ``Verdict.vote`` is the label those
  seeds favour (summed cosine);
- **log-probability** (optional, llama.cpp teachers only): the teacher reads the row in a prompt
  listing the intents (one seed each as examples) and scores each label's name after
  ``Intent:`` (:class:`workbench.llamacpp.labels.LabelReader`); the intended label's
  log-probability, normalised over the labels, below ``min_logprob`` fails ``low_logprob``.

Thresholds live in the task spec (``generation.critic``, :class:`workbench.tasks.CriticSpec`);
their defaults were chosen on clinc_bank's validation rows (see there).

Example:
    >>> critic = Critic.fit(spec, embed)                                   # doctest: +SKIP
    >>> critic.judge(["I forgot my PIN"], ["freeze_account"])[0].reasons   # doctest: +SKIP
    ('low_margin', 'seed_vote')
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from workbench.errors import WorkbenchError
from workbench.tasks import CriticSpec, TaskSpec

Embed = Callable[[list[str]], Any]
REASONS = ("low_margin", "seed_vote", "low_logprob")
C = 10.0  # the regression's inverse L2 strength: 0.942 accuracy on clinc_bank validation (0.915 at C=1)


class CriticError(WorkbenchError):
    """The critic cannot run as the task spec asks (e.g. log-probabilities from a remote teacher)."""


@dataclass(frozen=True)
class Verdict:
    """The critic's judgement of one row: ``passed`` unless ``reasons`` names a failed signal.

    Example:
        >>> Verdict(False, ("low_margin",), -0.62, "pin_change", None).passed
        False
    """

    passed: bool
    reasons: tuple[str, ...]
    margin: float
    vote: str
    logprob: float | None = None


class Critic:
    """Seed-trained signals of label consistency; build with :meth:`fit`, use :meth:`judge`."""

    def __init__(self, spec: TaskSpec, settings: CriticSpec, model: Any, seed_vectors: np.ndarray,
                 seed_labels: list[str], embed: Embed, reader: Any = None):
        self.spec, self.settings, self.model, self.embed, self.reader = spec, settings, model, embed, reader
        self.seed_vectors = seed_vectors
        self.seed_labels = np.array(seed_labels)
        self.labels = [str(c) for c in model.classes_]
        self._logprobs: dict[tuple[str, str], float] = {}  # curation runs every round: read each row once
        self.logprob_seconds = 0.0

    @classmethod
    def fit(cls, spec: TaskSpec, embed: Embed, settings: CriticSpec | None = None,
            teacher_gguf: Path | None = None, threads: int = 1) -> Critic:
        """A critic of ``spec``'s rows, trained on its seeds (embedded with ``embed``, unit vectors).
        ``settings`` default to the spec's ``generation.critic``; with ``logprob`` on, ``teacher_gguf``
        is the GGUF that reads the rows.

        Example:
            >>> Critic.fit(spec, embed).labels[:2]                             # doctest: +SKIP
            ['account_blocked', 'apr']
        """
        from sklearn.linear_model import LogisticRegression

        settings = settings or spec.generation.critic
        seeds = [r for r in spec.seed_examples if r.get("label")]
        labels = [r["label"] for r in seeds]
        if len(set(labels)) < 2:
            raise CriticError(f"task {spec.name}: the critic needs seeds of two labels at least; add seed examples "
                              "or set generation.critic.enabled: false")
        if settings.logprob and teacher_gguf is None:
            raise CriticError("generation.critic.logprob needs a llama.cpp teacher (llamacpp:<model>); "
                              "use one or set generation.critic.logprob: false")
        x = np.asarray(embed([r["text"] for r in seeds]), dtype=float)
        model = LogisticRegression(C=C, max_iter=2000, random_state=0).fit(x, labels)
        reader = None
        if settings.logprob:
            from workbench.llamacpp.labels import LabelReader

            reader = LabelReader(teacher_gguf, spec.label_names, threads=threads)
        return cls(spec, settings, model, x, labels, embed, reader)

    def judge(self, texts: Sequence[str], labels: Sequence[str], vectors: Any = None) -> list[Verdict]:
        """One :class:`Verdict` per (text, intended label); ``vectors``: the texts' unit MiniLM
        vectors when the caller has them (else they are embedded here)."""
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        if not len(texts):
            return []
        x = np.asarray(self.embed(list(texts)) if vectors is None else vectors, dtype=float)
        margins = self.margins(x, labels)
        shares, votes = self.votes(x, labels)
        s = self.settings
        out = []
        for i, (text, label) in enumerate(zip(texts, labels)):
            reasons = []
            if margins[i] < s.min_margin:
                reasons.append("low_margin")
            if shares[i] < s.min_vote_share:
                reasons.append("seed_vote")
            logprob = self.logprob(text, label) if self.reader is not None else None
            if logprob is not None and logprob < s.min_logprob:
                reasons.append("low_logprob")
            out.append(Verdict(not reasons, tuple(reasons), round(float(margins[i]), 4), votes[i],
                               None if logprob is None else round(logprob, 4)))
        return out

    def margins(self, x: np.ndarray, labels: Sequence[str]) -> np.ndarray:
        """``p(intended) - max p(other)`` per row; -1 for a label the seeds do not have."""
        p = self.model.predict_proba(x)
        index = {lab: j for j, lab in enumerate(self.labels)}
        out = np.full(len(x), -1.0)
        for i, label in enumerate(labels):
            j = index.get(label)
            if j is not None:
                out[i] = p[i, j] - np.delete(p[i], j).max()
        return out

    def votes(self, x: np.ndarray, labels: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        """Per row, the share of its ``vote_k`` nearest seeds with the intended label, and the
        label those seeds favour (largest summed cosine)."""
        sims = x @ self.seed_vectors.T
        k = min(self.settings.vote_k, sims.shape[1])
        nearest = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        shares, votes = [], []
        for i, label in enumerate(labels):
            near = self.seed_labels[nearest[i]]
            shares.append(float(np.mean(near == label)))
            weight: dict[str, float] = {}
            for lab, sim in zip(near, sims[i, nearest[i]]):
                weight[str(lab)] = weight.get(str(lab), 0.0) + float(sim)
            votes.append(max(weight, key=weight.get))
        return np.array(shares), votes

    def logprob(self, text: str, label: str) -> float:
        """The teacher's log-probability of ``label`` given ``text``, normalised over the labels."""
        from workbench.llamacpp.labels import intent_prompt, log_softmax

        key = (text, label)
        if key not in self._logprobs:
            started = time.perf_counter()
            scores = log_softmax(self.reader.label_scores(intent_prompt(self.spec, self._examples(), text)))
            self._logprobs[key] = scores[self.spec.label_names.index(label)]
            self.logprob_seconds += time.perf_counter() - started
        return self._logprobs[key]

    def _examples(self) -> list[dict]:
        """One seed per label, the same for every row (so the prompt's prefix stays cached)."""
        first: dict[str, dict] = {}
        for r in self.spec.seed_examples:
            first.setdefault(r["label"], r)
        return list(first.values())

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None
