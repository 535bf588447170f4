"""Typed JSON records on disk (``manifest.json``, ``run.json``): one base, one way to read them.

A :class:`JsonRecord` is a pydantic model that

- is validated when read (:meth:`JsonRecord.read`): a corrupt or hand-edited file raises
  :class:`RecordError` naming the file and the field, never a ``KeyError`` deep inside a stage;
- keeps keys it does not know (``extra="allow"``): a file written by an older or newer
  workbench still reads, and is written back with those keys;
- reads by key too (``record["counts"]``, ``record.get("rows", 0)``) with a dict's meaning:
  a key is there when the file had it. Notebooks and scripts written against the plain dicts
  these records replace keep working; new code reads attributes.

Example:
    >>> class Demo(JsonRecord):
    ...     n: int
    ...     note: str | None = None
    >>> d = Demo.model_validate({"n": 3})
    >>> d.n, d["n"], d.get("note", "absent"), "note" in d
    (3, 3, 'absent', False)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from workbench.errors import WorkbenchError

R = TypeVar("R", bound="JsonRecord")


class RecordError(WorkbenchError, ValueError):
    """A record file (manifest.json, run.json) that is not valid JSON or not the right shape."""


def describe(err: ValidationError, limit: int = 3, tagged: bool = False) -> str:
    """``field 'counts.kept': Input should be a valid integer (got 'many')``, for the first errors.

    ``tagged``: the model was one of a discriminated union, whose tag pydantic puts first in
    each error's location; it is left out (the file has no such field).
    """
    parts = []
    for e in err.errors()[:limit]:
        if e["type"] == "union_tag_invalid":  # the tag itself: say its name
            where = str(e.get("ctx", {}).get("discriminator", "")).strip("'")
        else:
            where = ".".join(str(p) for p in e["loc"][1 if tagged else 0:])
        where = where or "(top level)"
        got = f" (got {e['input']!r})" if e["type"] != "missing" and not isinstance(e["input"], dict) else ""
        parts.append(f"field {where!r}: {e['msg']}{got}")
    more = err.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def load_json(path: Path) -> Any:
    """The parsed contents of ``path``; :class:`RecordError` when it is missing or not JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordError(f"{path} is missing") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise RecordError(f"{path} is not valid JSON ({exc}); restore or delete it") from None


class KeyAccess:
    """Read a pydantic model's fields by key too, as the dicts these records replaced were read.

    A key is present when it is one of the model's fields; :class:`JsonRecord` narrows that to
    the keys the file had.
    """

    def _has(self, key: str) -> bool:
        return key in type(self).model_fields  # type: ignore[attr-defined]

    def __getitem__(self, key: str) -> Any:
        if not self._has(key):
            raise KeyError(key)
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._has(key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if self._has(key) else default


class JsonRecord(KeyAccess, BaseModel):
    """Base of the typed records on disk; see the module docstring."""

    model_config = ConfigDict(extra="allow")

    @classmethod
    def read(cls: type[R], path: Path) -> R:
        """The record in ``path``, validated; :class:`RecordError` names the file and field."""
        return cls.parse(load_json(path), path, fix="fix or delete the file")

    @classmethod
    def parse(cls: type[R], data: Any, source: Path | str = "record", fix: str = "") -> R:
        """``data`` (parsed JSON) as this record; :class:`RecordError` names ``source`` and the field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise RecordError(f"{source}: {describe(exc)}" + (f"; {fix}" if fix else "")) from None

    def to_json_dict(self) -> dict[str, Any]:
        """The keys the record was made or read with (unset defaults left out), JSON-ready."""
        return self.model_dump(mode="json", exclude_unset=True)

    def _has(self, key: str) -> bool:
        # A dict's meaning: a key is present when the file (or the caller) set it.
        return key in self.model_fields_set or key in (self.model_extra or {})
