"""Where training runs: the CPU by default, a CUDA GPU by itself when one is present.

On a GPU the run switches to bf16 (when the GPU supports it) and a bigger batch, since a
GPU is starved by the small CPU batches. On the CPU it stays fp32: this class of CPU has
no fast bf16 matrix units, and fp32 is what the benchmark's MFU is measured against.

Example:
    >>> choice = choose_hardware("cpu", batch_size=16)
    >>> choice.device, choice.batch_size, choice.bf16
    ('cpu', 16, False)
"""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass

from workbench.errors import WorkbenchError

GPU_BATCH_FACTOR = 4


@dataclass(frozen=True)
class HardwareChoice:
    """The device a run trains on, its batch size and precision, and a line describing it."""

    device: str
    batch_size: int
    bf16: bool
    description: str

    def to_dict(self) -> dict:
        return asdict(self)


class HardwareError(WorkbenchError, ValueError):
    """A device was asked for that this machine does not have."""


def choose_hardware(device: str, batch_size: int) -> HardwareChoice:
    """Resolve ``'auto'`` and pick precision and batch size for the device."""
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise HardwareError("device='cuda' was asked for but torch sees no CUDA GPU; use device='auto' or 'cpu'")
    if device == "cuda" or (device == "auto" and torch.cuda.is_available()):
        name = torch.cuda.get_device_name(0)
        return HardwareChoice("cuda", batch_size * GPU_BATCH_FACTOR, torch.cuda.is_bf16_supported(),
                              f"{name}, torch {torch.__version__}")
    cpu = platform.processor() or platform.machine()
    return HardwareChoice("cpu", batch_size, False,
                          f"{cpu}, {os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads, "
                          f"torch {torch.__version__}")
