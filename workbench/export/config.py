"""Typed configuration of the Export stage, and its errors.

Example:
    >>> cfg = ExportConfig(run="support_intents/minilm-l6-synthetic-v001-1a2b3c4d", format="onnx-int8")
    >>> cfg.parity_rows, cfg.threads
    (None, None)
    >>> try:
    ...     ExportConfig(run="r", format="onnx", quant="q8_0")
    ... except ConfigError as err:
    ...     print(err)
    quant 'q8_0': quant is for format 'gguf' only (you asked for 'onnx'); leave it out
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from workbench.errors import ConfigError, WorkbenchError
from workbench.limits import stage_config

__all__ = ["ConfigError", "ExportConfig", "ExportError", "ParityError"]


class ExportError(WorkbenchError, ValueError):
    """An export that cannot be made as asked: a run of another objective, no held-out rows, a format not here."""


class ParityError(ExportError):
    """The exported model does not answer like the PyTorch student; nothing was kept."""


@stage_config
class ExportConfig(BaseModel):
    """Which run to export, to what, and how the export is checked."""

    run: str = Field(description="A finished train run: its folder, <task>/<run-id> or the run id.")
    format: Literal["onnx", "onnx-int8", "gguf", "merged"] = Field(
        description="onnx, onnx-int8 (classify runs); gguf, merged (SFT runs).")
    quant: Literal["f16", "q8_0", "q4_k_m"] = Field("q4_k_m", description="GGUF quantization (gguf only).")
    parity_rows: int | None = Field(None, ge=1, le=100_000, description="Held-out rows the parity check runs on; "
                                                                        "default all.")
    threads: int | None = Field(None, ge=1, le=256, description="CPU threads of the exported model's runtime; "
                                                                "default WORKBENCH_THREADS (0: all cores).")
    batch_size: int = Field(32, ge=1, le=4096, description="Texts per batch in the parity check.")
    parity_max_new_tokens: int = Field(64, ge=1, le=4096, description="Generators: reply tokens the parity "
                                                                      "check compares.")
    progress: bool = Field(True, description="Show tqdm progress bars (the reply parity check takes minutes).")

    @field_validator("quant")
    @classmethod
    def _quant_for_gguf(cls, quant: str, info: ValidationInfo) -> str:
        # Runs only when quant is given: its default stays silent for every format.
        fmt = info.data.get("format")
        if fmt is not None and fmt != "gguf":
            raise ValueError(f"quant is for format 'gguf' only (you asked for {fmt!r}); leave it out")
        return quant

    def resolved_threads(self) -> int:
        """``threads``, else the settings' default (all cores when that is 0)."""
        from workbench.settings import get_settings

        return self.threads or get_settings().resolved_threads()
