"""A finished run's ``run.json``, typed: :class:`RunInfo`, and finding runs by it.

``run.json`` is written last by :func:`workbench.train.run_train` (its presence means the run
is complete and frozen) and read by the card, ``load_student`` and Evaluate. Every field is
here, with what it means; :meth:`RunInfo.read` validates the file, so a corrupt or
hand-edited one fails with the file and the field named.

Runs live in ``<home>/runs/<task>/train/<run-id>/`` (:func:`workbench.store.run_folder`).

Example:
    >>> from workbench.train.info import RunInfo, latest_finished
    >>> info = RunInfo.read(run_dir)                               # doctest: +SKIP
    >>> info.student, info.hyperparameters.max_length              # doctest: +SKIP
    ('minilm-l6', 128)
    >>> latest_finished("support_intents", "classify")             # doctest: +SKIP
    [PosixPath('.workbench/runs/support_intents/train/minilm-l6-synthetic-v001-1a2b3c4d')]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from workbench.records import JsonRecord
from workbench.manifest import ReviewedManifest, SyntheticManifest
from workbench.store import DatasetVersion, run_folder
from workbench.tasks import TaskSpec
from workbench.train.data import SEEDS_ONLY, TrainRows, rows_hash

STAGE = "train"


class DatasetLineage(JsonRecord):
    """The dataset version the run trained on (``dataset``)."""

    kind: str = Field(description="'synthetic', 'reviewed', or 'seeds' (the task's seed examples alone).")
    version: str = Field(description="'v001' and up; for 'seeds', the first 8 hex of the seeds' sha256.")
    path: str = Field(description="The version folder, as it was when the run trained.")
    data_sha256: str | None = Field(None, description="The version's data hash (its manifest's).")
    teacher: str | None = Field(None, description="The teacher, from the manifest or the rows (reviewed data).")
    spec_hash: str | None = Field(None, description="Task-spec hash the data was made under.")
    parent_version: str | None = None
    source_versions: list[str] | None = Field(None, description="Reviewed data: the synthetic versions it came from.")
    pool_versions: list[str] | None = Field(None, description="Reviewed data: the unlabeled-pool versions its real "
                                            "messages came from.")

    @classmethod
    def of_version(cls, version: DatasetVersion, data: TrainRows) -> "DatasetLineage":
        """A dataset version and what its manifest (or its rows) say made it."""
        manifest = version.manifest
        synthetic, reviewed = isinstance(manifest, SyntheticManifest), isinstance(manifest, ReviewedManifest)
        return cls(kind=version.kind, version=version.version, path=str(version.path),
                   data_sha256=manifest.data_sha256,
                   teacher=(manifest.teacher if synthetic else None) or ", ".join(data.teachers) or None,
                   spec_hash=manifest.spec_hash, parent_version=manifest.parent_version,
                   source_versions=(manifest.parent_synthetic_versions if reviewed else None) or data.sources or None,
                   **({"pool_versions": data.pools} if data.pools else {}))

    @classmethod
    def of_seeds(cls, spec: TaskSpec, rows: list[dict[str, str]]) -> "DatasetLineage":
        """A seeds-only run's data: kind 'seeds', the seeds' hash as its version (other seeds, another
        run id), the seeds file (or the task.yaml holding them inline) as its path."""
        sha = rows_hash(rows)
        path = spec._resolve(spec.seeds) if isinstance(spec.seeds, str) else spec.folder / "task.yaml"
        return cls(kind=SEEDS_ONLY, version=sha[:8], path=str(path), data_sha256=sha, teacher=None,
                   spec_hash=spec.spec_hash(), parent_version=None, source_versions=None)


class Hyperparameters(JsonRecord):
    """Everything that decided the model (``hyperparameters``); in the order the card lists them."""

    method: Literal["lora", "full", "setfit"]
    epochs: int
    learning_rate: float
    batch_size: int = Field(description="Per-step batch asked for (on a CPU); see effective_batch_size.")
    validation_fraction: float
    max_length: int = Field(description="Tokens per example; also the limit load_student tokenizes to.")
    seed: int
    max_steps: int | None = None
    warmup_ratio: float
    weight_decay: float
    early_stopping_patience: int
    checkpoint_every: int | None = None
    class_weights: bool = Field(description="Loss weighted by inverse label frequency (classification only).")
    train_on_seeds: bool | None = Field(None, description="Task seed examples added to the training rows.")
    real_weight: int | None = Field(None, description="Times a reviewed real message counts (data with real rows).")
    seed_weight: int | None = Field(None, description="Times a seed counts against a synthetic row.")
    max_synthetic_per_real: float | None = Field(None, description="Synthetic rows per real row of a label at "
                                                 "most (0 or None: no cap).")
    pseudo_labels: str | None = Field(None, description="The pseudo-label version added, weighted like synthetic rows.")
    setfit_iterations: int | None = Field(None, description="SetFit runs only: pairs per training row = 2 x this.")
    head_c: float | None = Field(None, description="SetFit runs only: the logistic-regression head's inverse "
                                 "regularisation strength C.")
    lora_r: int | None = Field(None, description="LoRA runs only.")
    lora_alpha: int | None = Field(None, description="LoRA runs only.")
    lora_dropout: float | None = Field(None, description="LoRA runs only.")
    effective_batch_size: int | None = Field(None, description="The batch the hardware plan chose.")


class RowCounts(JsonRecord):
    """Rows the run used (``rows``)."""

    train: int
    validation: int
    seeds_added: int | None = Field(None, description="Task seed examples added to the training rows.")
    dropped: dict[str, int] = Field(description="Rows left out, per reason (discarded, too_long, over_cap, "
                                    "in_validation, ...).")
    validation_source: str | None = Field(None, description="'validation file', 'real rows', 'all rows' (synthetic "
                                          "ones included: a warning) or 'none' (workbench/train/mix.py).")
    real_in_training: int | None = Field(None, description="Real rows (seeds, reviewed real messages) in training, "
                                         "before weighting.")
    synthetic_in_training: int | None = Field(None, description="Synthetic rows in training, after the cap.")
    label_counts: dict[str, int] | None = Field(None, description="Classification: rows per label.")
    real: int | None = Field(None, description="Reviewed real messages among the rows (before weighting).")
    pseudo_labelled: int | None = Field(None, description="Pool messages the student labelled itself "
                                        "(decided_by: model).")


class RunInfo(JsonRecord):
    """The contents of a finished run's ``run.json``."""

    task: str
    type: Literal["classification", "generation"] = Field(description="The task's type.")
    objective: Literal["classify", "sft"] = Field(description="Sequence classification, or answer-only SFT.")
    method: Literal["lora", "full", "setfit"] = Field(description="'lora', 'full' or 'setfit' (contrastive "
                                                      "encoder tuning, then a logistic-regression head).")
    run_id: str = Field(description="<student>-<kind>-<version>-<hash of everything that decides the model>.")
    run_dir: str = Field(description="The run folder when it was trained.")
    student: str = Field(description="Student name (or local folder) as resolved.")
    student_path: str = Field(description="The base model's folder (load_student(adapter=True) loads it).")
    labels: list[str] | None = Field(description="Classification: the head's labels, in order; None for SFT.")
    pooling: str | None = Field(None, description="Classifier pooling, 'mean' or 'default'; None for SFT and "
                                                  "runs from before mean pooling.")
    dataset: DatasetLineage
    spec_hash: str = Field(description="Task-spec hash at training time.")
    hyperparameters: Hyperparameters
    rows: RowCounts
    metrics: dict[str, int | float] = Field(description="Final validation figures (eval_loss, eval_macro_f1, ...); "
                                                  "empty without a validation split.")
    train: dict[str, int | float] = Field(description="The Trainer's own training figures (train_runtime, ...).")
    steps: int = Field(description="Optimizer steps in all.")
    resumed_from_step: int | None = Field(description="The checkpoint step the last process resumed from.")
    trainable_parameters: int
    total_parameters: int
    hardware: dict[str, Any] = Field(description="The hardware plan: device, batch, bf16, description.")
    wall_seconds: float = Field(description="Wall time of the process that finished the run.")
    finished: str = Field(description="UTC time the run finished (ISO 8601).")
    workbench_version: str

    @property
    def seeds_only(self) -> bool:
        """Trained on the task's seed examples alone (``TrainConfig(dataset="seeds")``): the control run."""
        return self.dataset.kind == SEEDS_ONLY

    @classmethod
    def read(cls, path: Path) -> "RunInfo":
        """The validated ``run.json`` of a run folder (or of that file itself)."""
        path = Path(path)
        return super().read(path / "run.json" if path.is_dir() else path)


def train_runs(task: str) -> list[Path]:
    """Folders of the task's finished train runs (those with a run.json), sorted by name."""
    return sorted(p.parent for p in run_folder(task, STAGE).glob("*/run.json"))


def latest_finished(task: str, objective: str = "classify") -> list[Path]:
    """The latest finished run with ``objective`` (classify, sft) of each student of ``task``."""
    latest: dict[str, tuple[str, Path]] = {}
    for run_dir in train_runs(task):
        info = RunInfo.read(run_dir)
        if info.objective != objective:
            continue
        if info.student not in latest or info.finished >= latest[info.student][0]:
            latest[info.student] = (info.finished, run_dir)
    return [p for _, p in latest.values()]
