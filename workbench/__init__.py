"""SLM Workbench: synthetic data, human review, small students, side-by-side evaluation.

Nothing heavy is imported here; each stage imports its own dependencies when it runs.
"""

import os

# The workbench never downloads weights or data at run time: every model is bundled.
# Forced (not defaulted) so a stray shell variable cannot turn the hub back on.
for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ[_var] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

__version__ = "0.1.0"
