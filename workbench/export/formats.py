"""The export formats: :data:`FORMATS`, name -> :class:`ExportFormat`, and the module that builds each.

A format's module (imported lazily: it pulls in torch, onnx, llama.cpp) provides

- ``build(job: ExportJob) -> Parity``: write the exported files into ``job.out_dir`` (a fresh
  temporary folder that :func:`workbench.export.run_export` renames into place only after this
  returns) and return the parity figures, raising :class:`~workbench.export.ParityError` when
  the export does not answer like the PyTorch student;
- ``load(folder: Path, card: ExportCard)`` -> an ``ExportedClassifier`` or ``ExportedGenerator``;
- optionally ``tool_versions() -> dict[str, str]``: the exporters' versions, part of the
  content address and the card.

Example:
    >>> FORMATS["onnx-int8"].objectives
    ('classify',)
    >>> formats_for("classify")
    ['onnx', 'onnx-int8']
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class ExportFormat:
    name: str
    objectives: tuple[str, ...]  # the train objectives ('classify', 'sft') whose runs it exports
    description: str
    module: str  # dotted path of the module with build() and load()

    def load_module(self) -> ModuleType:
        return importlib.import_module(self.module)

    def tool_versions(self) -> dict[str, str]:
        versions = getattr(self.load_module(), "tool_versions", None)
        return dict(versions()) if versions else {}


FORMATS: dict[str, ExportFormat] = {
    "onnx": ExportFormat("onnx", ("classify",), "ONNX fp32 graph (onnxruntime), tokenizer and labels",
                         "workbench.export.onnx"),
    "onnx-int8": ExportFormat("onnx-int8", ("classify",), "ONNX with int8 dynamic quantization of the weights "
                              "(onnxruntime), tokenizer and labels", "workbench.export.onnx"),
    "gguf": ExportFormat("gguf", ("sft",), "GGUF (F16, Q8_0 or Q4_K_M) through llama.cpp's own converter and "
                         "quantizer, with an Ollama Modelfile: runs in llama.cpp, Ollama, LM Studio",
                         "workbench.export.gguf"),
    "merged": ExportFormat("merged", ("sft",), "the merged model as safetensors with its tokenizer "
                           "(transformers from_pretrained)", "workbench.export.merged"),
}


def formats_for(objective: str) -> list[str]:
    """The formats that export runs of ``objective``."""
    return [name for name, fmt in FORMATS.items() if objective in fmt.objectives]


def export_format(name: str) -> ExportFormat:
    """The registered format ``name``; :class:`ExportError` naming the registered ones otherwise."""
    from workbench.export.config import ExportError

    try:
        return FORMATS[name]
    except KeyError:
        raise ExportError(f"format {name!r} is not available in this workbench; choose one of "
                          f"{list(FORMATS)}") from None
