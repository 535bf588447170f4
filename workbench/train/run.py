"""The Train stage: a dataset version + a student -> a fine-tuned model with its card.

``run_train`` is what the CLI, the panels, the notebooks and the tests all call. It picks
the data (latest reviewed version, else latest synthetic; ``dataset="seeds"``: the task's seeds
alone), chooses validation rows (real ones), caps and weighs the training mix (:mod:`workbench.train.mix`),
trains LoRA (or full, for encoders) with the transformers Trainer, evaluates each epoch,
stops early, and exports under ``<home>/runs/<task>/train/<run-id>/``:
``adapter/``, ``model/`` (merged, safetensors, with tokenizer), ``metrics.json``,
``log.jsonl``, ``tensorboard/``, ``loss.png``, ``run.json`` and ``README.md`` (the card).

What differs between classification and SFT (model, data encoding, collator, Trainer
class, metrics) is each objective's ``build_trainer`` (:mod:`workbench.train.parts`);
everything else is here.

The run id is the student, the dataset version and a hash of everything that decides the
model (task spec, data hash, student, hyperparameters, seed). So:

- the same command after a kill (even SIGKILL) finds the same folder and resumes from its
  last complete checkpoint;
- the same command after a finished run returns that run unchanged: a run is frozen;
- the same command started while the run works waits for it (an OS lock on the run,
  :func:`workbench.locks.run_lock`), then returns it.

Example:
    >>> from workbench.train import TrainConfig, run_train
    >>> result = run_train(TrainConfig(task="support_intents", student="minilm-l6"))  # doctest: +SKIP
    >>> result.metrics["eval_macro_f1"]                                               # doctest: +SKIP
    0.87
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from markupsafe import escape

from workbench import __version__
from workbench.errors import ConfigError
from workbench.html import html_table
from workbench.locks import run_lock
from workbench.models import models_for
from workbench.store import run_folder
from workbench.tasks import load_task
from workbench.train.config import TrainConfig
from workbench.train.data import (SEEDS_ONLY, TrainDataError, add_pseudo_labels, add_seeds, load_rows, resolve_dataset,
                                  rows_hash, seed_rows)
from workbench.train.hardware import HardwareChoice
from workbench.train.info import STAGE, DatasetLineage, RunInfo
from workbench.train.mix import mix_rows
from workbench.train.parts import Fitted
from workbench.train.students import resolve_student

DEFAULT_MAX_LENGTH = {"classify": 128, "sft": 384}


@dataclass
class TrainResult:
    """A finished run; shows as a table in a notebook."""

    run_dir: Path
    info: RunInfo
    reused: bool = False
    steps_this_run: int = 0

    @property
    def run_id(self) -> str:
        return self.run_dir.name

    @property
    def model_dir(self) -> Path:
        return self.run_dir / "model"

    @property
    def adapter_dir(self) -> Path | None:
        path = self.run_dir / "adapter"
        return path if path.is_dir() else None

    @property
    def card_path(self) -> Path:
        return self.run_dir / "README.md"

    @property
    def metrics(self) -> dict[str, float]:
        return self.info.metrics

    @property
    def resumed_from_step(self) -> int | None:
        return self.info.resumed_from_step

    def to_dict(self) -> dict[str, Any]:
        info, ds = self.info, self.info.dataset
        return {"task": info.task, "run_id": self.run_id, "run_dir": str(self.run_dir),
                "student": info.student, "objective": info.objective, "method": info.method,
                "dataset": f"{ds.kind}/{ds.version}", "model_dir": str(self.model_dir),
                "adapter_dir": str(self.adapter_dir) if self.adapter_dir else None, "metrics": self.metrics,
                "steps": info.steps, "wall_seconds": info.wall_seconds, "reused": self.reused,
                "resumed_from_step": self.resumed_from_step, "steps_this_run": self.steps_this_run}

    def _repr_html_(self) -> str:
        facts = {k: v for k, v in self.to_dict().items() if k != "metrics"} | self.metrics
        fmt = lambda k, v: f"{v:.4g}" if k in self.metrics else str(v)  # noqa: E731
        return f"<b>train run {escape(self.run_id)}</b>" + html_table(facts, fmt=fmt)


def _run_key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:8]


def last_checkpoint(folder: Path) -> Path | None:
    """The newest checkpoint that was written completely.

    The Trainer writes ``trainer_state.json`` last, so a checkpoint without it was cut off
    by a kill and is skipped (resuming from it would fail on a half-written file).
    """
    found = []
    for p in folder.glob("checkpoint-*"):
        if p.name.split("-")[-1].isdigit() and (p / "trainer_state.json").is_file():
            try:  # a kill can land while the state file itself is being written
                json.loads((p / "trainer_state.json").read_text())
            except ValueError:
                continue
            found.append((int(p.name.split("-")[-1]), p))
    return max(found)[1] if found else None


def _hyperparameters(cfg: TrainConfig, spec, objective: str) -> dict[str, Any]:
    d = spec.train
    r = cfg.lora_r or d.lora_r
    if cfg.method == "setfit":  # the task's epochs and learning rate are LoRA's; SetFit has its own defaults
        from workbench.train.contrastive import SETFIT_DEFAULTS as d_fit

        d = d.model_copy(update={"epochs": d_fit["epochs"], "learning_rate": d_fit["learning_rate"]})
    hp = {"method": cfg.method, "epochs": cfg.epochs or d.epochs, "learning_rate": cfg.learning_rate or d.learning_rate,
          "batch_size": cfg.batch_size or d.batch_size,
          "validation_fraction": d.validation_fraction if cfg.validation_fraction is None else cfg.validation_fraction,
          "max_length": cfg.max_length or DEFAULT_MAX_LENGTH[objective], "seed": cfg.seed,
          "max_steps": cfg.max_steps, "warmup_ratio": cfg.warmup_ratio, "weight_decay": cfg.weight_decay,
          "early_stopping_patience": cfg.early_stopping_patience, "checkpoint_every": cfg.checkpoint_every,
          "class_weights": cfg.class_weights and objective == "classify", "train_on_seeds": cfg.train_on_seeds,
          "seed_weight": cfg.seed_weight or d.seed_weight,
          "max_synthetic_per_real": d.max_synthetic_per_real if cfg.max_synthetic_per_real is None
          else cfg.max_synthetic_per_real}
    if cfg.method == "lora":
        hp.update(lora_r=r, lora_alpha=cfg.lora_alpha or 2 * r, lora_dropout=cfg.lora_dropout)
    if cfg.method == "setfit":
        hp.update(setfit_iterations=cfg.setfit_iterations or d_fit["setfit_iterations"], head_c=d_fit["head_c"])
    return hp


def run_train(cfg: TrainConfig, on_log: Callable[[dict], None] | None = None) -> TrainResult:
    """Train (or resume, or return the frozen) run that ``cfg`` describes.

    ``on_log`` (optional) is called with each logged dict (step, epoch, loss, eval_loss...):
    a panel's live loss plot. It is not called for a frozen run.
    """
    started = time.perf_counter()
    spec = load_task(cfg.task)
    student = resolve_student(cfg.student or spec.train.student)
    objective = "classify" if spec.type == "classification" else "sft"
    if cfg.method == "setfit" and (student.decoder or objective != "classify"):
        from workbench.train.contrastive import setfit_refusal

        raise ConfigError(setfit_refusal(student.name, spec.name, student.decoder))
    if objective == "sft" and not student.decoder:
        raise ConfigError(f"student {student.name!r} is an encoder and cannot generate text for the generation task "
                          f"{spec.name!r}; use a decoder: {', '.join(m.student for m in models_for('student') if m.decoder)}")
    if cfg.method == "full" and student.decoder:
        raise ConfigError(f"method='full' is for encoders; train {student.name!r} with method='lora'")
    if cfg.dataset == SEEDS_ONLY:
        data = seed_rows(spec)
        lineage = DatasetLineage.of_seeds(spec, data.rows)
    else:
        version = resolve_dataset(spec.name, cfg.dataset)
        data = load_rows(version, spec)
        lineage = DatasetLineage.of_version(version, data)
    hp = _hyperparameters(cfg, spec, objective)
    pseudo = None
    if cfg.pseudo_labels:
        if objective != "classify":
            raise ConfigError("pseudo_labels: only classification tasks have them; train without pseudo_labels")
        rows, pseudo, data.pseudo_labelled = add_pseudo_labels(data.rows, spec)
        data.pseudo_rows = rows[len(data.rows):]
        hp["pseudo_labels"] = pseudo  # part of the run key: other pseudo-labels, another run
    if data.real:  # only then: a run key of data without real rows stays what it was
        hp["real_weight"] = cfg.real_weight
    kind, name = lineage.kind, lineage.version
    key_parts = {"spec": spec.spec_hash(), "data": lineage.data_sha256, "student": student.name,
                 "dataset": f"{kind}/{name}", "hp": hp, "device": cfg.device}
    if hp["validation_fraction"] > 0 and spec.validation_examples():  # other validation rows, another run
        key_parts["validation"] = rows_hash(spec.validation_examples())
    key = _run_key(key_parts)
    run_dir = run_folder(spec.name, STAGE, f"{student.slug}-{kind}-{name}-{key}", create=True)
    with run_lock(spec.name, STAGE, run_dir.name):  # the same command started meanwhile waits here, then finds run.json
        if (run_dir / "run.json").is_file():  # frozen: a finished run is returned, never retrained
            return TrainResult(run_dir, RunInfo.read(run_dir), reused=True)
        return _train(cfg, spec, student, objective, lineage, data, hp, run_dir, started, on_log)


def _train(cfg: TrainConfig, spec, student, objective: str, lineage: DatasetLineage, data, hp: dict[str, Any],
           run_dir: Path, started: float, on_log: Callable[[dict], None] | None) -> TrainResult:
    """The training run itself, under the run lock: train, evaluate, export, write run.json last."""
    from transformers import set_seed

    from workbench.train.hardware import choose_hardware
    from workbench.train.lora import trainable_parameters
    from workbench.train.parts import METHODS, method_fitter
    from workbench.train.tracking import RunTracker

    hardware = choose_hardware(cfg.device, hp["batch_size"])
    rows, seeds_added = add_seeds(data.rows, spec) if cfg.train_on_seeds else (data.rows, 0)
    mix = mix_rows(rows, spec, fraction=hp["validation_fraction"], seed=cfg.seed,
                   max_synthetic_per_real=hp["max_synthetic_per_real"], seed_weight=hp["seed_weight"],
                   real=data.real, real_weight=hp.get("real_weight", 1), extra=data.pseudo_rows)
    train_rows, val_rows = mix.train, mix.validation
    set_seed(cfg.seed)  # before the model: LoRA matrices and the new head are initialised from it
    path = student.path()
    tracker = RunTracker(run_dir, f"{spec.name} / {student.slug}", cfg.progress, on_log)
    if cfg.method in METHODS:  # its own library's loop, no checkpoints: a killed run starts again
        _trim_log(run_dir, None)
        fitted = method_fitter(cfg.method)(spec, path, hp, train_rows, val_rows, hardware, tracker)
    else:
        fitted = _fit_with_trainer(cfg, spec, objective, path, hp, hardware, train_rows, val_rows, run_dir, tracker)
    metrics = fitted.metrics

    trainable, total_params = trainable_parameters(fitted.model)
    _export(fitted.model, fitted.tokenizer, run_dir, cfg.method)
    if objective == "classify":
        from workbench.train.scope import fit_scope

        scope = fit_scope(run_dir, spec, train_rows, val_rows)  # None unless the task has out_of_scope on
        if scope is not None:
            metrics.update({"out_of_scope_threshold": round(scope.threshold, 6),
                            "out_of_scope_validation_in_scope_loss": round(scope.validation_in_scope_loss, 6)})
    dropped = {**data.dropped, **mix.dropped,
               **({"too_long": fitted.dropped_too_long} if fitted.dropped_too_long else {})}
    info = RunInfo(
        task=spec.name, type=spec.type, objective=objective, method=cfg.method, run_id=run_dir.name,
        run_dir=str(run_dir), student=student.name, student_path=str(path),
        labels=spec.label_names if objective == "classify" else None, pooling=fitted.pooling,
        dataset=lineage, spec_hash=spec.spec_hash(),
        hyperparameters={**hp, "effective_batch_size": hardware.batch_size},
        rows={"train": fitted.train_rows, "validation": fitted.validation_rows,
              "seeds_added": seeds_added, "dropped": dropped, "label_counts": data.label_counts or None,
              "validation_source": mix.validation_source, "real_in_training": mix.real,
              "synthetic_in_training": mix.synthetic,
              **({"real": len(data.real)} if data.real else {}),
              **({"pseudo_labelled": data.pseudo_labelled} if hp.get("pseudo_labels") else {})},
        metrics=metrics, train=fitted.train_metrics, steps=fitted.steps, resumed_from_step=fitted.resumed_from_step,
        trainable_parameters=trainable, total_parameters=total_params, hardware=hardware.to_dict(),
        wall_seconds=round(time.perf_counter() - started, 1),
        finished=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), workbench_version=__version__)
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    from workbench.train.card import write_card

    write_card(run_dir, info)
    if not cfg.keep_checkpoints:
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    tmp = run_dir / ".run.json.partial"
    tmp.write_text(json.dumps(info.to_json_dict(), indent=2, default=str))
    tmp.replace(run_dir / "run.json")  # last: its presence means the run is complete and frozen
    return TrainResult(run_dir, info, steps_this_run=tracker.steps_this_process)


def _fit_with_trainer(cfg: TrainConfig, spec, objective: str, path: Path, hp: dict[str, Any],
                      hardware: HardwareChoice, train_rows: list[dict], val_rows: list[dict], run_dir: Path,
                      tracker) -> Fitted:
    """LoRA or full fine-tuning with the transformers Trainer: the objective's parts, early
    stopping on validation loss, resumed from the last complete checkpoint."""
    from transformers import EarlyStoppingCallback, PrinterCallback

    from workbench.train.parts import trainer_builder

    parts = trainer_builder(objective)(spec, path, hp, train_rows, val_rows)
    train_ds, val_ds = parts.train_dataset, parts.eval_dataset
    if len(train_ds) == 0:
        raise TrainDataError(f"no training rows fit max_length={hp['max_length']}; raise max_length")

    args = _training_args(cfg, hp, hardware, run_dir, len(train_ds), val_ds is not None, parts.eval_loss_only)
    callbacks = [tracker] + ([EarlyStoppingCallback(cfg.early_stopping_patience)] if val_ds is not None else [])
    trainer = parts.trainer_class(model=parts.model, args=args, train_dataset=train_ds, eval_dataset=val_ds,
                                  data_collator=parts.collator, processing_class=parts.tokenizer,
                                  callbacks=callbacks, **parts.trainer_kwargs)
    trainer.remove_callback(PrinterCallback)  # RunTracker shows progress; no dict printed per log line
    resume = last_checkpoint(run_dir / "checkpoints")
    _trim_log(run_dir, resume)
    train_out = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    # Quality figures only: timings of the final evaluation say nothing about the model.
    metrics = {k: round(v, 6) for k, v in trainer.evaluate().items() if isinstance(v, (int, float))
               and "runtime" not in k and "per_second" not in k} if val_ds is not None else {}
    return Fitted(model=trainer.model, tokenizer=parts.tokenizer, metrics=metrics,
                  train_metrics={k: v for k, v in train_out.metrics.items() if isinstance(v, (int, float))},
                  steps=trainer.state.global_step, train_rows=len(train_ds),
                  validation_rows=len(val_ds) if val_ds is not None else 0, pooling=parts.pooling,
                  resumed_from_step=int(resume.name.split("-")[-1]) if resume else None,
                  dropped_too_long=parts.dropped_too_long)


def _training_args(cfg: TrainConfig, hp: dict[str, Any], hardware: HardwareChoice, run_dir: Path, train_rows: int,
                   validate: bool, loss_only: bool):
    """The Trainer's arguments: checkpoints per epoch (or every ``checkpoint_every`` steps), the
    best checkpoint by validation loss, length-grouped batches, no reporting but our tracker."""
    from transformers import TrainingArguments

    per_epoch = -(-train_rows // hardware.batch_size)
    total = hp["max_steps"] or per_epoch * hp["epochs"]
    strategy = "steps" if cfg.checkpoint_every else "epoch"
    return TrainingArguments(
        output_dir=str(run_dir / "checkpoints"), num_train_epochs=hp["epochs"], max_steps=hp["max_steps"] or -1,
        per_device_train_batch_size=hardware.batch_size, per_device_eval_batch_size=hardware.batch_size * 2,
        learning_rate=hp["learning_rate"], warmup_steps=hp["warmup_ratio"], weight_decay=hp["weight_decay"],
        eval_strategy=strategy if validate else "no", save_strategy=strategy,
        eval_steps=cfg.checkpoint_every, save_steps=cfg.checkpoint_every, save_total_limit=2,
        load_best_model_at_end=validate, metric_for_best_model="eval_loss", greater_is_better=False,
        logging_steps=max(1, min(10, total // 20)), seed=cfg.seed, data_seed=cfg.seed, report_to="none",
        disable_tqdm=True, use_cpu=hardware.device == "cpu", bf16=hardware.bf16, dataloader_pin_memory=hardware.device == "cuda",
        train_sampling_strategy="group_by_length", length_column_name="length", remove_unused_columns=False,
        label_names=["labels"], prediction_loss_only=loss_only)


def _trim_log(run_dir: Path, resume: Path | None) -> None:
    """Drop log lines written after the checkpoint we resume from: those steps run again."""
    log = run_dir / "log.jsonl"
    if not log.is_file():
        return
    step = int(resume.name.split("-")[-1]) if resume else 0
    keep = [line for line in log.read_text().splitlines() if line.strip() and json.loads(line)["step"] <= step]
    log.write_text("".join(line + "\n" for line in keep))


def _export(model, tok, run_dir: Path, method: str) -> None:
    """adapter/ (LoRA) and model/ (merged weights, safetensors), each with the tokenizer."""
    for name in ("adapter", "model"):
        shutil.rmtree(run_dir / name, ignore_errors=True)  # a kill during a previous export
    if method == "lora":
        model.save_pretrained(str(run_dir / "adapter"))
        tok.save_pretrained(str(run_dir / "adapter"))
        model = model.merge_and_unload()
    model.save_pretrained(str(run_dir / "model"), safe_serialization=True)
    tok.save_pretrained(str(run_dir / "model"))
