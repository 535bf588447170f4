"""GeneratePanel: teacher, size, run with live progress, a sample of rows and the rejections.

Example:
    >>> from workbench.generate import GenerateConfig
    >>> from workbench.panels import GeneratePanel
    >>> GeneratePanel(GenerateConfig(task="support_intents", n=60))   # doctest: +SKIP
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from workbench.generate.config import GenerateConfig
from workbench.limits import bounds
from workbench.panels.base import Panel, table


class GeneratePanel(Panel):
    """Run the Generate stage from a notebook; ``result`` holds the last GenerateResult."""

    def __init__(self, config: GenerateConfig):
        from workbench.settings import get_settings

        self.config = config
        self.teacher = widgets.Text(value=config.teacher or get_settings().teacher, description="teacher")
        self.n = widgets.BoundedIntText(value=config.n, min=1, max=bounds(GenerateConfig, "n")["le"],
                                        description="rows")
        self.seed = widgets.IntText(value=config.seed, description="seed")
        self.sample = widgets.HTML()
        self.rejections = widgets.HTML()
        self.run_button = widgets.Button(description="Generate", button_style="primary", icon="play")
        self.run_button.on_click(lambda _: self.run())
        self.result = None
        super().__init__(f"Generate: {config.task}", [widgets.HBox([self.teacher, self.n, self.seed]),
                                                      self.sample, self.rejections], [self.run_button])

    def current_config(self) -> GenerateConfig:
        return self.config.model_copy(update={"teacher": self.teacher.value.strip() or None,
                                              "n": self.n.value, "seed": self.seed.value})

    def run(self):
        """Generate with the panel's settings (tqdm bars show in the log)."""
        from workbench.generate import run_generate

        cfg = self.current_config()
        with self.busy(f"generating {cfg.n} rows for {cfg.task}"):
            self.result = run_generate(cfg)
            data = self.result.version.load()
            rows = [dict(r) for r in data.select(range(min(10, len(data))))]
            keep = ("text", "label") if "text" in (rows[0] if rows else {}) else ("input", "output")
            self.sample.value = (f"<b>{html.escape(self.result.version.version)}</b>: "
                                 f"{self.result.counts.get('kept')} rows; a sample:"
                                 + table([{k: r.get(k) for k in keep} for r in rows]))
            rejected = self.result.counts.get("rejected", {})
            self.rejections.value = "<b>rejected</b>" + table([{"reason": k, "rows": v} for k, v in rejected.items()],
                                                               limit=50)
            self.say(f"saved {self.result.version.version} at {self.result.version.path}")
        return self.result
