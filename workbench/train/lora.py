"""LoRA adapters through peft, with target modules found from the model itself.

peft's ``"all-linear"`` guesses the output layer from the model class, which misses the
heads of sequence classifiers (``classifier``, ``score``). Here every ``nn.Linear`` outside
the head gets an adapter, named exactly (a full-match regex), and the head is trained in
full through ``modules_to_save``.

Example:
    >>> from transformers import AutoModelForSequenceClassification   # doctest: +SKIP
    >>> model = with_lora(AutoModelForSequenceClassification.from_pretrained(path, num_labels=3),
    ...                   r=8, alpha=16, dropout=0.05, task_type="SEQ_CLS")  # doctest: +SKIP
"""

from __future__ import annotations

import re

from workbench.errors import ConfigError

HEADS = ("classifier", "score", "lm_head")


def head_names(model) -> list[str]:
    """Top-level head modules present in ``model`` (trained in full, never adapted)."""
    return [name for name in HEADS if getattr(model, name, None) is not None]


def linear_targets(model) -> str:
    """A regex naming every linear layer outside the heads (and outside the embeddings)."""
    import torch

    heads = head_names(model)
    names = [name for name, module in model.named_modules()
             if isinstance(module, torch.nn.Linear) and name.split(".")[0] not in heads]
    if not names:
        raise ConfigError(f"{type(model).__name__} has no linear layers for LoRA; use method='full'")
    return "|".join(re.escape(n) for n in names)


def with_lora(model, r: int, alpha: int, dropout: float, task_type: str):
    """Wrap ``model`` in a peft LoRA model; the classification head (if any) trains in full."""
    from peft import LoraConfig, get_peft_model

    save = [h for h in head_names(model) if h != "lm_head"] or None
    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=linear_targets(model),
                        modules_to_save=save, task_type=task_type)
    return get_peft_model(model, config)


def trainable_parameters(model) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return trainable, total
