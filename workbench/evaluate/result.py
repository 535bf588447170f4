"""What an evaluation returns: :class:`EvaluateResult`, a table in a notebook.

Its rows are :class:`~workbench.evaluate.cells.CellResult` records; ``table()``, ``to_dict()``
(what ``--json`` prints and ``results.json`` holds) and ``_repr_html_()`` (the
``evaluate_result.html`` template) show them with the task type's columns.

Example:
    >>> from workbench.evaluate import EvaluateConfig, run_evaluate
    >>> result = run_evaluate(EvaluateConfig(task="support_intents", limit=20))   # doctest: +SKIP
    >>> result.table()[0]["strategy"], result.to_dict()["recommendation"]["model"]   # doctest: +SKIP
    ('teacher', 'minilm-l6')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench import html
from workbench.evaluate.cells import CellResult
from workbench.evaluate.ladder import Recommendation
from workbench.evaluate.report import table_html
from workbench.evaluate.task_types import task_type
from workbench.evaluate.worth import Worth


@dataclass
class EvaluateResult:
    """Every scored cell, the recommendation, the plan and the report; a table in a notebook."""

    task: str
    eval_id: str
    out_dir: Path
    metric: str
    rows: list[CellResult]
    skipped: list[dict[str, str]]
    recommendation: Recommendation
    focus: CellResult | None = None
    worst_errors: list[dict[str, Any]] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)
    plan_path: Path | None = None
    report_md: Path | None = None
    report_html: Path | None = None
    dataset: str | None = None
    heldout: int = 0
    task_type: str = "classification"
    judge: dict[str, Any] | None = None  # generation: the judge, its reference score and its Calibration
    worth: Worth | None = None  # the synthetic data's worth: focus run minus its seeds-only control
    seeds: int = 1  # training seeds per fine-tuned cell

    @property
    def headline(self) -> str:
        """The report's first line: what the synthetic data is worth, or why that is not measured."""
        return (self.worth or Worth(metric=self.metric, why="no fine-tuned run was scored")).line()

    @property
    def columns(self) -> list[str]:
        kind = task_type(self.task_type)
        optional = getattr(kind, "OUT_OF_SCOPE_COLUMNS", []) + getattr(kind, "SEED_COLUMNS", [])
        extra = [c for c in optional if any(r.get(c) is not None for r in self.rows)]
        return kind.COLUMNS + extra

    def table(self) -> list[dict[str, Any]]:
        """The rows without predictions: what the report and ``--json`` show."""
        return [r.row(self.columns) for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        judge = self.judge and {k: v for k, v in self.judge.items() if k != "calibration"}
        calibration = self.judge and self.judge["calibration"].to_dict()
        focus = self.focus and {"strategy": self.focus.strategy, "model": self.focus.model}
        return {"task": self.task, "type": self.task_type, "eval_id": self.eval_id, "out_dir": str(self.out_dir),
                "metric": self.metric, "heldout": self.heldout, "dataset": self.dataset, "rows": self.table(),
                "headline": self.headline, "worth": self.worth and self.worth.model_dump(), "seeds": self.seeds,
                "skipped": self.skipped, "recommendation": self.recommendation.to_dict(), "focus": focus,
                "plan": str(self.plan_path) if self.plan_path else None, "plan_labels": self.plan.get("labels"),
                **({"judge": judge, "judge_calibration": calibration} if self.judge else {}),
                "report_md": str(self.report_md), "report_html": str(self.report_html)}

    def _repr_html_(self) -> str:
        return html.render("evaluate_result.html", task=self.task, eval_id=self.eval_id, heldout=self.heldout,
                           headline=self.headline,
                           reason=self.recommendation.reason,
                           verdict=self.judge and self.judge["calibration"].verdict,
                           table=table_html(self.table(), self.recommendation.row))
