"""A BERT sequence classifier that pools by the mean of its token states, not by [CLS].

Sentence-transformers encoders such as all-MiniLM-L6-v2 were trained with mean pooling;
their [CLS] state and BERT pooler were never trained for sentences. Measured on
support_intents (nearest label centroid of 270 synthetic rows, scored on the 120 held-out
messages): mean-pooled states 0.68 macro-F1, [CLS] 0.49, pooler 0.48. So the Train stage
builds BERT-family students with this class: the head sees what the encoder was trained
to produce.

This file imports only torch and transformers: a saved model carries a copy of it and an
``auto_map`` in its config (transformers' custom-model mechanism), so it loads anywhere
with ``AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True)``,
and in the workbench (where importing this module registers the class) without the flag.
Its own ``model_type`` means plain transformers can never load it silently as a [CLS]
classifier with other logits.

Example:
    >>> model = MeanPoolingBertForSequenceClassification.from_pretrained(path, num_labels=3)  # doctest: +SKIP
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import AutoConfig, AutoModelForSequenceClassification, BertConfig, BertModel, BertPreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput


class MeanPoolingBertConfig(BertConfig):
    model_type = "bert-mean-pooling"

    @classmethod
    def get_config_dict(cls, *args, **kwargs):
        """A plain BERT checkpoint's config reads as this one (no "model of type bert" warning)."""
        config_dict, kwargs = super().get_config_dict(*args, **kwargs)
        if config_dict.get("model_type") == "bert":
            config_dict = {**config_dict, "model_type": cls.model_type}
        return config_dict, kwargs


def mean_pool(states: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """The mean of the token states where ``mask`` is 1 (every token without a mask)."""
    if mask is None:
        return states.mean(1)
    m = mask.unsqueeze(-1).to(states.dtype)
    return (states * m).sum(1) / m.sum(1).clamp(min=1.0)


class MeanPoolingBertForSequenceClassification(BertPreTrainedModel):
    """BERT -> mean of the token states -> dropout -> linear head (``classifier``)."""

    config_class = MeanPoolingBertConfig
    _keys_to_ignore_on_load_unexpected = [r"pooler"]  # BERT's [CLS] pooler: not used here

    def __init__(self, config):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        drop = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(drop)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def embed(self, input_ids=None, attention_mask=None, token_type_ids=None) -> torch.Tensor:
        """The mean-pooled sentence vectors the head classifies."""
        out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        return mean_pool(out.last_hidden_state, attention_mask)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, **kwargs):
        logits = self.classifier(self.dropout(self.embed(input_ids, attention_mask, token_type_ids)))
        loss = nn.functional.cross_entropy(logits, labels.view(-1)) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


AutoConfig.register(MeanPoolingBertConfig.model_type, MeanPoolingBertConfig, exist_ok=True)
AutoModelForSequenceClassification.register(MeanPoolingBertConfig, MeanPoolingBertForSequenceClassification,
                                            exist_ok=True)
MeanPoolingBertConfig.register_for_auto_class()
MeanPoolingBertForSequenceClassification.register_for_auto_class("AutoModelForSequenceClassification")
