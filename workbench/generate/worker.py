"""Entry point of the teacher process: ``python -m workbench.generate.worker ROUND.pkl``.

:func:`workbench.generate.pipeline.run_jobs` writes one round's jobs, teacher and settings
to a pickle under the workbench home and starts this module in a new interpreter.
"""

import pickle
import sys
from pathlib import Path

from workbench.generate.pipeline import pipeline_process

if __name__ == "__main__":
    pipeline_process(*pickle.loads(Path(sys.argv[1]).read_bytes()))
