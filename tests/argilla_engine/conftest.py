"""These tests run in argilla-server's own virtualenv, where ``sqlite_engine`` is importable."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "workbench" / "review" / "server"))
