"""Students: the small models the Train stage fine-tunes, all loaded offline.

A student is a bundled model by name or any local Hugging Face model folder. Decoders
(SmolLM2, Gemma) come from the bundled GGUF files, converted once to safetensors under
the home by :func:`workbench.models.transformers_dir`.

Example:
    >>> resolve_student("minilm-l6").decoder
    False
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


class UnknownStudentError(WorkbenchError, ValueError):
    """A student name that is neither bundled nor a model folder."""


def _bundled(name: str) -> Callable[[], Path]:
    def locate() -> Path:
        from workbench.models import transformers_dir

        return transformers_dir(name)
    return locate


# Student name -> (bundled model it comes from, is it a decoder). A plain dict: see STYLE.md.
STUDENTS: dict[str, tuple[str, bool]] = {
    "minilm-l6": ("minilm-l6", False),
    "smollm2-135m": ("smollm2-135m-instruct", True),
    "gemma3-270m": ("gemma3-270m", True),
}


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
    return list(STUDENTS)


def resolve_student(name: str) -> Student:
    """A bundled student by name, or a local Hugging Face folder (one with ``config.json``)."""
    if name in STUDENTS:
        bundled, decoder = STUDENTS[name]
        return Student(name, decoder, _bundled(bundled))
    folder = Path(name).expanduser()
    if (folder / "config.json").is_file():
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        decoder = any(a.endswith("ForCausalLM") for a in config.get("architectures") or []) \
            or bool(config.get("is_decoder"))
        return Student(str(folder.resolve()), decoder, lambda: folder.resolve())
    hint = (f"folder {folder} has no config.json" if folder.is_dir()
            else f"choose one of {list_students()} or give a local Hugging Face model folder (with config.json)")
    raise UnknownStudentError(f"unknown student {name!r}; {hint}")
