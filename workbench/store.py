"""Versioned datasets with manifests, and the stages' run folders.

Datasets: ``<datasets_dir>/<task>/<kind>/<version>/``. A version folder holds a Hugging Face
dataset (``data/``) and ``manifest.json`` with its lineage (teacher, template hashes,
parameters, counts, timings, parent version; typed in :mod:`workbench.manifest`). Folders
appear atomically: written under a hidden name, then renamed, so a crash never leaves a
half-written version that looks complete.

Runs: every stage keeps its working state in ``<home>/runs/<task>/<stage>/<run-id>/``
(:func:`run_folder`): generate's journal, train's checkpoints and exported model.

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
from typing import Any, Mapping

from markupsafe import escape

from workbench.errors import WorkbenchError
from workbench.faults import kill_point
from workbench.html import html_table
from workbench.locks import file_lock
from workbench.manifest import Manifest, PoolManifest, SyntheticManifest
from workbench.settings import get_settings

_VERSION = re.compile(r"^v(\d{3,})$")


class VersionNotFoundError(WorkbenchError, FileNotFoundError):
    """No dataset version of that name; the message lists the versions there are."""


def record_id(*parts: str) -> str:
    """A content hash: the same content always gets the same id, in any run."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class DatasetVersion:
    """One saved version: ``<datasets_dir>/<task>/<kind>/<version>/``."""

    task: str
    kind: str
    version: str
    path: Path

    @property
    def manifest(self) -> Manifest:
        """The validated manifest (a SyntheticManifest or a ReviewedManifest), read from disk."""
        return Manifest.read(self.path / "manifest.json", kind=self.kind)

    def load(self):
        """The rows as a :class:`datasets.Dataset`."""
        from datasets import load_from_disk

        return load_from_disk(str(self.path / "data"))

    def to_dict(self) -> dict[str, Any]:
        m = self.manifest
        synthetic = isinstance(m, SyntheticManifest)  # a reviewed version counts decisions, not "kept" rows
        # A planned generation's snapshot holds its parent's rows too: "rows" is the whole version.
        kept = m.kept if synthetic else m.counts.kept if isinstance(m, PoolManifest) and m.counts else None
        return {"task": self.task, "kind": self.kind, "version": self.version, "path": str(self.path),
                "kept": kept, "rows": m.total_rows if synthetic else None,
                "parent": m.parent_version}

    def _repr_html_(self) -> str:
        m = self.manifest
        synthetic = isinstance(m, SyntheticManifest)
        facts = {"path": str(self.path), "teacher": m.teacher if synthetic else None,
                 "kept": m.kept if synthetic else None}
        if synthetic and m.plan:
            facts["added to the parent's rows"] = m.parent_rows
        facts["parent"] = m.parent_version
        per_label = (m.counts.per_label if synthetic and m.counts else None) or {}
        return (f"<b>{escape(f'{self.task}/{self.kind}/{self.version}')}</b>" + html_table(facts)
                + html_table(per_label, headers=("label", "rows")))


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


def save_version(task: str, rows: list[dict[str, Any]], manifest: Manifest | Mapping[str, Any],
                 kind: str = "synthetic") -> DatasetVersion:
    """Write rows and manifest as the next version; returns it.

    ``manifest`` is the writer's typed manifest (the fields it set are written) or a plain
    mapping (a version saved by hand). It gets ``version``, ``parent_version`` (the latest
    before this one, unless given) and ``data_sha256`` (a hash of the rows in order) added,
    and is validated before anything is written.

    The number is chosen and the folder renamed into place under the OS lock of the kind's
    folder (``<datasets_dir>/<task>/<kind>/.lock``), so two writers at once get two numbers,
    never the same one. A hidden ``.vNNN.partial-*`` folder left by a writer killed mid-write
    is removed then (no other writer can be working while the lock is held).
    """
    from datasets import Dataset

    root = task_dir(task, kind)
    root.mkdir(parents=True, exist_ok=True)
    fields = manifest.to_json_dict() if isinstance(manifest, Manifest) else dict(manifest)
    with file_lock(root / ".lock"):
        for stale in root.glob(".v*.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)
        previous = latest_version(task, kind)
        number = int(previous.version[1:]) + 1 if previous else 1
        version = f"v{number:03d}"
        manifest = {**fields, "version": version}
        manifest.setdefault("parent_version", previous.version if previous else None)
        manifest["data_sha256"] = data_hash(rows)
        Manifest.parse(manifest, f"the manifest for {task}/{kind}/{version}", kind=kind)  # a bad one is never saved
        tmp = root / f".{version}.partial-{os.getpid()}"
        Dataset.from_list(rows).save_to_disk(str(tmp / "data"))
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        kill_point("store_before_rename")  # test hook (workbench.faults)
        final = root / version
        tmp.rename(final)  # atomic on one filesystem: the version is complete or absent
        kill_point("store_after_rename")  # test hook (workbench.faults)
    return DatasetVersion(task, kind, version, final)


def version_of_run(task: str, run_id: str, kind: str = "synthetic") -> DatasetVersion | None:
    """The version whose manifest names ``run_id`` (the newest, should there be several), or None.

    How a run killed after its version was renamed into place, but before it recorded that,
    finds the version on its next start instead of saving a copy.
    """
    for v in reversed(list_versions(task, kind)):
        try:
            if getattr(v.manifest, "run_id", None) == run_id:
                return v
        except WorkbenchError:
            continue  # a manifest broken by hand is not this run's
    return None


def run_folder(task: str, stage: str, run_id: str | None = None, *, create: bool = False) -> Path:
    """A stage's run folder, ``<home>/runs/<task>/<stage>/<run_id>/``; without ``run_id``, the
    folder holding that stage's runs of ``task``.

    ``create`` makes the folder, first moving in a run an older workbench kept at its old place
    (``runs/generate/<task>/<id>``, ``runs/<task>/<id>``), so its resume or frozen result holds.

    Example:
        >>> run_folder("support_intents", "train", "minilm-l6-synthetic-v001-1a2b3c4d")  # doctest: +SKIP
        PosixPath('.workbench/runs/support_intents/train/minilm-l6-synthetic-v001-1a2b3c4d')
    """
    runs = get_settings().home / "runs"
    folder = runs / task / stage if run_id is None else runs / task / stage / run_id
    if create and not folder.is_dir():
        legacy = {"generate": runs / "generate" / task, "train": runs / task}.get(stage)
        folder.parent.mkdir(parents=True, exist_ok=True)
        if run_id is not None and legacy is not None and (legacy / run_id).is_dir():
            (legacy / run_id).rename(folder)
        folder.mkdir(parents=True, exist_ok=True)
    return folder
