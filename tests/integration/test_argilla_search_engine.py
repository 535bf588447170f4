"""The search engine's own tests, run where the engine runs: argilla-server's virtualenv."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_engine_suite_passes_in_argilla_venv(argilla_venv):
    result = subprocess.run(
        [str(argilla_venv / "bin" / "python"), "-m", "pytest", "tests/argilla_engine", "-q", "-p", "no:cacheprovider",
         "--confcutdir=tests/argilla_engine", "-W", "ignore::DeprecationWarning"],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", result.stdout).group(1))
    assert passed >= 15
