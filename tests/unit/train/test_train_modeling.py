"""Collation, answer-only labels, the answer-only loss and LoRA targets, on real (small) models."""

import pytest
import torch

from workbench.models import get_model
from workbench.train.classify import classification_collator, load_tokenizer
from workbench.train.lora import linear_targets, trainable_parameters, with_lora
from workbench.train.sft import answer_loss, chat_prompt, encode_sft, sft_collator


def test_collators_pad_to_the_longest_row_only():
    tok = load_tokenizer(get_model("minilm-l6").path())  # BERT: pad id 0
    assert tok.pad_token_id == 0
    batch = sft_collator(tok, multiple=4)([{"input_ids": [5, 6, 7], "labels": [-100, 6, 7], "length": 3},
                                           {"input_ids": [5], "labels": [5], "length": 1}])
    assert batch["input_ids"].tolist() == [[5, 6, 7, 0], [5, 0, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0], [1, 0, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 6, 7, -100], [5, -100, -100, -100]]
    assert "length" not in batch  # the sampler's column: the model takes no such argument
    left = classification_collator(tok, multiple=1, padding_side="left")([{"input_ids": [1, 2], "labels": 1},
                                                                         {"input_ids": [3], "labels": 0}])
    assert left["input_ids"].tolist() == [[1, 2], [0, 3]] and left["labels"].tolist() == [1, 0]
    right = classification_collator(tok)([{"input_ids": [1, 2], "attention_mask": [1, 1], "labels": 1, "length": 2},
                                          {"input_ids": [3], "attention_mask": [1], "labels": 0, "length": 1}])
    assert right["input_ids"].tolist() == [[1, 2, 0, 0, 0, 0, 0, 0], [3, 0, 0, 0, 0, 0, 0, 0]]
    assert set(right) == {"input_ids", "attention_mask", "labels"}


def test_collators_pad_on_the_right_and_leave_the_tokenizer_as_it_came():
    tok = load_tokenizer(get_model("minilm-l6").path())
    tok.padding_side = "left"  # as decoders' tokenizers ship: the exported tokenizer keeps it
    batch = sft_collator(tok, multiple=1)([{"input_ids": [5, 6], "labels": [5, 6]}, {"input_ids": [5], "labels": [5]}])
    assert batch["input_ids"].tolist() == [[5, 6], [5, 0]] and batch["labels"].tolist() == [[5, 6], [5, -100]]
    assert tok.padding_side == "left"


def test_sft_labels_cover_the_answer_only():
    tok = load_tokenizer(get_model("minilm-l6").path())  # no chat template: the plain layout
    assert chat_prompt(tok, "hi") == "### Input\nhi\n### Response\n"
    data, dropped = encode_sft([{"input": "where is my parcel", "output": "it ships monday"}], tok, 64)
    ids, labels = data[0]["input_ids"], data[0]["labels"]
    answer = [t for t, lab in zip(ids, labels) if lab != -100]
    assert tok.decode(answer) == "it ships monday"  # BERT has no EOS; decoders get theirs appended
    assert labels[: len(ids) - len(answer)] == [-100] * (len(ids) - len(answer)) and dropped == 0
    _, dropped = encode_sft([{"input": "word " * 80, "output": "x"}], tok, 16)
    assert dropped == 1  # the prompt alone fills max_length


def test_answer_only_loss_equals_the_models_own_loss():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True))
    ids = torch.randint(0, 97, (2, 12))
    labels = ids.clone()
    labels[:, :5] = -100
    labels[1, 10:] = -100
    mask = torch.ones_like(ids)
    expected = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    got = answer_loss(model, {"input_ids": ids, "attention_mask": mask, "labels": labels})
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)


def test_lora_adapts_every_linear_layer_but_trains_the_head_in_full():
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(str(get_model("minilm-l6").path()), num_labels=3)
    targets = linear_targets(model)
    assert "classifier" not in targets and "query" in targets and "intermediate" in targets
    wrapped = with_lora(model, r=4, alpha=8, dropout=0.0, task_type="SEQ_CLS")
    trainable, total = trainable_parameters(wrapped)
    names = [n for n, p in wrapped.named_parameters() if p.requires_grad]
    assert any("classifier" in n for n in names) and any("lora_A" in n for n in names)
    assert not any("word_embeddings" in n for n in names)
    assert 0 < trainable < total * 0.05


def test_minilm_pools_by_the_mean_and_its_head_starts_at_the_prototypes(tmp_path):
    from transformers import AutoModelForSequenceClassification

    from workbench.tasks import load_task
    from workbench.train.classify import build_classifier

    spec = load_task("support_intents")
    labels = spec.label_names
    seeds = {lab: [r["text"] for r in spec.seed_examples if r["label"] == lab] for lab in labels}
    model, tok, pooling = build_classifier(get_model("minilm-l6").path(), labels, "full", 0, 0, 0.0, torch.float32,
                                           prototypes=seeds)
    assert pooling == "mean" and type(model).__name__ == "MeanPoolingBertForSequenceClassification"
    model.eval()
    texts, gold = zip(*[(t, lab) for lab in labels for t in seeds[lab]])
    with torch.no_grad():
        logits = model(**tok(list(texts), padding=True, return_tensors="pt")).logits
        alone = model(**tok(texts[:1], return_tensors="pt")).logits
    hits = sum(labels[i] == lab for i, lab in zip(logits.argmax(-1).tolist(), gold))
    assert hits >= 0.9 * len(texts)  # before any training: a nearest-prototype classifier of the seeds
    assert torch.allclose(alone, logits[:1], atol=1e-5)  # padding does not move the mean

    model.save_pretrained(tmp_path)  # the custom-model mechanism: code and auto_map travel with the weights
    assert (tmp_path / "mean_pooling.py").is_file()
    again = AutoModelForSequenceClassification.from_pretrained(tmp_path, trust_remote_code=True).eval()
    with torch.no_grad():
        assert torch.allclose(again(**tok(texts[:1], return_tensors="pt")).logits, alone, atol=1e-5)
