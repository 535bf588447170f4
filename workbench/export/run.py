"""The Export stage: a finished train run -> ``<home>/exports/<task>/<run-id>/<format>[-<quant>]-<key12>/``.

``run_export`` is what the CLI, the Train panel and the tests call. It resolves the run, checks
that the format fits the run's objective, and computes the content address (sha256 of the
run's model files' hashes, the format, the quant and the exporters' versions). Then, under
the export's run lock (:func:`workbench.locks.run_lock`):

- a complete folder of that address (one with ``export.json``) is returned as it is
  (``reused=True``): the same run and format give the same files;
- otherwise the format's ``build`` writes into a temporary folder beside it and checks parity
  on the task's held-out rows; the card goes in last and the folder is renamed into place.
  A failed parity check or a kill leaves no export behind (a kill's temporary folder is
  removed by the next run of the command).

Example:
    >>> from workbench.export import ExportConfig, run_export
    >>> result = run_export(ExportConfig(run="minilm-l6-synthetic-v001-1a2b3c4d", format="onnx-int8"))  # doctest: +SKIP
    >>> result.card.parity.label_agreement, result.card.size_bytes                                     # doctest: +SKIP
    (0.992, 23140311)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import escape

from workbench import __version__
from workbench.export.card import CARD, ExportCard, Parity, file_entries, sha256_file
from workbench.export.config import ExportConfig, ExportError
from workbench.export.formats import ExportFormat, export_format, formats_for
from workbench.html import html_table
from workbench.locks import run_lock
from workbench.settings import get_settings
from workbench.tasks import TaskSpec, load_task
from workbench.train.info import RunInfo
from workbench.train.predict import find_run

STAGE = "export"
# Bumped when what an exporter writes changes without a tool version changing: a new address.
LAYOUT = 2  # 2: int8 weights per channel, 7-bit


@dataclass
class ExportJob:
    """What a format's ``build`` gets: the run, the config, the folder to write and the held-out rows."""

    run_dir: Path
    info: RunInfo
    cfg: ExportConfig
    out_dir: Path
    heldout: list[dict] = field(default_factory=list)
    spec: TaskSpec | None = None

    @property
    def threads(self) -> int:
        return self.cfg.resolved_threads()


@dataclass
class ExportResult:
    """A finished export; shows as a table in a notebook."""

    folder: Path
    card: ExportCard
    reused: bool = False

    def to_dict(self) -> dict[str, Any]:
        c = self.card
        return {"folder": str(self.folder), "task": c.task, "run_id": c.run_id, "student": c.student,
                "format": c.format, "quant": c.quant, "key": c.key, "size_bytes": c.size_bytes,
                "files": sorted(c.files), "parity": c.parity.to_json_dict(), "reused": self.reused}

    def _repr_html_(self) -> str:
        d = self.to_dict()
        facts = {k: v for k, v in d.items() if k not in ("parity", "files")} | d["parity"]
        return f"<b>export {escape(self.folder.name)}</b>" + html_table(facts)


def exports_root() -> Path:
    return get_settings().home / "exports"


def export_key(run_dir: Path, fmt: ExportFormat, quant: str | None) -> str:
    """The content address: the run's model files (by hash), the format, the quant, the tools."""
    model = run_dir / "model"
    files = {p.relative_to(model).as_posix(): sha256_file(p) for p in sorted(model.rglob("*")) if p.is_file()}
    parts = {"model": files, "format": fmt.name, "quant": quant, "tools": fmt.tool_versions(), "layout": LAYOUT}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def export_folder(run_dir: Path, info: RunInfo, fmt: ExportFormat, quant: str | None = None) -> tuple[Path, str]:
    """Where the export of ``run_dir`` to ``fmt`` lies (or will), and its full key."""
    key = export_key(run_dir, fmt, quant)
    return exports_root() / info.task / info.run_id / f"{fmt.name}{'-' + quant if quant else ''}-{key[:12]}", key


def run_export(cfg: ExportConfig) -> ExportResult:
    """Export the run ``cfg.run`` to ``cfg.format`` (or return the same export made before)."""
    run_dir = find_run(cfg.run)
    info = RunInfo.read(run_dir)
    fmt = export_format(cfg.format)
    if info.objective not in fmt.objectives:
        fits = formats_for(info.objective)
        raise ExportError(f"format {fmt.name!r} exports {' and '.join(fmt.objectives)} runs; run {info.run_id} is "
                          f"a {info.objective} run: use " + (f"--format {' or '.join(fits)}" if fits else
                                                             f"a format for {info.objective} runs (none here yet)"))
    if not (run_dir / "model").is_dir():
        raise ExportError(f"run {info.run_id} has no model/ folder to export; train it again")
    quant = cfg.quant if fmt.name == "gguf" else None
    folder, key = export_folder(run_dir, info, fmt, quant)
    with run_lock(info.task, STAGE, f"{info.run_id}-{folder.name}"):
        if (folder / CARD).is_file():
            return ExportResult(folder, ExportCard.read(folder), reused=True)
        return _build(cfg, fmt, run_dir, info, quant, key, folder)


def _build(cfg: ExportConfig, fmt: ExportFormat, run_dir: Path, info: RunInfo, quant: str | None, key: str,
           folder: Path) -> ExportResult:
    """Build into a temporary folder, check parity, write the card, rename into place."""
    spec = load_task(info.task)
    heldout = spec.heldout_examples()[:cfg.parity_rows]
    if not heldout:
        raise ExportError(f"task {spec.name!r} has no held-out rows for the parity check; add a 'heldout:' file "
                          "to its task.yaml")
    folder.parent.mkdir(parents=True, exist_ok=True)
    for stale in folder.parent.glob(f".{folder.name}.partial-*"):  # left by a killed build
        shutil.rmtree(stale, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)  # a folder without its card is not an export
    tmp = folder.parent / f".{folder.name}.partial-{os.getpid()}"
    tmp.mkdir()
    try:
        parity = fmt.load_module().build(ExportJob(run_dir, info, cfg, tmp, heldout, spec))
        files = file_entries(tmp)
        card = ExportCard(task=info.task, run_id=info.run_id, student=info.student, objective=info.objective,
                          dataset=info.dataset, format=fmt.name, quant=quant, files=files,
                          size_bytes=sum(f.bytes for f in files.values()), parity=Parity.model_validate(parity),
                          key=key, tools=fmt.tool_versions(), workbench_version=__version__)
        (tmp / CARD).write_text(json.dumps(card.to_json_dict(), indent=2, sort_keys=True) + "\n")
        tmp.rename(folder)  # last: a folder of this name is a complete, checked export
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ExportResult(folder, card)
