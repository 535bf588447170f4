"""The export's card, ``export.json``: :class:`ExportCard`, with the parity figures (:class:`Parity`).

The card holds no timestamps: the same run and format give the same files (listed with their
sizes and hashes), so an export can be checked against its card at any time. Only the
measured parity figures (latency) differ between two builds.

Example:
    >>> Parity(rows=120, label_agreement=1.0, max_prob_diff=2e-06).notes
    []
    >>> card = ExportCard.read(folder / "export.json")        # doctest: +SKIP
    >>> card.format, card.parity.label_agreement              # doctest: +SKIP
    ('onnx-int8', 0.983)
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import Field

from workbench.records import JsonRecord
from workbench.train.info import DatasetLineage

CARD = "export.json"


class Parity(JsonRecord):
    """How the export answers next to the PyTorch student, on the task's held-out rows."""

    rows: int = Field(description="Held-out rows compared.")
    label_agreement: float | None = Field(None, description="Classifiers: share of rows with the same label.")
    max_prob_diff: float | None = Field(None, description="Classifiers: largest difference of one probability.")
    exact_match: float | None = Field(None, description="Generators: share of identical greedy replies.")
    rouge_l: float | None = Field(None, description="Generators: mean ROUGE-L between the two replies.")
    latency_p50_ms: float | None = Field(None, description="Median latency of one message through the export.")
    tokens_per_s: float | None = Field(None, description="Generators: the export's reply tokens per second.")
    reference_tokens_per_s: float | None = Field(None, description="Generators: the transformers student's, "
                                                                   "on the same messages.")
    prompt_tokens_match: bool | None = Field(None, description="GGUF: llama.cpp tokenizes the training prompt "
                                                               "to the same tokens as the student.")
    notes: list[str] = Field(default_factory=list)


class FileEntry(JsonRecord):
    bytes: int
    sha256: str


class ExportCard(JsonRecord):
    """The contents of ``export.json``: where the export came from, what it holds, how it was checked."""

    task: str
    run_id: str
    student: str
    objective: str = Field(description="'classify' or 'sft', the run's objective.")
    dataset: DatasetLineage = Field(description="The dataset version the run trained on.")
    format: str
    quant: str | None = Field(None, description="GGUF quantization; None for other formats.")
    files: dict[str, FileEntry] = Field(description="Every file of the export but this card: bytes and sha256.")
    size_bytes: int = Field(description="The files' bytes in all.")
    parity: Parity
    key: str = Field(description="Content address: sha256 of the run's model files, format, quant, tool versions.")
    tools: dict[str, str] = Field(default_factory=dict, description="Exporter and runtime versions.")
    workbench_version: str

    @classmethod
    def read(cls, path: Path) -> "ExportCard":
        """The validated card of an export folder (or of that file itself)."""
        path = Path(path)
        return super().read(path / CARD if path.is_dir() else path)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_entries(folder: Path) -> dict[str, FileEntry]:
    """``{relative path: FileEntry}`` of every file under ``folder`` but the card, sorted."""
    files = sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.name != CARD)
    return {p.relative_to(folder).as_posix(): FileEntry(bytes=p.stat().st_size, sha256=sha256_file(p)) for p in files}
