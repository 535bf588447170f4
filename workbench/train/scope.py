"""Out of scope: a trained classifier that says "none of these" when a message fits no intent.

A task with ``out_of_scope: {enabled: true}`` gets a gate fitted at the end of training: a message's
score is the mean MiniLM cosine to its 3 most similar training messages; it is out of scope when
the score is below a threshold chosen on validation rows (the task's ``validation:`` file, else the
run's held-back rows) so that at most ``max_in_scope_loss`` of in-scope messages are turned away.
The spec's ``examples`` (out-of-scope messages) report the recall that threshold reaches.

Why similarity and not the classifier's own (temperature-scaled) confidence: on clinc_bank the
calibrated top probability needed 3.7 points of in-scope accuracy for 0.80 out-of-scope recall,
the similarity gate about 1 point for 0.94 (bench/active.py).

Example:
    >>> from workbench.train import load_student
    >>> student = load_student("clinc_bank/minilm-l6-reviewed-v001-1a2b3c4d")   # doctest: +SKIP
    >>> student.predict_scoped(["what's the weather like"])[0].out_of_scope     # doctest: +SKIP
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import Field

from workbench.calibration import ScopeGate, fit_scope_gate, nearest_similarity
from workbench.models import embed
from workbench.records import JsonRecord
from workbench.tasks import TaskSpec

SCOPE = "scope.json"
VECTORS = "scope_vectors.npy"


class ScopeRecord(JsonRecord):
    """``scope.json``: the run's out-of-scope gate and how it was chosen."""

    threshold: float = Field(description="A message scoring below this is out of scope.")
    validation_recall: float | None = Field(None, description="Share of the spec's out-of-scope examples turned away.")
    validation_in_scope_loss: float = Field(description="Share of in-scope validation rows turned away.")
    validation_rows: int
    validated_on: str = Field(description="'validation file' or 'held-back rows'.")
    reference_rows: int = Field(description="Training messages the similarity is measured against.")


@dataclass
class Prediction:
    """One message's label, its probability, and the gate's verdict."""

    label: str
    confidence: float
    out_of_scope: bool = False
    scope_score: float | None = None

    def to_dict(self) -> dict:
        return {"label": self.label, "confidence": round(self.confidence, 4), "out_of_scope": self.out_of_scope,
                "scope_score": None if self.scope_score is None else round(self.scope_score, 4)}


def fit_scope(run_dir: Path, spec: TaskSpec, train_rows: list[dict], val_rows: list[dict]) -> ScopeRecord | None:
    """Fit and save the gate of a finished classifier run (None when the task has no out_of_scope)."""
    oos = spec.out_of_scope
    if oos is None or not oos.enabled:
        return None
    reference = embed(sorted({r["text"] for r in train_rows}))
    val = spec.validation_examples()
    validated_on = "validation file" if val else "held-back rows"
    val = val or val_rows
    examples = spec.out_of_scope_examples()
    gate = fit_scope_gate(nearest_similarity(embed([r["text"] for r in val]), reference),
                          nearest_similarity(embed(examples), reference) if examples else None,
                          oos.max_in_scope_loss, oos.target_recall)
    record = ScopeRecord(threshold=float(gate.threshold), validation_recall=gate.validation_recall,
                         validation_in_scope_loss=gate.validation_in_scope_loss, validation_rows=len(val),
                         validated_on=validated_on, reference_rows=len(reference))
    np.save(run_dir / VECTORS, reference.astype(np.float32))
    (run_dir / SCOPE).write_text(record.model_dump_json(indent=2), encoding="utf-8")
    return record


class Scope:
    """A run's saved gate: ``scores(texts)`` and ``abstains(scores)``."""

    def __init__(self, record: ScopeRecord, reference: np.ndarray):
        self.record, self.reference = record, reference
        self.gate = ScopeGate(record.threshold, record.validation_recall, record.validation_in_scope_loss)

    @classmethod
    def load(cls, run_dir: Path) -> "Scope | None":
        if not (run_dir / SCOPE).is_file():
            return None
        return cls(ScopeRecord.read(run_dir / SCOPE), np.load(run_dir / VECTORS))

    def scores(self, texts: list[str]) -> np.ndarray:
        return nearest_similarity(embed(texts), self.reference)
