"""Cost figures for one strategy: per-item latency, throughput, peak memory, size on disk.

Peak memory is the process's resident set, sampled every few milliseconds by a thread
while the strategy loads and runs, minus what the process held before it started: the
memory this strategy needs on top of the Python process, model loading included.

Example:
    >>> with MemoryProbe() as probe:
    ...     block = bytearray(50_000_000)
    >>> probe.peak_mb > 30
    True
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable, Self


class MemoryProbe:
    """Peak RSS above the starting RSS, in MB, over the ``with`` block."""

    def __init__(self, interval: float = 0.005):
        self.interval = interval
        self.peak_mb = 0.0

    def __enter__(self) -> Self:
        import psutil

        self._proc = psutil.Process()
        self._start = self._peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, self._proc.memory_info().rss)
            time.sleep(self.interval)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, self._proc.memory_info().rss)
        self.peak_mb = (self._peak - self._start) / 2**20


def profile_calls(build: Callable[[], Any], method: str, items: list) -> tuple[list, Any, dict[str, float | None]]:
    """Build a model and call its ``method`` on each item, one at a time, under a memory probe.

    Returns the outputs, the model (closed; read its size before dropping it) and the costs:
    latency p50/p95 per item in ms, throughput (items over the wall time of the loop) and the
    peak memory the model added, loading included.
    """
    from workbench.evaluate.metrics import percentile

    latencies, outputs = [], []
    with MemoryProbe() as probe:
        model = build()
        call = getattr(model, method)
        started = time.perf_counter()
        for item in items:
            t0 = time.perf_counter()
            outputs.append(call(item))
            latencies.append(time.perf_counter() - t0)
        wall = time.perf_counter() - started
        model.close()
    costs = {"latency_p50_ms": round(1000 * percentile(latencies, 50), 2),
             "latency_p95_ms": round(1000 * percentile(latencies, 95), 2),
             "throughput_per_s": round(len(items) / wall, 2) if wall else None,
             "peak_mem_mb": round(probe.peak_mb, 1)}
    return outputs, model, costs


def disk_bytes(*paths: Path | str) -> int:
    """Bytes of files (folders summed recursively); missing paths count 0."""
    total = 0
    for p in map(Path, paths):
        if p.is_file():
            total += p.stat().st_size
        elif p.is_dir():
            total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return total


def torch_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())
