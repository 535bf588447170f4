"""An append-only journal of teacher outputs: what makes generation resumable.

Each finished prompt is appended as one JSON line and flushed to disk (``fsync``) the
moment the teacher answers it (:class:`workbench.generate.worker.JournaledGeneration`), so a
run killed at any moment (even with SIGKILL) keeps every answer but those in flight. On restart the journal says which prompts are done; a torn last line
(killed mid-write) is ignored and its prompt simply runs again.

Example:
    >>> import tempfile, pathlib
    >>> j = Journal(pathlib.Path(tempfile.mkdtemp()) / "journal.jsonl")
    >>> j.append([{"job": "r0-a-0000", "text": "hi"}])
    >>> j.done_jobs()
    {'r0-a-0000'}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

from workbench.faults import kill_point


class Journal:
    def __init__(self, path: Path):
        self.path = Path(path)

    def append(self, entries: Iterable[dict[str, Any]]) -> None:
        lines = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
        if not lines:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(lines)
            fh.flush()
            os.fsync(fh.fileno())
        kill_point("journal_append")  # test hook (workbench.faults)

    def repair(self) -> int:
        """Cut a torn last line left by a killed writer; returns the bytes removed."""
        if not self.path.is_file():
            return 0
        data = self.path.read_bytes()
        if not data or data.endswith(b"\n"):
            return 0
        keep = data.rfind(b"\n") + 1
        with self.path.open("r+b") as fh:
            fh.truncate(keep)
        return len(data) - keep

    def entries(self) -> list[dict[str, Any]]:
        """Every complete entry, first occurrence per job (a job is never counted twice)."""
        if not self.path.is_file():
            return []
        seen: dict[str, dict[str, Any]] = {}
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                if not line.endswith("\n"):
                    break  # torn write from a killed run: that job runs again
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                seen.setdefault(entry["job"], entry)
        return list(seen.values())

    def done_jobs(self) -> set[str]:
        return {e["job"] for e in self.entries()}

    def count(self) -> int:
        """Cheap line count, for progress bars polling from another thread."""
        if not self.path.is_file():
            return 0
        with self.path.open("rb") as fh:
            return sum(1 for _ in fh)
