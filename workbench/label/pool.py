"""The unlabeled pool: a task's message log, cleaned and versioned, with its MiniLM vectors.

:func:`import_pool` reads the ``unlabeled:`` file of a task spec and keeps each message once:
empty rows, rows that are held-out, seed or validation messages, exact repeats (case and
spacing aside) and near duplicates (MiniLM cosine at or above :data:`NEAR_DUPLICATE` to a
message kept before it) are left out and counted in the manifest (:class:`PoolCounts`). The
rest is saved as a version of kind ``unlabeled``, ``<datasets_dir>/<task>/unlabeled/vNNN/``,
rows ``{"id", "text"}`` with content-hash ids, and ``vectors.npy`` (unit vectors, one row per
message) beside ``data/``. Importing an unchanged log again returns the latest version.

Example:
    >>> from workbench.label.pool import import_pool, load_pool    # doctest: +SKIP
    >>> pool = import_pool(load_task("clinc_bank"))                # doctest: +SKIP
    >>> pool.version.manifest.counts.kept == len(pool.texts) == pool.vectors.shape[0]  # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from workbench.label.errors import LabelError
from workbench.manifest import PoolCounts, PoolManifest
from workbench.store import DatasetVersion, data_hash, latest_version, record_id, save_version
from workbench.tasks import TaskSpec, normal_text

POOL_KIND = "unlabeled"
NEAR_DUPLICATE = 0.97  # MiniLM cosine at or above: the later text is dropped
VECTORS = "vectors.npy"
_BLOCK = 512  # texts compared at once in the near-duplicate pass (a 512 x kept matrix at most)


@dataclass
class Pool:
    """A pool version's messages: ``texts[i]`` has id ``ids[i]`` and unit vector ``vectors[i]``."""

    version: DatasetVersion
    texts: list[str]
    ids: list[str]
    vectors: np.ndarray  # (n, 384) float32, unit length
    reused: bool = False  # True when import_pool found the same pool already saved

    def __len__(self) -> int:
        return len(self.texts)


def import_pool(spec: TaskSpec, progress: bool = False) -> Pool:
    """Read ``spec``'s ``unlabeled:`` log into a new pool version, or return the latest when unchanged.

    Raises :class:`LabelError` when the task names no log or nothing is left of it; a file
    problem is the spec's :class:`~workbench.tasks.TaskSpecError` naming the file and row.
    """
    source = spec.unlabeled_source()
    if source is None:
        raise LabelError(f"task {spec.name!r} has no `unlabeled:` file of real messages to label; add one to "
                         f"prompts/{spec.name}/task.yaml (unlabeled: {{path: messages.csv, text_column: text}})")
    texts = spec.unlabeled_texts()
    candidates, counts = _exact_filter(spec, texts)
    candidates_sha256 = data_hash([{"text": t} for t in candidates])
    latest = latest_version(spec.name, POOL_KIND)
    if latest is not None and _same_candidates(latest, candidates_sha256):
        return _reused(latest)  # nothing changed that the near-duplicate pass could see: skip the embedding
    vectors = _embed(candidates, progress)
    keep = near_duplicate_keep(vectors, NEAR_DUPLICATE)
    counts["near_duplicates"] = len(candidates) - len(keep)
    counts["kept"] = len(keep)
    if not keep:
        raise LabelError(f"{source.path}: no messages left for the pool ({_said(counts)}); the log's column "
                         f"{source.text_column!r} must hold real messages that are not seeds or held-out rows")
    kept = [candidates[i] for i in keep]
    rows = [{"id": record_id(normal_text(t)), "text": t} for t in kept]
    if latest is not None and latest.manifest.data_sha256 == data_hash(rows):
        return _reused(latest)
    from workbench.models import models_for

    manifest = PoolManifest(
        task=spec.name, type=spec.type, kind=POOL_KIND, spec_hash=spec.spec_hash(), source=source.path,
        source_sha256=_file_sha256(Path(source.path)), text_column=source.text_column,
        counts=PoolCounts(read=len(texts), **counts), embedder=models_for("embedder")[0].name,
        near_duplicate=NEAR_DUPLICATE, candidates_sha256=candidates_sha256,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    version = save_version(spec.name, rows, manifest, kind=POOL_KIND)
    # The version folder is renamed into place by save_version; the vectors follow it. A crash in
    # between leaves a pool without vectors.npy, which load_pool embeds again.
    vectors = np.ascontiguousarray(vectors[keep], dtype=np.float32)
    _write_vectors(version, vectors)
    return Pool(version, kept, [r["id"] for r in rows], vectors, reused=False)


def load_pool(version: DatasetVersion) -> Pool:
    """The messages, ids and vectors of a saved pool version (embedding again if vectors.npy is missing)."""
    if version.kind != POOL_KIND:
        raise LabelError(f"{version.path} is a {version.kind} version, not a pool; pick one under "
                         f"{version.path.parent.parent / POOL_KIND}")
    data = version.load()
    texts, ids = list(data["text"]), list(data["id"])
    path = version.path / VECTORS
    vectors = None
    if path.is_file():
        try:
            vectors = np.load(path)
        except (OSError, ValueError):
            vectors = None  # a torn or foreign file: embed again below
    if vectors is None or vectors.shape[0] != len(texts):
        vectors = _embed(texts, False)
        _write_vectors(version, vectors)
    return Pool(version, texts, ids, vectors, reused=False)


def near_duplicate_keep(vectors: np.ndarray, threshold: float = NEAR_DUPLICATE) -> list[int]:
    """Indices of the rows kept, in order: a row is dropped when its cosine to a row kept before it
    is at or above ``threshold`` (``vectors`` unit length). Compared in blocks, so thousands of
    texts take well under a second.

    Example:
        >>> v = np.array([[1.0, 0.0], [0.999, 0.0447], [0.0, 1.0]])
        >>> near_duplicate_keep(v / np.linalg.norm(v, axis=1, keepdims=True), 0.97)
        [0, 2]
    """
    kept: list[int] = []
    kept_vectors = np.empty((0, vectors.shape[1]), dtype=np.float32)
    for start in range(0, len(vectors), _BLOCK):
        block = np.asarray(vectors[start:start + _BLOCK], dtype=np.float32)
        free = (block @ kept_vectors.T).max(axis=1) < threshold if len(kept_vectors) else np.ones(len(block), bool)
        inner = block @ block.T
        chosen: list[int] = []
        for i in np.flatnonzero(free):
            if not chosen or inner[i, chosen].max() < threshold:
                chosen.append(int(i))
        kept += [start + i for i in chosen]
        kept_vectors = np.concatenate([kept_vectors, block[chosen]])
    return kept


def _exact_filter(spec: TaskSpec, texts: list[str]) -> tuple[list[str], dict[str, int]]:
    """The texts left after empties, held-out / seed / validation rows and exact repeats, and those counts."""
    column = "text"
    known = {"in_heldout": {normal_text(r[column]) for r in spec.heldout_examples()},
             "in_seeds": {normal_text(r[column]) for r in spec.seed_examples},
             "in_validation": {normal_text(r[column]) for r in spec.validation_examples()}}
    counts = {"empty": 0, "exact_duplicates": 0, **{k: 0 for k in known}}
    seen: set[str] = set()
    out = []
    for text in texts:
        key = normal_text(text)
        reason = "empty" if not key else next((k for k, found in known.items() if key in found), None)
        if reason is None and key in seen:
            reason = "exact_duplicates"
        if reason:
            counts[reason] += 1
            continue
        seen.add(key)
        out.append(text.strip())
    return out, counts


def _same_candidates(version: DatasetVersion, candidates_sha256: str) -> bool:
    m = version.manifest
    return (getattr(m, "candidates_sha256", None) == candidates_sha256
            and getattr(m, "near_duplicate", None) == NEAR_DUPLICATE)


def _reused(version: DatasetVersion) -> Pool:
    pool = load_pool(version)
    pool.reused = True
    return pool


def _embed(texts: list[str], progress: bool) -> np.ndarray:
    from workbench.models import embed

    if not texts:
        return np.empty((0, 384), dtype=np.float32)
    return np.asarray(embed(texts, progress=progress), dtype=np.float32)


def _write_vectors(version: DatasetVersion, vectors: np.ndarray) -> None:
    tmp = version.path / f".{VECTORS}.partial-{os.getpid()}"
    with tmp.open("wb") as f:
        np.save(f, vectors)
    os.replace(tmp, version.path / VECTORS)  # atomic: a reader sees the old file or the whole new one


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _said(counts: dict[str, int]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items() if v)
