"""Append benchmark rows to bench/RESULTS.md, under their own section's table.

Example:
    >>> append_rows("## Demo:", "## Demo: x\\n\\n| a |\\n|---|\\n", ["| 1 |"], path=Path("/tmp/R.md"))  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def append_rows(heading: str, section: str, rows: list[str], path: Path = RESULTS) -> None:
    """Put ``rows`` right under the last row of the table that follows ``heading``.

    ``section`` (the heading line, a blank line, the table header) is added first when the
    file has no such heading yet. Notes under a table stay below the new rows.
    """
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    if heading not in text:
        text = text.rstrip("\n") + "\n\n" + section.strip("\n") + "\n"
    lines = text.rstrip("\n").split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith(heading))
    at = next(i for i in range(at, len(lines)) if lines[i].startswith("|"))
    while at + 1 < len(lines) and lines[at + 1].startswith("|"):
        at += 1
    lines[at + 1:at + 1] = rows
    path.write_text("\n".join(lines) + "\n")


def pressure() -> str:
    """The first line of Linux's CPU pressure (the share of time some task waited for a CPU):
    printed beside every figure, since this machine is shared."""
    try:
        return Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return "unknown"


def machine() -> str:
    """What the figures were measured on, as the tables write it."""
    import os
    import platform

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"


def write_json(name: str, figures: dict) -> Path:
    """The last run's figures as data: ``bench/results/<name>.json``."""
    import json

    path = RESULTS.parent / "results" / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return path
