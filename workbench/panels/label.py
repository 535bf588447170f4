"""LabelPanel: the student labels the task's real messages; the budget and strategy, Label, then a
histogram of its confidence over the pool and how many messages per intent went to review.

Example:
    >>> from workbench.label.config import LabelConfig
    >>> from workbench.panels import LabelPanel
    >>> LabelPanel(LabelConfig(task="clinc_bank"))   # doctest: +SKIP
"""

from __future__ import annotations

import io

import ipywidgets as widgets

from workbench.label.config import LabelConfig
from workbench.limits import bounds
from workbench.panels.base import Panel


class LabelPanel(Panel):
    """Choose the budget and the strategy, label the pool, send the chosen messages to Argilla."""

    def __init__(self, config: LabelConfig):
        from workbench.label.select import SELECTORS

        self.config = config
        b = bounds(LabelConfig, "budget")
        self.budget = widgets.BoundedIntText(value=config.budget, min=b["ge"], max=b["le"], description="budget")
        self.strategy = widgets.Dropdown(options=list(SELECTORS), value=config.strategy, description="strategy")
        self.pseudo = widgets.Checkbox(value=config.pseudo_labels, description="save pseudo-labels")
        self.push_box = widgets.Checkbox(value=config.push, description="send to Argilla")
        self.summary = widgets.HTML()
        self.plot = widgets.Image(format="png", layout=widgets.Layout(max_width="900px"))
        self.label_button = widgets.Button(description="Label", button_style="primary", icon="tags")
        self.label_button.on_click(lambda _: self.run())
        self.result = None
        super().__init__(f"Label: {config.task}",
                         [widgets.HBox([self.budget, self.strategy]), widgets.HBox([self.pseudo, self.push_box]),
                          self.summary, self.plot], [self.label_button])

    def run(self):
        """Label with the widgets' choices; the result's table and plot replace the last ones."""
        from workbench.label import run_label

        cfg = LabelConfig(**{**self.config.model_dump(), "budget": self.budget.value, "strategy": self.strategy.value,
                             "pseudo_labels": self.pseudo.value, "push": self.push_box.value})
        with self.busy(f"labelling {cfg.task}'s messages ({cfg.strategy}, budget {cfg.budget})"):
            self.result = run_label(cfg)
            self.summary.value = self.result._repr_html_()
            buf = io.BytesIO()
            fig = self.result.figure()
            fig.savefig(buf, format="png", dpi=90)
            import matplotlib.pyplot as plt

            plt.close(fig)
            self.plot.value = buf.getvalue()
            self.say(str(self.result))
        return self.result
