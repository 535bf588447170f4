"""Example files: seed and held-out rows in JSON Lines or CSV, and message logs.

Classification rows carry ``text`` and ``label``; generation rows carry ``input`` and
``output``. Every row is checked, and a bad one is reported with its file and line.
A message log (a task's ``unlabeled:`` file, or its out-of-scope examples) is one text column
of a JSON Lines, CSV or Parquet file, read by :func:`read_texts`.

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
TEXT_FORMATS = (".jsonl", ".csv", ".parquet")


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


def file_columns(path: Path) -> list[str]:
    """The columns of a message log, read cheaply: the CSV header, the Parquet schema, or the keys
    of a JSON Lines file's first row (so a task spec can be checked without reading a big log).

    Example:
        >>> import tempfile
        >>> log = Path(tempfile.mkdtemp()) / "log.csv"
        >>> _ = log.write_text("id,message\\n1,where is my card\\n")
        >>> file_columns(log)
        ['id', 'message']
    """
    _check_text_file(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names)
        except Exception as exc:  # noqa: BLE001 (pyarrow raises several types for a broken file)
            raise ExampleFileError(f"{path}: not a readable Parquet file ({exc})") from None
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        if path.suffix == ".csv":
            return next(csv.reader(f), [])
        for i, line in enumerate(f, 1):
            if line.strip():
                return list(_json_row(path, i, line))
    return []


def read_texts(path: Path, text_column: str = "text") -> list[str]:
    """The ``text_column`` of every row of a ``.jsonl``, ``.csv`` or ``.parquet`` file, in order.

    A row whose value is empty or null gives ``""`` (the caller decides what to do with empty
    messages); a file without the column, a row without it (JSON Lines), or a value that is not
    text raises :class:`ExampleFileError` naming the file, the row and the column.

    Example:
        >>> import tempfile
        >>> log = Path(tempfile.mkdtemp()) / "log.jsonl"
        >>> _ = log.write_text('{"message": "my card is lost"}\\n{"message": null}\\n')
        >>> read_texts(log, "message")
        ['my card is lost', '']
    """
    _check_text_file(path)
    if path.suffix == ".parquet":
        return _parquet_texts(path, text_column)
    have = file_columns(path)
    if text_column not in have:
        raise _no_column(path, text_column, have)
    if path.suffix == ".csv":
        rows = enumerate(csv.DictReader(io.StringIO(read_text(path), newline="")), 2)
    else:
        rows = ((i, _json_row(path, i, line)) for i, line in enumerate(read_text(path).splitlines(), 1)
                if line.strip())
    texts = []
    for line, row in rows:
        if text_column not in row:
            raise ExampleFileError(f"{path} row {line}: no column {text_column!r} (it has {sorted(row)}); "
                                   f"give every row a {text_column!r}, or set text_column")
        texts.append(_text(path, line, text_column, row[text_column]))
    return texts


def _parquet_texts(path: Path, column: str) -> list[str]:
    import pyarrow.parquet as pq

    have = file_columns(path)
    if column not in have:
        raise _no_column(path, column, have)
    values = pq.read_table(path, columns=[column]).column(column).to_pylist()
    return [_text(path, i, column, v) for i, v in enumerate(values, 1)]


def _text(path: Path, row: int, column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise ExampleFileError(f"{path} row {row}: column {column!r} holds a {type(value).__name__}, not text; "
                               "point text_column at the column with the message")
    return str(value).strip()


def _json_row(path: Path, line: int, text: str) -> dict[str, Any]:
    try:
        row = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExampleFileError(f"{path} line {line}: not valid JSON ({exc.msg})") from None
    if not isinstance(row, dict):
        raise ExampleFileError(f"{path} line {line}: expected an object with the message, got {type(row).__name__}")
    return row


def _no_column(path: Path, column: str, have: list[str]) -> ExampleFileError:
    return ExampleFileError(f"{path}: no column {column!r}; its columns are {have}; set text_column to the "
                            "one holding the messages")


def _check_text_file(path: Path) -> None:
    if not path.is_file():
        raise ExampleFileError(f"file {path} does not exist; create it or fix the path")
    if path.suffix not in TEXT_FORMATS:
        raise ExampleFileError(f"{path}: unsupported format {path.suffix!r}; use one of {list(TEXT_FORMATS)}")
