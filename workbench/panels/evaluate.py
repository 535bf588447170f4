"""EvaluatePanel: strategies x students, the table, quality against latency, a recommendation,
and the errors turned into the next generation round.

Example:
    >>> from workbench.evaluate import EvaluateConfig
    >>> from workbench.panels import EvaluatePanel
    >>> panel = EvaluatePanel(EvaluateConfig(task="support_intents", limit=40))   # doctest: +SKIP
    >>> result = panel.run()            # what Evaluate calls: the same run_evaluate as the CLI  # doctest: +SKIP
    >>> result.recommendation.reason                                               # doctest: +SKIP
    'minilm-l6 (finetuned) is the smallest model that meets macro_f1 >= 0.8'
    >>> plan_path = panel.plan_next()   # the plan aimed at the errors (plan.yaml)  # doctest: +SKIP
    >>> panel.plan_status               # 'no_errors' (and plan_path None): tick top_up  # doctest: +SKIP
    'errors'
    >>> panel.generate_next().version.version    # generate --plan                  # doctest: +SKIP
    'v002'
"""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as widgets

from workbench.evaluate.config import STRATEGIES, EvaluateConfig
from workbench.generate.config import GenerateConfig
from workbench.limits import bounds
from workbench.next_round import NextRoundPlan
from workbench.panels.base import Panel, PanelError, table

# A generation task's evaluation has no per-label plan (see workbench.evaluate.run).
NO_PLAN = "no next-round plan: generation tasks have no per-label targets"


class EvaluatePanel(Panel):
    """Score strategies side by side from a notebook; ``result`` holds the last good EvaluateResult.

    The checkboxes, the students list and the limit (0: every held-out row) override the
    config; the rest (runs, teacher, k, plan size...) comes from it. ``plan_next()`` shows the
    generation plan the evaluation wrote (new examples per label, the confusable pairs) and
    returns its path; ``generate_next()`` runs ``run_generate`` on that plan, with the other
    settings of ``generate`` (a GenerateConfig template: teacher, slots...) when given.
    An evaluation without errors plans nothing and both say so (``plan_status`` is
    ``no_errors``), unless ``top_up`` (the checkbox) asks for the weakest labels instead.
    """

    def __init__(self, config: EvaluateConfig, generate: GenerateConfig | None = None, top_up: bool = False):
        from workbench.evaluate.ladder import DEFAULT_STUDENTS

        self.config = config
        self.generate_template = generate
        chosen = config.strategies or list(STRATEGIES)
        self.strategies = {s: widgets.Checkbox(value=s in chosen, description=s, indent=False,
                                               layout=widgets.Layout(width="auto"))
                           for s in STRATEGIES}
        students = list(dict.fromkeys([*DEFAULT_STUDENTS, *(config.students or [])]))
        self.students = widgets.SelectMultiple(options=students, value=tuple(config.students or DEFAULT_STUDENTS),
                                               rows=min(len(students), 5), description="students")
        self.limit = widgets.BoundedIntText(value=config.limit or 0, min=0, max=bounds(EvaluateConfig, "limit")["le"],
                                            description="limit",
                                            tooltip="held-out rows to score; 0 = all")
        self.results_table = widgets.HTML()
        self.plot = widgets.Image(format="png", layout=widgets.Layout(max_width="640px"))
        self.recommendation = widgets.HTML()
        self.top_up = widgets.Checkbox(value=top_up, description="no errors: top up the weakest labels",
                                       indent=False, layout=widgets.Layout(width="auto"))
        self.plan = widgets.HTML()
        self.generated = widgets.HTML()
        self.run_button = widgets.Button(description="Evaluate", button_style="primary", icon="play")
        self.plan_button = widgets.Button(description="Plan next round", icon="list")
        self.generate_button = widgets.Button(description="Generate from plan", icon="magic")
        self.run_button.on_click(lambda _: self.run())
        self.plan_button.on_click(lambda _: self.plan_next())
        self.generate_button.on_click(lambda _: self.generate_next())
        self.result = None
        self.generate_result = None
        self.next_plan: NextRoundPlan | None = None
        self.next_plan_path: Path | None = None
        super().__init__(f"Evaluate: {config.task}",
                         [widgets.HBox(list(self.strategies.values())), widgets.HBox([self.students, self.limit]),
                          self.top_up,
                          self.recommendation, self.results_table, self.plot, self.plan, self.generated],
                         [self.run_button, self.plan_button, self.generate_button])

    def current_config(self) -> EvaluateConfig:
        """The config with the widgets' values; refuses an empty choice (it would mean "all")."""
        strategies = [s for s, box in self.strategies.items() if box.value]
        if not strategies:
            raise PanelError("tick at least one strategy")
        if not self.students.value:
            raise PanelError("select at least one student")
        update = {"strategies": strategies, "students": list(self.students.value), "limit": self.limit.value or None}
        return EvaluateConfig(**{**self.config.model_dump(), **update})  # a bad value: a plain ConfigError

    def run(self):
        """Evaluate with the panel's settings: table, plot and recommendation replace the last ones."""
        from workbench.evaluate import run_evaluate

        with self.busy(f"evaluating {self.config.task}"):
            cfg = self.current_config()
            result = run_evaluate(cfg)
            self.result = result
            self._show(result)
        return self.result

    @property
    def plan_status(self) -> str | None:
        """``errors``, ``top_up`` or ``no_errors`` for the last plan shown; None before one."""
        return self.next_plan.status if self.next_plan is not None else None

    def plan_next(self) -> Path | None:
        """Show the next-round plan of the last evaluation; returns the path generation would use.

        No errors: the panel says so and returns None, unless "top up" is ticked, which plans
        new examples for the weakest labels instead (written beside plan.yaml).
        """
        with self.busy("reading the generation plan"):
            plan, path = self._next_plan()
            self._show_plan(plan, path)
        return self.next_plan_path if self.last_error is None else None

    def generate_next(self):
        """Generate the planned round (``run_generate`` with ``plan=``); returns the GenerateResult.

        With nothing to plan (no errors, no top-up), it generates nothing and returns None;
        the status line and the plan area say why.
        """
        from workbench.generate import run_generate

        self.generate_result = None
        with self.busy("generating the next round from the plan"):
            plan, path = self._next_plan()
            if path is None:
                self._show_plan(plan, path)
                why = plan.summary() if plan is not None else NO_PLAN
                self.generated.value = f"<i>nothing generated: {html.escape(why)}</i>"
                return None
            template = self.generate_template or GenerateConfig(task=self.config.task)
            cfg = template.model_copy(update={"plan": str(path)})
            self.say(f"generating from {path}")
            gen = run_generate(cfg)
            self.generate_result = gen
            c = gen.counts
            note = " (already generated: the saved version)" if gen.reused else ""
            self.generated.value = (f"<b>new version {html.escape(gen.version.version)}</b>{note}: "
                                    f"{c.get('kept')} rows"
                                    + table([{"label": k, "rows": v} for k, v in (c.get("per_label") or {}).items()],
                                            limit=100))
            self.say(f"saved {gen.version.version} at {gen.version.path}{note}")
        return self.generate_result

    def _next_plan(self) -> tuple[NextRoundPlan | None, Path | None]:
        """The plan of the last evaluation, topped up when asked and there were no errors."""
        result = self._evaluated()
        self.next_plan = self.next_plan_path = None
        if not result.plan:  # a generation task: no per-label plan
            return None, None
        plan = NextRoundPlan.model_validate(result.plan)
        path = result.plan_path
        if plan.status == "no_errors" and self.top_up.value and result.focus is not None:
            # No errors means the predictions are the true labels: the plan can be rebuilt from them.
            preds = result.focus["predictions"]
            plan = NextRoundPlan.build(plan.task, preds, preds, self.config.plan_size, plan.source,
                                       labels=list(result.focus.get("per_label") or {}) or None, top_up=True)
            path = plan.write(Path(result.out_dir) / "plan_top_up.yaml")
        self.next_plan = plan
        self.next_plan_path = None if plan.empty else path
        return plan, self.next_plan_path

    def _show_plan(self, plan: NextRoundPlan | None, path: Path | None) -> None:
        if plan is None:
            self.plan.value = f"<i>{html.escape(NO_PLAN)}</i>"
            self.outcome(NO_PLAN)
            return
        source = plan.source
        head = (f"<b>next round</b>: {html.escape(plan.summary())}<br>from "
                f"{html.escape(str(source.get('strategy', '?')))} / {html.escape(str(source.get('model', '?')))} "
                f"on {plan.scored} held-out rows")
        if path is None:  # no errors, no top-up: a result to show, not an error
            self.plan.value = head
            self.outcome(plan.summary())
            self.say(f"plan: {plan.summary()}")
            return
        labels = [{"label": k, "new examples": v} for k, v in plan.labels.items()]
        pairs = [{"confusable pair": " <-> ".join(p.labels), "errors": p.errors, "new examples": p.n}
                 for p in plan.pairs]
        self.plan.value = (head + f"<br><code>{html.escape(str(path))}</code>" + table(labels, limit=100)
                           + (table(pairs, limit=100) if pairs else ""))
        self.say(f"plan: {plan.labels} at {path}")

    def _evaluated(self):
        if self.result is None:
            raise PanelError("no evaluation yet: press Evaluate first")
        return self.result

    def _show(self, result) -> None:
        summary = result.to_dict()
        self.results_table.value = result._repr_html_()
        png = Path(result.out_dir) / "quality_latency.png"
        self.plot.value = png.read_bytes() if png.is_file() else b""
        rec = summary.get("recommendation") or {}
        value = rec.get("value")
        meets = ("meets" if rec.get("meets_bar") else
                 "may meet (its interval straddles)" if rec.get("status") == "uncertain" else "misses")
        verdict = (f"{rec.get('metric')} {value:.3g} {meets} the bar {rec.get('bar')}"
                   if isinstance(value, (int, float)) else "")
        self.recommendation.value = (f"<b>recommended</b>: {html.escape(str(rec.get('model') or '-'))} "
                                     f"({html.escape(str(rec.get('strategy') or '-'))}) {html.escape(verdict)}"
                                     f"<br>{html.escape(str(rec.get('reason') or ''))}")
        for s in summary.get("skipped") or []:
            self.say(f"skipped {s.get('strategy')} {s.get('model')}: {s.get('why')}")
        self.plan.value = self.generated.value = ""  # they belonged to the previous evaluation
        self.next_plan = self.next_plan_path = None
        self.say(f"recommended: {rec.get('reason')}")
        self.say(f"report at {summary.get('report_html') or result.out_dir}")
        if result.plan_path:
            self.say(f"generation plan at {result.plan_path}: 'Plan next round' shows it")
