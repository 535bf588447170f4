"""Watching a run: a progress bar with the live loss, TensorBoard, a log file and a PNG curve.

:class:`RunTracker` is one Trainer callback that

- shows a tqdm bar (tqdm.auto: a widget in notebooks) with the latest train/eval loss;
- writes every logged value to TensorBoard event files (``<run>/tensorboard``, offline:
  ``tensorboard --logdir .workbench/runs``) and appends it to ``<run>/log.jsonl``;
- redraws ``<run>/loss.png`` at each evaluation, so the curve is live on disk (and in a
  notebook cell, when one is running).

Example:
    >>> plot_loss([{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.5, "eval_loss": 1.7}],
    ...           Path("/tmp/loss.png"))            # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from transformers import TrainerCallback


def plot_loss(history: list[dict[str, Any]], path: Path, title: str = "") -> Path:
    """Train and validation loss against the optimizer step, saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and CI
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    for key, style, label in (("loss", "-", "train"), ("eval_loss", "o-", "validation")):
        points = [(h["step"], h[key]) for h in history if key in h]
        if points:
            ax.plot(*zip(*points), style, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend()
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}")
    fig.savefig(tmp, format="png")
    plt.close(fig)
    tmp.replace(path)
    return path


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython

        return get_ipython() is not None and "IPKernelApp" in get_ipython().config
    except Exception:  # IPython missing or not a kernel: a terminal
        return False


class RunTracker(TrainerCallback):
    """Progress, live loss, TensorBoard and the loss PNG for one run."""

    def __init__(self, run_dir: Path, title: str, progress: bool = True,
                 on_log: Callable[[dict[str, Any]], None] | None = None):
        self.run_dir, self.title, self.progress = run_dir, title, progress
        self.listener = on_log  # not self.on_log: that is the Trainer's event method
        self.bar = None
        self.writer = None
        self.steps_this_process = 0
        self.first_step: int | None = None
        self.display = None
        self.latest: dict[str, float] = {}

    def history(self) -> list[dict[str, Any]]:
        path = self.run_dir / "log.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def on_train_begin(self, args, state, control, **kwargs):
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(self.run_dir / "tensorboard"), purge_step=state.global_step or None)
        self.first_step = state.global_step
        if self.progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc=f"train {self.title}",
                            unit="step", dynamic_ncols=True)
        if _in_notebook() and self.listener is None:  # a listener (a panel) draws the curve itself
            from IPython.display import display

            self.display = display(display_id=True)

    def on_step_end(self, args, state, control, **kwargs):
        self.steps_this_process += 1
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        # SetFit's trainer logs its contrastive loss as embedding_loss: the same curve, one name
        logs = {k.replace("embedding_loss", "loss"): v for k, v in (logs or {}).items() if isinstance(v, (int, float))}
        if not logs:
            return
        entry = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4), **logs}
        with open(self.run_dir / "log.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        for key, value in logs.items():
            self.writer.add_scalar(key.replace("eval_", "eval/") if key.startswith("eval_") else f"train/{key}",
                                   value, state.global_step)
        self.latest.update({k: v for k, v in logs.items() if k in ("loss", "eval_loss", "eval_macro_f1")})
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in self.latest.items()}, refresh=True)
        if "eval_loss" in logs:
            self._redraw()
        if self.listener is not None:  # e.g. a panel's live loss plot
            self.listener(dict(entry))

    def _redraw(self) -> None:
        png = plot_loss(self.history(), self.run_dir / "loss.png", self.title)
        if self.display is not None:
            from IPython.display import Image

            self.display.update(Image(filename=str(png)))

    def on_train_end(self, args, state, control, **kwargs):
        self._redraw()
        if self.bar is not None:
            self.bar.close()
        if self.writer is not None:
            self.writer.close()
