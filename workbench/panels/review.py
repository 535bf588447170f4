"""ReviewPanel: the Argilla link, push and pull, progress per reviewer, acceptance per label.

Example:
    >>> from workbench.review import ReviewConfig
    >>> from workbench.panels import ReviewPanel
    >>> ReviewPanel(ReviewConfig(task="support_intents"))   # doctest: +SKIP
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from workbench.panels.base import Panel, table
from workbench.review.config import ReviewConfig


class ReviewPanel(Panel):
    """Push synthetic data, watch reviewers progress, pull the reviewed version."""

    def __init__(self, config: ReviewConfig):
        self.config = config
        self.policy = widgets.Dropdown(options=["human", "wait", "auto"], value=config.policy, description="policy")
        self.link = widgets.HTML()
        self.progress = widgets.VBox()
        self.summary = widgets.HTML()
        self.push_button = widgets.Button(description="Push", icon="upload")
        self.status_button = widgets.Button(description="Refresh", icon="refresh")
        self.pull_button = widgets.Button(description="Pull", button_style="primary", icon="download")
        self.push_button.on_click(lambda _: self.push())
        self.status_button.on_click(lambda _: self.refresh())
        self.pull_button.on_click(lambda _: self.run())
        self.pushed = self.review_state = self.pulled = None
        super().__init__(f"Review: {config.task}", [self.link, self.policy, self.progress, self.summary],
                         [self.push_button, self.status_button, self.pull_button])

    def push(self):
        from workbench.review import run_push

        with self.busy(f"pushing {self.config.task} to Argilla"):
            self.pushed = run_push(self.config)
            self.say(str(self.pushed))
            self._link(self.pushed.url)
            self.refresh()
        return self.pushed

    def refresh(self):
        """Progress overall and per reviewer, as bars."""
        from workbench.review import review_status

        with self.busy("reading review progress"):
            self.review_state = review_status(self.config)
            self._link(self.review_state.url)
            bars = [self._bar("all reviewers", self.review_state.completed, self.review_state.total)]
            for name, counts in self.review_state.reviewers.items():
                done = counts.get("submitted", 0) + counts.get("discarded", 0)
                bars.append(self._bar(name, done, self.review_state.total))
            self.progress.children = bars
        return self.review_state

    def run(self):
        """Pull with the chosen policy; 'wait' says how many records still await review."""
        from workbench.review import run_pull

        cfg = self.config.model_copy(update={"policy": self.policy.value})
        with self.busy(f"pulling reviewed {cfg.task} (policy {cfg.policy})"):
            self.pulled = run_pull(cfg)
            c = self.pulled.counts
            rows = [{"suggested label": k, "accepted": f"{v:.0%}"} for k, v in c["acceptance_by_suggested_label"].items()]
            agreement = c["agreement"]
            self.summary.value = (
                f"<b>{html.escape(self.pulled.version.version)}</b>: {c['reviewed']} reviewed, "
                f"{c['unreviewed']} not yet; decisions {html.escape(str(c['decisions']))}; "
                f"agreement {agreement['method'] or 'n/a'} = {agreement['value']}" + table(rows, limit=50))
            self.say(str(self.pulled))
        return self.pulled

    def _link(self, url: str) -> None:
        self.link.value = f"Argilla: <a href='{html.escape(url)}' target='_blank'>{html.escape(url)}</a>"

    @staticmethod
    def _bar(name: str, done: int, total: int) -> widgets.HBox:
        bar = widgets.IntProgress(value=done, min=0, max=max(total, 1))
        return widgets.HBox([widgets.Label(f"{name}", layout=widgets.Layout(width="140px")), bar,
                             widgets.Label(f"{done}/{total}")])
