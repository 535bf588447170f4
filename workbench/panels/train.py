"""TrainPanel: a student, the main hyperparameters, Train, a live loss plot and the run's card.

Example:
    >>> from workbench.train import TrainConfig
    >>> from workbench.panels import TrainPanel
    >>> panel = TrainPanel(TrainConfig(task="support_intents", student="minilm-l6", epochs=3))  # doctest: +SKIP
    >>> result = panel.run()    # what the Train button calls: the same run_train as the CLI   # doctest: +SKIP
    >>> panel.result is result, result.metrics["eval_macro_f1"]                                # doctest: +SKIP
    (True, 0.87)
"""

from __future__ import annotations

import html
import tempfile
import time
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from workbench.limits import bounds
from workbench.panels.base import Panel
from workbench.train.config import TrainConfig

# Redraw the live plot at most this often (seconds); each validation loss redraws at once.
REDRAW_EVERY = 1.0


class TrainPanel(Panel):
    """Fine-tune a student from a notebook; ``result`` holds the last good TrainResult.

    The widgets override the config's student, dataset, epochs, learning rate and LoRA rank;
    everything else (batch size, max_steps, seed...) comes from the config. A blank dataset
    means "latest reviewed version, else latest synthetic"; 0 in a number box means "the
    task's default". While a run trains, the buttons are disabled, the status line says
    busy, and the loss plot redraws from each logged step (``loss_points``); at the end it
    shows the run's own ``loss.png``.
    """

    def __init__(self, config: TrainConfig):
        from workbench.train.students import list_students

        self.config = config
        defaults = _task_defaults(config.task)
        self.student = widgets.Combobox(value=config.student or defaults.get("student") or "",
                                        options=list_students(), ensure_option=False, description="student",
                                        placeholder="bundled name or a local model folder")
        self.dataset = widgets.Text(value=config.dataset or "", description="dataset",
                                    placeholder="latest reviewed, else synthetic")
        self.epochs = widgets.BoundedIntText(value=config.epochs or defaults.get("epochs") or 0, min=0,
                                             max=bounds(TrainConfig, "epochs")["le"], description="epochs")
        self.learning_rate = widgets.BoundedFloatText(value=config.learning_rate or defaults.get("learning_rate") or 0.0,
                                                      min=0.0, max=bounds(TrainConfig, "learning_rate")["le"], step=1e-4,
                                                      description="learning rate")
        self.lora_r = widgets.BoundedIntText(value=config.lora_r or defaults.get("lora_r") or 0, min=0,
                                             max=bounds(TrainConfig, "lora_r")["le"], description="LoRA r")
        self.loss_plot = widgets.Image(format="png", layout=widgets.Layout(max_width="600px"))
        self.metrics = widgets.HTML()
        self.card = widgets.HTML()
        self.run_button = widgets.Button(description="Train", button_style="primary", icon="play")
        self.run_button.on_click(lambda _: self.run())
        from workbench.export.formats import FORMATS

        self.export_format = widgets.Dropdown(options=list(FORMATS), value="onnx-int8" if "onnx-int8" in FORMATS
                                              else None, description="format")
        self.export_button = widgets.Button(description="Export", icon="box")
        self.export_button.on_click(lambda _: self.export())
        self.export_card = widgets.HTML()
        self.exported = None  # the last ExportResult
        self.result = None
        self.loss_points: list[dict[str, Any]] = []
        self.live_updates = 0  # on_log calls seen in the last run (0 for a frozen run)
        self._plot_dir = tempfile.TemporaryDirectory(prefix="workbench-loss-")
        self._drawn_at = 0.0
        super().__init__(f"Train: {config.task}",
                         [widgets.HBox([self.student, self.dataset]),
                          widgets.HBox([self.epochs, self.learning_rate, self.lora_r]),
                          self.loss_plot, self.metrics, self.card, self.export_card],
                         [self.run_button, self.export_format, self.export_button])

    def current_config(self) -> TrainConfig:
        """The config with the widgets' values (validated: a bad value raises here)."""
        update = {"student": self.student.value.strip() or None, "dataset": self.dataset.value.strip() or None,
                  "epochs": self.epochs.value or None, "learning_rate": self.learning_rate.value or None,
                  "lora_r": self.lora_r.value or None}
        return TrainConfig(**{**self.config.model_dump(), **update})  # a bad value: a plain ConfigError

    def run(self):
        """Train (or resume, or return the frozen run) with the panel's settings."""
        from workbench.train import run_train

        with self.busy(f"training {self.student.value or 'the default student'} on {self.config.task}"):
            cfg = self.current_config()
            self.loss_points, self.live_updates = [], 0
            result = run_train(cfg, on_log=self._on_log)
            self.result = result
            self._show(result)
        return self.result

    def export(self):
        """Export the panel's last run to the chosen format (the same run_export as the CLI)."""
        from workbench.export import ExportConfig, run_export
        from workbench.panels.base import PanelError

        with self.busy(f"exporting to {self.export_format.value}"):
            if self.result is None:
                raise PanelError("no run to export yet: press Train first (a finished run is returned at once)")
            self.exported = run_export(ExportConfig(run=str(self.result.run_dir), format=self.export_format.value))
            self.export_card.value = self.exported._repr_html_()
            p = self.exported.card.parity
            self.say(f"{'already exported' if self.exported.reused else 'exported'} {self.exported.folder} "
                     f"({self.exported.card.size_bytes / 2**20:.1f} MB; label agreement {p.label_agreement}, "
                     f"latency p50 {p.latency_p50_ms} ms)")
        return self.exported

    def _on_log(self, entry: dict[str, Any]) -> None:
        """Called by the Trainer for each logged dict: redraw the plot now and then."""
        self.live_updates += 1
        self.loss_points.append(entry)
        now = time.monotonic()
        if "eval_loss" in entry or now - self._drawn_at >= REDRAW_EVERY:
            self._drawn_at = now
            from workbench.train.tracking import plot_loss

            png = plot_loss(self.loss_points, Path(self._plot_dir.name) / "loss.png", "training...")
            self.loss_plot.value = png.read_bytes()

    def _show(self, result) -> None:
        from workbench.train.tracking import RunTracker

        self.loss_points = RunTracker(result.run_dir, "").history() or self.loss_points
        png = result.run_dir / "loss.png"
        if png.is_file():
            self.loss_plot.value = png.read_bytes()
        self.metrics.value = result._repr_html_()
        self.card.value = (f"model card: <code>{html.escape(str(result.card_path))}</code><br>"
                           f"model: <code>{html.escape(str(result.model_dir))}</code>")
        if result.reused:
            self.say(f"already trained: {result.run_id} is frozen, returned unchanged")
        m = result.metrics
        quality = ", ".join(f"{k} {v:.4g}" for k, v in m.items() if k in ("eval_loss", "eval_macro_f1",
                                                                           "eval_accuracy"))
        self.say(f"saved run {result.run_id} at {result.run_dir} ({result.info['steps']} steps"
                 f"{'; ' + quality if quality else ''})")
        self.say(f"model card: {result.card_path}")


def _task_defaults(task: str) -> dict[str, Any]:
    """The task spec's train defaults, to prefill the widgets; none if the spec does not load
    (Train then shows why in the log)."""
    from workbench.tasks import load_task

    try:
        d = load_task(task).train
    except (ValueError, OSError):  # a broken spec: Train shows the error
        return {}
    return {"student": d.student, "epochs": d.epochs, "learning_rate": d.learning_rate, "lora_r": d.lora_r}
