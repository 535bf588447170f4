"""Sequence classification: an encoder or decoder with a label head, LoRA or full fine-tuning.

BERT-family encoders (MiniLM) pool by the mean of their token states
(:mod:`workbench.train.mean_pooling`: how sentence-transformers trained them) and their head
starts as a nearest-prototype classifier (:func:`init_head_from_prototypes`): each label's
weight row is the normalised mean embedding of that label's examples, so training starts
at few-shot quality instead of chance. Decoders keep transformers' own head (last token).

Rows are tokenized without padding; :func:`classification_collator` (transformers'
``DataCollatorWithPadding``) pads each batch only to its own longest row, and the Trainer's
length-grouped sampler puts rows of similar length together, so little of the work is padding.

:func:`build_trainer` puts it together for ``run_train`` (the ``classify`` objective).

Example:
    >>> model, tok, pooling = build_classifier(path, labels=["a", "b"], method="lora", r=8, alpha=16,
    ...                                        dropout=0.05, dtype=torch.float32)      # doctest: +SKIP
    >>> encoded = encode_classification(rows, tok, labels=["a", "b"], max_length=128)  # doctest: +SKIP
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from workbench.train.lora import with_lora
from workbench.train.parts import TrainerParts


def load_tokenizer(path: Path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path))
    if tok.pad_token is None:  # decoders ship without one; their EOS is never a real input token here
        tok.pad_token = tok.eos_token
    return tok


# Prototype head: logits = PROTOTYPE_SCALE x cosine(sentence, label prototype), roughly (the
# sentence vector is divided by the mean norm, not its own). 10 spreads the cosines of one
# message to the labels (about 0.1 to 0.7) into confident but not saturated probabilities.
PROTOTYPE_SCALE = 10.0


def pooling_of(path: Path) -> str:
    """'mean' for BERT-family encoders (mean-pooled head), else 'default' (transformers' head)."""
    import json

    config = json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))
    return "mean" if config.get("model_type") in ("bert", "bert-mean-pooling") else "default"


def load_classifier(path: Path, pooling: str, dtype, **kwargs):
    """The sequence classifier class for ``pooling``, loaded from ``path``."""
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    if pooling == "mean":
        from workbench.train.mean_pooling import MeanPoolingBertForSequenceClassification as cls
    else:
        cls = AutoModelForSequenceClassification
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the head is new by design: no "MISSING weights" report for it
    try:
        return cls.from_pretrained(str(path), dtype=dtype, **kwargs)
    finally:
        hf_logging.set_verbosity(level)


def build_classifier(path: Path, labels: list[str], method: str, r: int, alpha: int, dropout: float, dtype,
                     prototypes: dict[str, list[str]] | None = None, max_length: int = 128):
    """The student with a fresh head over ``labels``; LoRA-wrapped unless ``method='full'``.

    ``prototypes`` (label -> example texts) initialise a mean-pooled encoder's head
    (:func:`init_head_from_prototypes`); returns (model, tokenizer, pooling).
    """
    tok = load_tokenizer(path)
    pooling = pooling_of(path)
    model = load_classifier(path, pooling, dtype, num_labels=len(labels), id2label=dict(enumerate(labels)),
                            label2id={lab: i for i, lab in enumerate(labels)})
    # Decoder classifiers pool the last non-pad token, so they must know the pad id.
    model.config.pad_token_id = tok.pad_token_id
    if pooling == "mean" and prototypes:
        init_head_from_prototypes(model, tok, labels, prototypes, max_length)
    if method == "lora":
        model = with_lora(model, r, alpha, dropout, "SEQ_CLS")
    return model, tok, pooling


def init_head_from_prototypes(model, tok, labels: list[str], texts: dict[str, list[str]], max_length: int,
                              batch_size: int = 64) -> None:
    """Set the head of a mean-pooled classifier to its labels' prototypes.

    Row ``i`` of the weight is the normalised mean embedding of ``texts[labels[i]]``, scaled
    by ``PROTOTYPE_SCALE / mean sentence norm``; the bias is 0. A label without texts keeps
    a zero row (its logit starts at 0).
    """
    import torch

    flat = [(i, t) for i, lab in enumerate(labels) for t in texts.get(lab, [])]
    if not flat:
        return
    was_training = model.training
    model.eval()
    with torch.no_grad():
        vecs = []
        for start in range(0, len(flat), batch_size):
            enc = tok([t for _, t in flat[start:start + batch_size]], truncation=True, max_length=max_length,
                      padding=True, return_tensors="pt")
            vecs.append(model.embed(enc["input_ids"], enc["attention_mask"], enc.get("token_type_ids")))
        vecs = torch.cat(vecs)
        owner = torch.tensor([i for i, _ in flat])
        weight = torch.zeros_like(model.classifier.weight)
        for i in owner.unique().tolist():
            weight[i] = torch.nn.functional.normalize(vecs[owner == i].mean(0), dim=0)
        model.classifier.weight.copy_(weight * PROTOTYPE_SCALE / vecs.norm(dim=-1).mean())
        model.classifier.bias.zero_()
    model.train(was_training)


def encode_classification(rows: list[dict[str, str]], tok, labels: list[str], max_length: int):
    """A datasets.Dataset of input_ids / attention_mask / labels / length (unpadded)."""
    from datasets import Dataset

    index = {lab: i for i, lab in enumerate(labels)}
    enc = tok([r["text"] for r in rows], truncation=True, max_length=max_length)
    return Dataset.from_dict({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
                              "labels": [index[r["label"]] for r in rows],
                              "length": [len(ids) for ids in enc["input_ids"]]})


def padding_on(tok, side: str = "right"):
    """A copy of ``tok`` that pads on ``side``, for a collator.

    Training always pads on the right (decoders' tokenizers ship 'left', for generation);
    a copy, because the run's own tokenizer is exported with the model as it came.
    """
    tok = copy.deepcopy(tok)
    tok.padding_side = side
    return tok


@dataclass
class WithoutColumns:
    """Drops columns before ``collate``: ``length`` is for the length-grouped sampler only,
    and the model would refuse it as an argument (``remove_unused_columns`` is off)."""

    collate: Callable[[list[dict[str, Any]]], dict[str, Any]]
    columns: tuple[str, ...] = ("length",)

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        return self.collate([{k: v for k, v in f.items() if k not in self.columns} for f in features])


def classification_collator(tok, multiple: int = 8, padding_side: str = "right") -> WithoutColumns:
    """Pads a batch to its longest row (rounded up to ``multiple``) with the pad token; one label per row."""
    from transformers import DataCollatorWithPadding

    return WithoutColumns(DataCollatorWithPadding(padding_on(tok, padding_side), pad_to_multiple_of=multiple))


def build_trainer(spec, student_path: Path, hp: dict[str, Any], train_rows: list[dict], val_rows: list[dict]
                  ) -> TrainerParts:
    """The ``classify`` objective: a classifier over the spec's labels, its data and metrics.

    Seeds the head with the training rows' prototypes; weights the loss by inverse label
    frequency when ``hp["class_weights"]``.
    """
    import torch
    from transformers import Trainer

    from workbench.train.data import class_weights, prototype_texts

    labels = spec.label_names
    model, tok, pooling = build_classifier(student_path, labels, hp["method"], hp.get("lora_r", 0),
                                           hp.get("lora_alpha", 0), hp.get("lora_dropout", 0.0), torch.float32,
                                           prototype_texts(train_rows, spec), hp["max_length"])
    kwargs: dict[str, Any] = {"compute_metrics": classification_metrics}
    if hp["class_weights"]:
        kwargs["compute_loss_func"] = weighted_loss(class_weights(train_rows, labels))
    return TrainerParts(
        model=model, tokenizer=tok, pooling=pooling, trainer_class=Trainer, trainer_kwargs=kwargs,
        train_dataset=encode_classification(train_rows, tok, labels, hp["max_length"]),
        eval_dataset=encode_classification(val_rows, tok, labels, hp["max_length"]) if val_rows else None,
        collator=classification_collator(tok))


def classification_metrics(eval_pred) -> dict[str, float]:
    """Accuracy and macro F1 on the validation split (the held-out set is for Evaluate)."""
    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score

    logits, gold = eval_pred.predictions, eval_pred.label_ids
    logits = logits[0] if isinstance(logits, tuple) else logits
    pred = np.argmax(logits, axis=-1)
    return {"accuracy": float(accuracy_score(gold, pred)),
            "macro_f1": float(f1_score(gold, pred, average="macro", zero_division=0))}


def weighted_loss(weights):
    """A Trainer ``compute_loss_func``: cross-entropy weighted per class (skewed labels)."""
    import torch

    def loss(outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"]
        w = torch.as_tensor(weights, dtype=logits.dtype, device=logits.device)
        return torch.nn.functional.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), weight=w)
    return loss
