"""Versioned datasets with manifests: ``<datasets_dir>/<task>/<kind>/<version>/``.

A version folder holds a Hugging Face dataset (``data/``) and ``manifest.json`` with its
lineage (teacher, template hashes, parameters, counts, timings, parent version). Folders
appear atomically: written under a hidden name, then renamed, so a crash never leaves a
half-written version that looks complete.

Example:
    >>> from workbench.store import latest_version
    >>> v = latest_version("support_intents")      # doctest: +SKIP
    >>> v.version, len(v.load())                    # doctest: +SKIP
    ('v001', 300)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.settings import get_settings

_VERSION = re.compile(r"^v(\d{3,})$")


class VersionNotFoundError(WorkbenchError, FileNotFoundError):
    """No dataset version of that name; the message lists the versions there are."""


def record_id(*parts: str) -> str:
    """A content hash: the same content always gets the same id, in any run."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class DatasetVersion:
    task: str
    kind: str
    version: str
    path: Path

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.path / "manifest.json").read_text(encoding="utf-8"))

    def load(self):
        """The rows as a :class:`datasets.Dataset`."""
        from datasets import load_from_disk

        return load_from_disk(str(self.path / "data"))

    def to_dict(self) -> dict[str, Any]:
        m = self.manifest
        kept = m.get("counts", {}).get("kept")
        # A planned generation's snapshot holds its parent's rows too: "rows" is the whole version.
        return {"task": self.task, "kind": self.kind, "version": self.version, "path": str(self.path),
                "kept": kept, "rows": m.get("rows", kept), "parent": m.get("parent_version")}

    def _repr_html_(self) -> str:
        m = self.manifest
        per_label = m.get("counts", {}).get("per_label", {})
        rows = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in per_label.items())
        return (f"<b>{self.task}/{self.kind}/{self.version}</b> at <code>{self.path}</code><br>"
                f"teacher <code>{m.get('teacher')}</code>, kept {m.get('counts', {}).get('kept')}"
                + (f" (added to the {m.get('parent_rows')} rows of its parent)" if m.get("plan") else "") + ", "
                f"parent {m.get('parent_version')}<table>{rows}</table>")


def task_dir(task: str, kind: str = "synthetic") -> Path:
    return get_settings().datasets_dir / task / kind


def list_versions(task: str, kind: str = "synthetic") -> list[DatasetVersion]:
    root = task_dir(task, kind)
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := _VERSION.match(p.name))
             and (p / "manifest.json").is_file()]
    return [DatasetVersion(task, kind, p.name, p) for _, p in sorted(found)]


def latest_version(task: str, kind: str = "synthetic") -> DatasetVersion | None:
    versions = list_versions(task, kind)
    return versions[-1] if versions else None


def get_version(task: str, version: str, kind: str = "synthetic") -> DatasetVersion:
    for v in list_versions(task, kind):
        if v.version == version:
            return v
    have = [v.version for v in list_versions(task, kind)] or "none"
    raise VersionNotFoundError(f"no {kind} version {version!r} for task {task!r}; versions: {have}")


def data_hash(rows: list[dict[str, Any]]) -> str:
    """The ``data_sha256`` of a manifest: a hash of the rows in order."""
    return hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def save_version(task: str, rows: list[dict[str, Any]], manifest: dict[str, Any],
                 kind: str = "synthetic") -> DatasetVersion:
    """Write rows and manifest as the next version; returns it.

    The manifest gets ``version``, ``parent_version`` (the latest before this one, unless
    given) and ``data_sha256`` (a hash of the rows in order) added.
    """
    from datasets import Dataset

    root = task_dir(task, kind)
    root.mkdir(parents=True, exist_ok=True)
    previous = latest_version(task, kind)
    number = int(previous.version[1:]) + 1 if previous else 1
    version = f"v{number:03d}"
    manifest = {**manifest, "version": version}
    manifest.setdefault("parent_version", previous.version if previous else None)
    manifest["data_sha256"] = data_hash(rows)
    tmp = root / f".{version}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    Dataset.from_list(rows).save_to_disk(str(tmp / "data"))
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    final = root / version
    tmp.rename(final)  # atomic on one filesystem: the version is complete or absent
    return DatasetVersion(task, kind, version, final)
