"""Example files: seed and held-out rows in JSON Lines or CSV.

Classification rows carry ``text`` and ``label``; generation rows carry ``input`` and
``output``. Every row is checked, and a bad one is reported with its file and line.

Example:
    >>> read_examples([{"text": "where is my box", "label": "delivery"}], "classification", ["delivery"])
    [{'text': 'where is my box', 'label': 'delivery'}]
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Iterable

from workbench.errors import WorkbenchError

COLUMNS = {"classification": ("text", "label"), "generation": ("input", "output")}


class ExampleFileError(WorkbenchError, ValueError):
    """A seed or held-out file (or inline list) that cannot be used as it is."""


def read_examples(
    source: Path | Iterable[dict[str, Any]], task_type: str, labels: list[str] | None = None
) -> list[dict[str, str]]:
    """Read and check rows from a ``.jsonl``/``.csv`` file or an inline list of mappings."""
    if isinstance(source, Path):
        rows = list(_read_file(source))
        where = str(source)
    else:
        rows = [(i + 1, r) for i, r in enumerate(source)]
        where = "inline list"
    cols = COLUMNS[task_type]
    out = []
    for line, row in rows:
        if not isinstance(row, dict):
            raise ExampleFileError(f"{where} row {line}: expected an object with {cols}, got {type(row).__name__}")
        missing = [c for c in cols if not str(row.get(c) or "").strip()]
        if missing:
            raise ExampleFileError(f"{where} row {line}: missing or empty {missing}; each row needs {list(cols)}")
        clean = {c: str(row[c]).strip() for c in cols}
        if task_type == "classification" and labels is not None and clean["label"] not in labels:
            raise ExampleFileError(
                f"{where} row {line}: label {clean['label']!r} is not a label of this task; use one of {labels}"
            )
        out.append(clean)
    return out


def read_text(path: Path) -> str:
    r"""The text of a UTF-8 file; a byte that is not UTF-8 raises :class:`ExampleFileError` naming where.

    Example:
        >>> import tempfile
        >>> bad = Path(tempfile.mkdtemp()) / "seeds.jsonl"
        >>> _ = bad.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
        >>> try:
        ...     read_text(bad)
        ... except ExampleFileError as err:
        ...     print(str(err).split(": ", 1)[1])
        byte 0xe9 at offset 28 (line 2) is not UTF-8; save the file as UTF-8 (in most editors: "Save with encoding")
    """
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ExampleFileError(f"{path}: byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line}) is not "
                               'UTF-8; save the file as UTF-8 (in most editors: "Save with encoding")') from None


def _read_file(path: Path) -> Iterable[tuple[int, Any]]:
    if not path.is_file():
        raise ExampleFileError(f"file {path} does not exist; create it or fix the path")
    if path.suffix == ".jsonl":
        for i, line in enumerate(read_text(path).splitlines(), 1):
            if not line.strip():
                continue
            try:
                yield i, json.loads(line)
            except json.JSONDecodeError as exc:
                raise ExampleFileError(f"{path} line {i}: not valid JSON ({exc.msg})") from None
    elif path.suffix == ".csv":
        # Header is line 1, so data rows start at line 2.
        yield from enumerate(csv.DictReader(io.StringIO(read_text(path), newline="")), 2)
    else:
        raise ExampleFileError(f"{path}: unsupported format {path.suffix!r}; use .jsonl or .csv")
