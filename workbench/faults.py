"""Test hook: kill the command at a named point, to prove a kill there loses nothing.

``WORKBENCH_FAULT_KILL_AT=<point>[:<k>]`` makes the ``k``-th pass (default the first) of this
process through ``kill_point("<point>")`` SIGKILL its whole process group, as a killed
terminal would: the ``workbench`` command and its teacher processes die together. Unset (always,
outside the fault tests in ``tests/faults/``), a kill point costs one attribute read.

Points: ``journal_append`` (a teacher answer journaled), ``generate_before_save`` (rows
curated, nothing saved), ``store_before_rename`` (a version written under its hidden name),
``store_after_rename`` (the version in place, the run not yet told), ``generate_after_save``
(the run's result.json written).

Example:
    >>> kill_point("store_after_rename")  # no WORKBENCH_FAULT_KILL_AT: nothing happens
"""

from __future__ import annotations

import os
import signal
from collections import Counter

from workbench.settings import get_settings

_passes: Counter[str] = Counter()


def kill_point(name: str) -> None:
    """SIGKILL this process group if ``WORKBENCH_FAULT_KILL_AT`` names this pass through ``name``."""
    wanted = get_settings().fault_kill_at
    if not wanted or wanted.partition(":")[0] != name:
        return
    _passes[name] += 1
    if _passes[name] == int(wanted.partition(":")[2] or 1):
        os.killpg(os.getpgid(0), signal.SIGKILL)
