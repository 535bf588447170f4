"""The students a service holds: one :class:`Served` per task, loaded once at startup.

A task is served from its latest finished train run (``workbench.train``), or from that run's
export in the format asked for (``--format onnx-int8``: the export must exist, made by
``workbench export``), or from a run or export folder named for it (``--model TASK=PATH``).
Every loaded model has the same duck type: ``.objective`` ("classify" or "sft"), ``.labels``,
``.predict_proba(texts)``, ``.predict(texts, max_new_tokens=...)``, ``.close()`` (optional).

Example:
    >>> served = load_served(ServeConfig(tasks=["support_intents"]))        # doctest: +SKIP
    >>> served["support_intents"].objective, served["support_intents"].source  # doctest: +SKIP
    ('classify', '.workbench/runs/support_intents/train/minilm-l6-synthetic-v001-1a2b3c4d')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.serve.config import ServeConfig
from workbench.settings import get_settings
from workbench.train.info import RunInfo, latest_finished
from workbench.train.predict import find_run


class ServeError(WorkbenchError, ValueError):
    """A service that cannot start as asked: a task without a run, a missing export, a bad router."""


@dataclass
class Served:
    """A loaded student and where it came from."""

    task: str
    model: Any
    source: str = ""
    format: str = "pytorch"

    @property
    def objective(self) -> str:
        return self.model.objective

    @property
    def labels(self) -> list[str] | None:
        return getattr(self.model, "labels", None)

    def describe(self) -> dict[str, Any]:
        return {"task": self.task, "objective": self.objective, "format": self.format, "source": self.source,
                "labels": self.labels}

    def close(self) -> None:
        close = getattr(self.model, "close", None)
        if close:
            close()


def latest_run(task: str) -> Path:
    """The task's most recently finished train run, of any student and objective."""
    runs = latest_finished(task, "classify") + latest_finished(task, "sft")
    if not runs:
        raise ServeError(f"task {task!r} has no finished train run under {get_settings().home / 'runs' / task}; "
                         f"train one with `workbench train --task {task}` (or serve a run or export folder "
                         f"with --model {task}=PATH)")
    return max(runs, key=lambda p: RunInfo.read(p).finished)


def find_export(run_dir: Path, fmt: str) -> Path:
    """The export of ``run_dir`` in ``fmt`` (``onnx-int8``, ``gguf`` or ``gguf-q8_0``, ...)."""
    from workbench.export.card import CARD, ExportCard
    from workbench.export.run import exports_root

    info = RunInfo.read(run_dir)
    root = exports_root() / info.task / info.run_id
    found = []
    for card_path in sorted(root.glob(f"*/{CARD}")):
        card = ExportCard.read(card_path)
        if fmt in {card.format, f"{card.format}-{card.quant}"}:
            found.append(card_path.parent)
    if len(found) == 1:
        return found[0]
    if found:
        raise ServeError(f"run {info.task}/{info.run_id} has several {fmt} exports ({[p.name for p in found]}); "
                         f"name one with --format {fmt}-<quant> or --model {info.task}=PATH")
    raise ServeError(f"run {info.task}/{info.run_id} has no {fmt} export under {root}; make it with "
                     f"`workbench export --run {info.task}/{info.run_id} --format {fmt.split('-q')[0]}`"
                     f"{' --quant ' + fmt.split('-', 1)[1] if fmt.startswith('gguf-') else ''} "
                     "(or serve --format pytorch)")


def load_path(path: str | Path, device: str = "auto") -> tuple[Any, str]:
    """A run folder (or run id) or an export folder, loaded: (model, format)."""
    from workbench.export.card import CARD, ExportCard
    from workbench.export.runtime import is_export, load_export
    from workbench.train.predict import load_student

    folder = Path(path).expanduser()
    if is_export(folder):
        return load_export(folder), ExportCard.read(folder / CARD).format

    return load_student(path, device=device), "pytorch"


def load_served(cfg: ServeConfig) -> dict[str, Served]:
    """Every task of ``cfg`` loaded (models first checked to exist, so a typo fails before any load)."""
    names = cfg.served_tasks()
    if not names:
        raise ServeError("no task to serve: give --task T (its latest finished run) or --model T=PATH")
    where = {}
    for task in names:
        if task in cfg.models:
            path = Path(cfg.models[task]).expanduser()
            where[task] = path if (path / "export.json").is_file() else find_run(cfg.models[task])
        else:
            run_dir, fmt = latest_run(task), cfg.format_of(task)
            where[task] = run_dir if fmt == "pytorch" else find_export(run_dir, fmt)
    served = {}
    try:
        for task, path in where.items():
            model, fmt = load_path(path, cfg.device)
            served[task] = Served(task, model, str(path), fmt)
    except BaseException:
        for s in served.values():
            s.close()
        raise
    return served
