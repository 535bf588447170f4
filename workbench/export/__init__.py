"""Export stage: a finished train run -> a self-contained, checked artifact (see :mod:`workbench.export.run`).

Importing this package is cheap: torch, onnx and onnxruntime load when an export is built or loaded.
"""

from workbench.export.card import ExportCard, Parity
from workbench.export.config import ExportConfig, ExportError, ParityError
from workbench.export.formats import FORMATS, ExportFormat
from workbench.export.run import ExportJob, ExportResult, run_export
from workbench.export.runtime import NotAnExportError, is_export, load_export

__all__ = ["FORMATS", "ExportCard", "ExportConfig", "ExportError", "ExportFormat", "ExportJob", "ExportResult",
           "NotAnExportError", "Parity", "ParityError", "is_export", "load_export", "run_export"]
