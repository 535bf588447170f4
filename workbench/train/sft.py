"""Causal-LM SFT: chat-formatted pairs, loss on the answer tokens only.

Each ``input``/``output`` row becomes the student's own chat format (its tokenizer's chat
template; a plain ``### Input / ### Response`` layout for models without one). Labels are
``-100`` over the prompt, so only the answer is learned. Two things keep the CPU busy with
useful work:

- rows stay unpadded; batches are grouped by length and padded only to their longest row
  (:func:`sft_collator`: transformers' ``DataCollatorForSeq2Seq``, which pads labels with -100);
- :class:`AnswerOnlyTrainer` runs the vocabulary projection (``lm_head``, ~20% of
  SmolLM2's FLOPs) only at answer positions, instead of computing logits for every prompt
  and padding token and then masking them out.

:func:`build_trainer` puts it together for ``run_train`` (the ``sft`` objective).

Example:
    >>> tok = load_tokenizer(path)                                                # doctest: +SKIP
    >>> encoded, dropped = encode_sft([{"input": "hi", "output": "hello"}], tok, 384)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transformers import Trainer

from workbench.errors import ConfigError
from workbench.train.parts import TrainerParts


def chat_prompt(tok, text: str) -> str:
    """The prompt a student sees for ``text``, ending where its answer starts."""
    if getattr(tok, "chat_template", None):
        return tok.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                       add_generation_prompt=True)
    return plain_prompt(text)


def plain_prompt(text: str) -> str:
    """The prompt layout of a student whose tokenizer has no chat template (an exported GGUF too)."""
    return f"### Input\n{text}\n### Response\n"


def encode_sft(rows: list[dict[str, str]], tok, max_length: int):
    """(dataset of input_ids / labels / length, rows dropped because no answer token fit)."""
    from datasets import Dataset

    ids_all, labels_all, dropped = [], [], 0
    eos = tok.eos_token or ""
    for row in rows:
        prompt = tok(chat_prompt(tok, row["input"]), add_special_tokens=False)["input_ids"]
        answer = tok(row["output"] + eos, add_special_tokens=False)["input_ids"]
        ids = (prompt + answer)[:max_length]
        labels = ([-100] * len(prompt) + answer)[:max_length]
        if all(x == -100 for x in labels):
            dropped += 1  # the prompt alone fills max_length: nothing to learn from this row
            continue
        ids_all.append(ids)
        labels_all.append(labels)
    data = Dataset.from_dict({"input_ids": ids_all, "labels": labels_all, "length": [len(x) for x in ids_all]})
    return data, dropped


def build_causal_lm(path, method: str, r: int, alpha: int, dropout: float, dtype):
    """The student as a causal LM, LoRA-wrapped (SFT is LoRA only: full SFT is out of scope)."""
    from transformers import AutoModelForCausalLM

    from workbench.train.classify import load_tokenizer
    from workbench.train.lora import with_lora

    if method != "lora":
        raise ConfigError("SFT trains LoRA adapters only; use method='lora' (full fine-tuning is for encoders)")
    tok = load_tokenizer(path)
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype)
    model.config.pad_token_id = tok.pad_token_id
    return with_lora(model, r, alpha, dropout, "CAUSAL_LM"), tok


def answer_loss(model, inputs: dict[str, Any]):
    """Mean cross-entropy over answer tokens, projecting only their hidden states to the vocabulary."""
    import torch

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    hidden = base.get_decoder()(input_ids=inputs["input_ids"],
                                attention_mask=inputs.get("attention_mask")).last_hidden_state
    targets = inputs["labels"][:, 1:]
    keep = targets != -100
    logits = base.get_output_embeddings()(hidden[:, :-1][keep]).float()
    cap = getattr(base.config, "final_logit_softcapping", None)
    if cap:  # Gemma-style soft capping, as the model's own forward does
        logits = torch.tanh(logits / cap) * cap
    return torch.nn.functional.cross_entropy(logits, targets[keep])


class AnswerOnlyTrainer(Trainer):
    """A Trainer whose loss is :func:`answer_loss` (same value as the model's, less work)."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss = answer_loss(model, inputs)
        return (loss, {"loss": loss}) if return_outputs else loss


def sft_collator(tok, multiple: int = 8):
    """Pads a batch on the right to its longest row (rounded up to ``multiple``): ids with the
    pad token, the attention mask with 0, labels with -100 (no loss on padding)."""
    from transformers import DataCollatorForSeq2Seq

    from workbench.train.classify import WithoutColumns, padding_on

    return WithoutColumns(DataCollatorForSeq2Seq(padding_on(tok, "right"), pad_to_multiple_of=multiple,
                                                 label_pad_token_id=-100))


def build_trainer(spec, student_path: Path, hp: dict[str, Any], train_rows: list[dict], val_rows: list[dict]
                  ) -> TrainerParts:
    """The ``sft`` objective: the student as a LoRA causal LM, its chat-formatted pairs, the answer-only loss."""
    import torch

    model, tok = build_causal_lm(student_path, hp["method"], hp.get("lora_r", 0), hp.get("lora_alpha", 0),
                                 hp.get("lora_dropout", 0.0), torch.float32)
    train_ds, dropped = encode_sft(train_rows, tok, hp["max_length"])
    return TrainerParts(model=model, tokenizer=tok, train_dataset=train_ds, dropped_too_long=dropped,
                        eval_dataset=encode_sft(val_rows, tok, hp["max_length"])[0] if val_rows else None,
                        collator=sft_collator(tok), trainer_class=AnswerOnlyTrainer, eval_loss_only=True)
