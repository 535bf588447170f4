"""Students: the small models the Train stage fine-tunes, all loaded offline.

A student is a bundled model with the ``student`` role (by its student name, e.g.
``smollm2-135m``, or any other name the registry knows it by) or any local Hugging Face
model folder. Whether it is a decoder comes from the registry entry
(:mod:`workbench.models`); decoders (SmolLM2, Gemma) come from the bundled GGUF files,
converted once to safetensors under the home by :func:`workbench.models.transformers_dir`.

Example:
    >>> list_students()
    ['minilm-l6', 'smollm2-135m', 'gemma3-270m']
    >>> resolve_student("minilm-l6").decoder
    False
    >>> resolve_student("smollm2-135m-instruct").name    # the bundled name finds the student too
    'smollm2-135m'
    >>> resolve_student("gpt-9")                     # doctest: +ELLIPSIS
    Traceback (most recent call last):
    workbench.train.students.UnknownStudentError: unknown student 'gpt-9'; ...
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from workbench.errors import WorkbenchError
from workbench.models import find_student, student_names, transformers_dir


class UnknownStudentError(WorkbenchError, ValueError):
    """A student name that is neither bundled nor a model folder."""


@dataclass(frozen=True)
class Student:
    """A resolved student: its name (for cards and run ids) and how to find its folder."""

    name: str
    decoder: bool
    locate: Callable[[], Path]

    def path(self) -> Path:
        """The transformers folder (converting a bundled GGUF the first time)."""
        return self.locate()

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() or c in "-." else "-" for c in Path(self.name).name).strip("-") or "local"


def list_students() -> list[str]:
    """The bundled students' names, smallest first."""
    return student_names()


def resolve_student(name: str) -> Student:
    """A bundled student by name, or a local Hugging Face folder (one with ``config.json``)."""
    bundled = find_student(name)
    if bundled is not None:
        return Student(bundled.student, bundled.decoder, lambda: transformers_dir(bundled.name))  # type: ignore[arg-type]
    folder = Path(name).expanduser()
    if (folder / "config.json").is_file():
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        decoder = any(a.endswith("ForCausalLM") for a in config.get("architectures") or []) \
            or bool(config.get("is_decoder"))
        return Student(str(folder.resolve()), decoder, lambda: folder.resolve())
    hint = (f"folder {folder} has no config.json" if folder.is_dir()
            else f"choose one of {list_students()} or give a local Hugging Face model folder (with config.json)")
    raise UnknownStudentError(f"unknown student {name!r}; {hint}")
