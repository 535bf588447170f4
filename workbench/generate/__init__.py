"""Generate stage: a teacher writes synthetic task data (see :mod:`workbench.generate.run`)."""

from workbench.generate.config import GenerateConfig
from workbench.generate.run import GenerateResult, run_generate

__all__ = ["GenerateConfig", "GenerateResult", "run_generate"]
