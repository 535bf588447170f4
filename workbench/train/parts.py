"""What an objective contributes to a run: :class:`TrainerParts`, and the registry choosing it.

``run_train`` does what every run shares (the run key, the frozen run, TrainingArguments,
tracking, resume, export, run.json); each objective's ``build_trainer`` builds the rest:
model, tokenizer, encoded datasets, collator, Trainer class and its extra arguments.

Adding an objective: a module with ``build_trainer(spec, student_path, hp, train_rows,
val_rows) -> TrainerParts`` and one entry in :data:`BUILDERS`.

A method that trains with its own library rather than the transformers Trainer (``setfit``)
has a ``fit(spec, student_path, hp, train_rows, val_rows, hardware, tracker) -> Fitted``
and one entry in :data:`METHODS`; ``run_train`` exports and records what it returns as it
does a Trainer's model.

Example:
    >>> trainer_builder("sft").__module__
    'workbench.train.sft'
    >>> method_fitter("setfit").__module__
    'workbench.train.contrastive'
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

# Objective -> the module whose build_trainer serves it. Module names, not functions: the
# builders import torch and transformers, which `import workbench.train` must not.
BUILDERS: dict[str, str] = {
    "classify": "workbench.train.classify",
    "sft": "workbench.train.sft",
}

# Methods with their own training loop (a library's trainer) -> the module whose fit serves it.
METHODS: dict[str, str] = {
    "setfit": "workbench.train.contrastive",
}


@dataclass
class TrainerParts:
    """An objective's share of a run, as ``build_trainer`` returns it."""

    model: Any
    tokenizer: Any
    train_dataset: Any
    eval_dataset: Any | None  # None: no validation split
    collator: Callable[[list[dict]], dict]
    trainer_class: type
    trainer_kwargs: dict[str, Any] = field(default_factory=dict)  # compute_metrics, compute_loss_func, ...
    pooling: str | None = None  # classifiers: 'mean' or 'default' (run.json's "pooling")
    dropped_too_long: int = 0  # rows with no trainable token within max_length
    eval_loss_only: bool = False  # TrainingArguments.prediction_loss_only


def trainer_builder(objective: str) -> Callable[..., TrainerParts]:
    """The ``build_trainer`` of ``objective`` ('classify' or 'sft')."""
    return importlib.import_module(BUILDERS[objective]).build_trainer


@dataclass
class Fitted:
    """A trained model as ``run_train`` exports and records it, whichever way it was trained."""

    model: Any  # a classifier or causal LM with save_pretrained (LoRA-wrapped for method 'lora')
    tokenizer: Any
    metrics: dict[str, float]  # final validation figures (eval_macro_f1, ...); empty without validation
    train_metrics: dict[str, float]  # the trainer's own figures (train_runtime, ...)
    steps: int
    train_rows: int
    validation_rows: int
    pooling: str | None = None
    resumed_from_step: int | None = None
    dropped_too_long: int = 0


def method_fitter(method: str) -> Callable[..., Fitted]:
    """The ``fit`` of a method in :data:`METHODS` ('setfit')."""
    return importlib.import_module(METHODS[method]).fit
