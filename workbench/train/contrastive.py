"""SetFit: a few-shot student that tunes its sentence encoder on pairs of rows, then fits a head.

``TrainConfig(method="setfit")`` trains an encoder student (MiniLM) in two steps, as the
`setfit` library does: the encoder learns, by a cosine-similarity loss on pairs of training
rows (same label: similar, other label: not), to put messages of one intent together; then a
logistic regression is fitted on the tuned encoder's mean-pooled vectors of the same rows.
The library's ``Trainer.train_embeddings`` runs the first step (sentence-transformers' trainer
underneath: no loop written here); the second is scikit-learn.

The head is then written into the workbench's own mean-pooled classifier
(:class:`~workbench.train.mean_pooling.MeanPoolingBertForSequenceClassification`): its encoder
is the tuned one and its linear layer the regression's coefficients, so ``logits`` are the
regression's decision function and their softmax its probabilities. A finished run is
therefore a ``model/`` folder like a ``method='full'`` run's: ``load_student``, ``workbench
predict``, Evaluate's ``finetuned`` strategy, the out-of-scope gate and the ONNX export read it
unchanged. The head sees unnormalised vectors (that is what the classifier computes); on
clinc_bank's validation rows that scored as normalised ones do (0.953 / 0.955 macro-F1).

No checkpoints: the method takes a minute or two, so a killed run starts it again.

Why these defaults (clinc_bank: 150 seeds, 30 intents; macro-F1 on its 600 validation rows,
never the held-out ones; 2-core CPU shared with other jobs): logistic regression on frozen
MiniLM vectors of the seeds 0.913 (C=1) / 0.941 (C=10); SetFit, 1 epoch, batch 16, head
C=10: 1 iteration (300 pairs) 0.955, 2 iterations at 5e-5 0.960 (25 s of encoder training),
3 at 2e-5 0.953, 5 at 2e-5 0.950 (68 s). Differences under a point are noise on 600 rows;
more pairs did not help, so 2 iterations (4 pairs per row) at 5e-5 for 1 epoch.

Example:
    >>> from workbench.train import TrainConfig, run_train
    >>> run = run_train(TrainConfig(task="clinc_bank", method="setfit", dataset="seeds"))  # doctest: +SKIP
    >>> run.info.method, round(run.metrics["eval_macro_f1"], 2)                             # doctest: +SKIP
    ('setfit', 0.96)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.models import models_for
from workbench.train.parts import Fitted

SETFIT_DEFAULTS: dict[str, Any] = {"epochs": 1, "learning_rate": 5e-5, "setfit_iterations": 2, "head_c": 10.0}
SETFIT_INSTALL = "pip install 'setfit>=1.2,<1.3'"


def setfit_refusal(student: str, task: str, decoder: bool) -> str:
    """Why a run cannot be SetFit: a decoder student, or a task that is not classification."""
    encoders = ", ".join(m.student for m in models_for("student") if not m.decoder)
    if decoder:
        return (f"method='setfit' tunes a sentence encoder; {student!r} is a decoder. Use an encoder student "
                f"({encoders}) or method='lora'")
    return f"method='setfit' trains classifiers; {task!r} is a generation task: use method='lora' with a decoder"


def tune_encoder(student_path: Path, texts: list[str], labels: list[str], hp: dict[str, Any], hardware, tracker):
    """The contrastive step: a SetFit model whose encoder was tuned on pairs of ``texts``."""
    try:
        from setfit import SetFitModel, Trainer, TrainingArguments
    except ImportError as err:
        raise ConfigError(f"method='setfit' needs the setfit library ({err}); {SETFIT_INSTALL}, or use "
                          "method='lora'") from err
    from transformers import PrinterCallback, ProgressCallback

    model = SetFitModel.from_pretrained(str(student_path), local_files_only=True, device=hardware.device)
    model.model_body.max_seq_length = hp["max_length"]
    pairs = 2 * hp["setfit_iterations"] * len(texts)
    total = hp["max_steps"] or -(-pairs // hardware.batch_size) * hp["epochs"]
    args = TrainingArguments(
        output_dir=str(Path(tracker.run_dir) / "checkpoints"), save_strategy="no", report_to="none",
        batch_size=hardware.batch_size, num_epochs=hp["epochs"], num_iterations=hp["setfit_iterations"],
        body_learning_rate=hp["learning_rate"], warmup_proportion=hp["warmup_ratio"],
        max_steps=hp["max_steps"] or -1, max_length=hp["max_length"], seed=hp["seed"],
        logging_steps=max(1, min(10, total // 20)), show_progress_bar=False)
    trainer = Trainer(model=model, args=args, callbacks=[tracker])  # the tracker draws the bar and the loss
    for own in (PrinterCallback, ProgressCallback):  # the tracker's bar instead of a dict printed per log line
        trainer.st_trainer.remove_callback(own)
    trainer.train_embeddings(texts, labels)
    return model, trainer.st_trainer.state


def fit(spec, student_path: Path, hp: dict[str, Any], train_rows: list[dict], val_rows: list[dict], hardware,
        tracker) -> Fitted:
    """SetFit for ``run_train``: the tuned encoder with a logistic-regression head, as a classifier."""
    import time

    import torch
    from sklearn.linear_model import LogisticRegression

    from workbench.train.classify import build_classifier

    started = time.perf_counter()
    labels = spec.label_names
    texts, gold = [r["text"] for r in train_rows], [r["label"] for r in train_rows]
    tuned, state = tune_encoder(student_path, texts, gold, hp, hardware, tracker)
    classifier, tok, pooling = build_classifier(student_path, labels, "full", 0, 0, 0.0, torch.float32,
                                                max_length=hp["max_length"])
    missing, _ = classifier.bert.load_state_dict(tuned.model_body[0].auto_model.state_dict(), strict=False)
    if missing:  # a student whose encoder is not BERT-shaped: the head would sit on untuned weights
        raise ConfigError(f"method='setfit': the tuned encoder of {student_path} lacks {missing[:3]}; "
                          "use method='lora' for this student")
    classifier.to(hardware.device).eval()
    x = embed_rows(classifier, tok, texts, hp["max_length"], hardware.device)
    head = LogisticRegression(C=hp["head_c"], max_iter=3000, random_state=hp["seed"],
                              class_weight="balanced" if hp["class_weights"] else None).fit(x, gold)
    write_head(classifier, head, labels)
    metrics = validation_metrics(classifier, tok, val_rows, labels, hp["max_length"], hardware.device)
    return Fitted(model=classifier.cpu(), tokenizer=tok, metrics=metrics, pooling=pooling, steps=state.global_step,
                  train_metrics={"train_runtime": round(time.perf_counter() - started, 3),
                                 "train_pairs": 2 * hp["setfit_iterations"] * len(texts)},
                  train_rows=len(train_rows), validation_rows=len(val_rows))


def embed_rows(classifier, tok, texts: list[str], max_length: int, device: str, batch_size: int = 64):
    """The classifier's own mean-pooled vectors of ``texts`` (what its head will see), as numpy."""
    import torch

    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            enc = tok(texts[i:i + batch_size], truncation=True, max_length=max_length, padding=True,
                      return_tensors="pt").to(device)
            out.append(classifier.embed(enc["input_ids"], enc["attention_mask"], enc.get("token_type_ids")).cpu())
    return torch.cat(out).numpy()


def write_head(classifier, head, labels: list[str]) -> None:
    """The regression's coefficients as the classifier's linear layer, rows in ``labels`` order;
    a label without training rows gets a logit far below the others."""
    import numpy as np
    import torch

    weight = np.zeros((len(labels), head.coef_.shape[1]), dtype=np.float32)
    bias = np.full(len(labels), -1e4, dtype=np.float32)
    classes = [str(c) for c in head.classes_]
    if len(classes) == 2:  # scikit-learn keeps one row for two classes: logits (0, z) give its sigmoid
        coef, intercept = np.vstack([np.zeros_like(head.coef_[0]), head.coef_[0]]), np.array([0.0, head.intercept_[0]])
    else:
        coef, intercept = head.coef_, head.intercept_
    for row, name in enumerate(classes):
        weight[labels.index(name)], bias[labels.index(name)] = coef[row], intercept[row]
    with torch.no_grad():
        classifier.classifier.weight.copy_(torch.from_numpy(weight))
        classifier.classifier.bias.copy_(torch.from_numpy(bias))


def validation_metrics(classifier, tok, rows: list[dict], labels: list[str], max_length: int, device: str
                       ) -> dict[str, float]:
    """eval_loss (cross-entropy), eval_accuracy and eval_macro_f1 of the finished classifier."""
    import numpy as np
    import torch
    from sklearn.metrics import accuracy_score, f1_score

    if not rows:
        return {}
    logits = torch.from_numpy(embed_rows(classifier, tok, [r["text"] for r in rows], max_length, device))
    with torch.inference_mode():
        logits = classifier.classifier(logits.to(device)).float().cpu()
    gold = torch.tensor([labels.index(r["label"]) for r in rows])
    pred = np.asarray(logits.argmax(-1))
    return {"eval_loss": round(float(torch.nn.functional.cross_entropy(logits, gold)), 6),
            "eval_accuracy": round(float(accuracy_score(gold, pred)), 6),
            "eval_macro_f1": round(float(f1_score(gold, pred, average="macro", zero_division=0)), 6)}
