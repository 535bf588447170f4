"""Format ``merged``: an SFT student as one plain transformers folder (safetensors, config,
tokenizer, chat template), loadable by ``AutoModelForCausalLM.from_pretrained`` anywhere,
without peft or the workbench.

The files are the run's merged model (``run_dir/model``: Train merged the LoRA adapter into
the base weights) as they are. A classifier run is refused: its deployable formats are
``onnx`` and ``onnx-int8``, and ``load_student`` already loads its merged folder.

Example:
    >>> generator = load(folder, card)                                  # doctest: +SKIP
    >>> generator.predict(["How do I skip my next box?"], max_new_tokens=32)   # doctest: +SKIP
    ['Hi, you can skip a box from Account > Deliveries...']
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.export.replies import heldout_texts, reply_parity, require_sft


class MergedExportError(WorkbenchError):
    """A run whose merged model folder is missing or incomplete."""


def copy_model(model_dir: Path, out: Path) -> list[str]:
    """Copy the model folder's files (not hidden ones) into ``out``; their names."""
    files = sorted(p for p in model_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    if not (model_dir / "config.json").is_file() or not any(p.suffix == ".safetensors" for p in files):
        raise MergedExportError(f"{model_dir} holds no config.json and safetensors weights: the run is not "
                                "complete; train it again")
    out.mkdir(parents=True, exist_ok=True)
    for p in files:
        shutil.copyfile(p, out / p.name)
    return [p.name for p in files]


class MergedGenerator:
    """A merged export answering through transformers, greedy, in the student's SFT chat prompt."""

    objective = "sft"

    def __init__(self, folder: Path, card: Any = None, device: str = "cpu"):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.folder, self.card, self.device = Path(folder), card, device
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.folder))
        self.model = AutoModelForCausalLM.from_pretrained(str(self.folder), dtype=torch.float32).to(device).eval()
        self.parameters: int | None = sum(p.numel() for p in self.model.parameters())
        self.disk_bytes: int | None = sum(p.stat().st_size for p in self.folder.iterdir() if p.is_file())
        self.new_tokens: list[int] = []  # per reply, counted in the student's tokens

    def predict(self, texts: list[str] | str, batch_size: int = 8, max_new_tokens: int = 128) -> list[str]:
        """Greedy replies to ``texts`` (the same code path as ``TrainedStudent.predict``)."""
        from workbench.train.predict import check_inputs, generate_replies

        texts = check_inputs(texts, batch_size)
        replies = generate_replies(self.model, self.tokenizer, texts, batch_size, max_new_tokens, self.device)
        self.new_tokens += [len(self.tokenizer(r, add_special_tokens=False)["input_ids"]) for r in replies]
        return replies

    def close(self) -> None:
        self.model = None


def build(job: Any):
    """Copy the merged model into ``job.out_dir``; return its reply parity with the run's student."""
    from workbench.train.predict import load_student

    require_sft(job.info, "merged")
    out = Path(job.out_dir)
    copy_model(Path(job.run_dir) / "model", out)
    exported = MergedGenerator(out)
    try:
        reference = load_student(job.run_dir, device="cpu")
        return reply_parity(exported, reference, heldout_texts(job.heldout, job.cfg.parity_rows),
                            job.cfg.parity_max_new_tokens, ["the run's merged model as it is (safetensors, float32)"],
                            progress=job.cfg.progress)
    finally:
        exported.close()


def load(folder: Path, card: Any = None, threads: int | None = None) -> MergedGenerator:
    """The merged export as a generator on transformers. ``threads`` is not applied: torch's thread
    count belongs to the whole process, not to one model."""
    if not (Path(folder) / "config.json").is_file():
        raise MergedExportError(f"{folder} holds no config.json: it is not a merged export; export it again")
    return MergedGenerator(folder, card)


def tool_versions() -> dict[str, str]:
    """The files are the run's own; only the library that reads them back matters."""
    from importlib.metadata import version

    return {"transformers": version("transformers")}
