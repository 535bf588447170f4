"""SLM Workbench: synthetic data, human review, small students, side-by-side evaluation.

Nothing heavy is imported here; each stage imports its own dependencies when it runs.
"""

import os
import warnings

# The workbench never downloads weights or data at run time: every model is bundled.
# Forced (not defaulted) so a stray shell variable cannot turn the hub back on.
for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ[_var] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

# distilabel 1.5 declares fields that pydantic 2.12+ warns about on every import (and
# every spawned step process). Nothing a user can act on, so it is silenced here only.
warnings.filterwarnings("ignore", message=r"The 'default' attribute with value None was provided")

__version__ = "0.1.0"
