"""Using an export: :func:`load_export` (any format, by its card) and :func:`is_export`.

The loaded objects have the method names of :class:`workbench.train.predict.TrainedStudent`:
an ``ExportedClassifier`` has ``labels``, ``predict_proba(texts)`` and ``predict(texts)``; an
``ExportedGenerator`` has ``predict(texts, max_new_tokens=...)``. Both have ``card``,
``objective``, ``disk_bytes``, ``parameters`` and ``close()``.

Example:
    >>> model = load_export(".workbench/exports/support_intents/<run-id>/onnx-int8-0123456789ab")  # doctest: +SKIP
    >>> model.predict(["where is my parcel?"])                                                   # doctest: +SKIP
    ['delivery_status']
    >>> is_export("/tmp")
    False
"""

from __future__ import annotations

from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.export.card import CARD, ExportCard
from workbench.export.formats import export_format


class NotAnExportError(WorkbenchError, FileNotFoundError):
    """A folder that holds no export (no export.json), or an export whose files are not all there."""


def is_export(path: str | Path) -> bool:
    """Whether ``path`` is an export folder (one with ``export.json``)."""
    return (Path(path).expanduser() / CARD).is_file()


def load_export(path: str | Path, threads: int | None = None):
    """The export in ``path``, loaded for inference through its format's module.

    ``threads``: CPU threads of its runtime (default the settings'); passed to a format's
    ``load`` only when given, so a ``load(folder, card)`` without it still works.
    """
    folder = Path(path).expanduser()
    if not is_export(folder):
        what = "does not exist" if not folder.exists() else f"has no {CARD}, so it is not an export"
        raise NotAnExportError(f"{folder} {what}; make one with `workbench export --run <run> --format <format>` "
                               "(it prints the folder)")
    card = ExportCard.read(folder)
    missing = [name for name, f in card.files.items()
               if not (folder / name).is_file() or (folder / name).stat().st_size != f.bytes]
    if missing:
        raise NotAnExportError(f"export {folder} is damaged: {missing} missing or changed since it was made; "
                               "delete the folder and export again")
    return export_format(card.format).load_module().load(folder, card, **({"threads": threads} if threads else {}))
