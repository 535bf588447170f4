"""The next round of data: a typed plan of new examples per label, aimed at what the model gets wrong.

Evaluate builds it from held-out predictions and writes ``plan.yaml``; generate reads it
(``workbench generate --plan PLAN``) and takes its ``labels`` map as the per-label targets.
It lives below both stages, so neither imports the other for it.

Every held-out error (true ``a``, predicted ``b``) earns ``total / errors`` new examples,
split evenly between ``a`` (the label it missed) and ``b`` (the label it wrongly chose):
both sides of a confusion need sharper examples. Per-label counts are rounded so they
sum to ``total`` (largest remainders). Labels without errors get nothing.

No errors means nothing to aim at: the plan says so (``status="no_errors"``, empty
``labels``) instead of failing. Asked to (``top_up=True``), it then tops up the weakest
labels instead: the half of the task's labels with the lowest held-out F1 (then recall,
then fewest held-out rows: the least evidence), ``total`` split evenly among them.

Example:
    >>> p = NextRoundPlan.build("t", ["a", "a", "b", "c"], ["b", "a", "a", "c"], total=10)
    >>> p.status, p.labels, p.pairs[0].labels, p.pairs[0].n
    ('errors', {'a': 5, 'b': 5}, ['a', 'b'], 10)
    >>> q = NextRoundPlan.build("t", ["a", "b"], ["a", "b"], total=10, labels=["a", "b", "c"], top_up=True)
    >>> q.status, q.labels
    ('top_up', {'a': 5, 'c': 5})
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from workbench.errors import WorkbenchError

PlanStatus = Literal["errors", "top_up", "no_errors"]
# Said wherever a plan has nothing to generate (panel, notebook, generate --plan).
NOTHING_TO_PLAN = "no errors on the held-out set: nothing to plan (ask for a top-up of the weakest labels)"


class PlanError(WorkbenchError, ValueError):
    """A plan file that cannot drive generation; the message says what to fix."""


class ConfusablePair(BaseModel):
    """Two labels the model mixed up (either way round), its errors and the examples they earn."""

    labels: list[str]
    errors: int
    n: int


class NextRoundPlan(BaseModel):
    """What the next generation round should make: ``labels`` maps label to new examples.

    ``status`` says why: ``errors`` (aimed at held-out errors), ``top_up`` (no errors, the
    weakest labels topped up on request) or ``no_errors`` (nothing to generate). A plan
    written by hand needs only ``labels``.
    """

    model_config = ConfigDict(extra="ignore")

    task: str = ""
    total: int = 0
    labels: dict[str, int] = Field(default_factory=dict)
    pairs: list[ConfusablePair] = Field(default_factory=list)
    errors: int = 0
    scored: int = 0
    source: dict[str, Any] = Field(default_factory=dict)
    status: PlanStatus = "errors"
    top_up: bool = False

    @model_validator(mode="before")
    @classmethod
    def _status_of_old_files(cls, data: Any) -> Any:
        # Plans written before ``status`` existed: no labels means there were no errors.
        if isinstance(data, dict) and "status" not in data:
            data = {**data, "status": "errors" if data.get("labels") else "no_errors"}
        return data

    @property
    def empty(self) -> bool:
        """True when the plan asks for nothing (every count 0)."""
        return not any(self.labels.values())

    @classmethod
    def build(cls, task: str, y_true: list[str], y_pred: list[str], total: int = 100,
              source: dict[str, Any] | None = None, *, labels: list[str] | None = None,
              top_up: bool = False) -> NextRoundPlan:
        """A plan from predictions on the held-out set.

        ``labels`` (the task's labels; default those seen in ``y_true``) is what a top-up
        chooses from; ``top_up`` only matters when there are no errors.
        """
        errors = Counter((t, p) for t, p in zip(y_true, y_pred, strict=True) if t != p)
        n_errors = sum(errors.values())
        plan = cls(task=task, errors=n_errors, scored=len(y_true), source=source or {}, top_up=top_up,
                   status="errors" if n_errors else "no_errors")
        if n_errors:
            weights: Counter[str] = Counter()
            pairs: Counter[tuple[str, str]] = Counter()
            for (t, p), c in errors.items():
                weights[t] += c / 2
                weights[p] += c / 2
                pairs[tuple(sorted((t, p)))] += c  # a<->b in either direction is one confusable pair
            plan.labels = _sorted_counts(_largest_remainder(dict(weights), total))
            plan.pairs = [ConfusablePair(labels=list(pair), errors=c, n=round(total * c / n_errors))
                          for pair, c in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))]
        elif top_up and y_true:
            weakest = _weakest(y_true, y_pred, labels or sorted(set(y_true)))
            plan.labels = _sorted_counts(_largest_remainder({lab: 1.0 for lab in weakest}, total))
            plan.status = "top_up"
        plan.total = sum(plan.labels.values())
        return plan

    def summary(self) -> str:
        """One line for a status bar or a log."""
        what = {"errors": f"aimed at {self.errors} errors", "top_up": "topping up the weakest labels (no errors)",
                "no_errors": NOTHING_TO_PLAN}[self.status]
        return f"{self.total} new examples {what}" if self.status != "no_errors" else what

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()

    def write(self, path: Path) -> Path:
        """Write ``plan.yaml`` (a comment saying how to use it, then the fields)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        head = ("# Generation plan from an evaluation: new examples per label (labels) and the confusable\n"
                f"# pairs behind them. Use: workbench generate --task {self.task} --plan {path}\n")
        path.write_text(head + yaml.safe_dump(self.model_dump(), sort_keys=False), encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: Path | str, labels: list[str] | None = None) -> NextRoundPlan:
        """Load and check a plan (YAML or JSON): ``labels`` must map known labels to counts >= 0."""
        path = Path(path)
        if not path.is_file():
            raise PlanError(f"plan {path} does not exist; `workbench evaluate` writes plan.yaml in its report folder")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))  # JSON is YAML too
        except yaml.YAMLError as exc:
            raise PlanError(f"plan {path}: not valid YAML or JSON: {exc}") from None
        targets = data.get("labels") if isinstance(data, dict) else None
        if isinstance(targets, dict) and not targets and data.get("status") == "no_errors":
            raise PlanError(f"plan {path}: {NOTHING_TO_PLAN}")
        if not isinstance(targets, dict) or not targets:
            raise PlanError(f"plan {path}: field 'labels' must map label names to example counts, e.g. "
                            "{billing_issue: 20}")
        bad = {k: v for k, v in targets.items() if not isinstance(v, int) or isinstance(v, bool) or v < 0}
        if bad:
            raise PlanError(f"plan {path}: field 'labels': counts must be whole numbers >= 0; got {bad}")
        if labels is not None and (unknown := sorted(set(targets) - set(labels))):
            raise PlanError(f"plan {path}: field 'labels': {unknown} are not labels of the task ({labels})")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise PlanError(f"plan {path}: field {'.'.join(map(str, first['loc']))!r}: {first['msg']}") from None


def _largest_remainder(weights: dict[str, float], total: int) -> dict[str, int]:
    mass = sum(weights.values())
    exact = {k: total * w / mass for k, w in weights.items()}
    out = {k: math.floor(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: (out[k] - exact[k], k))[:total - sum(out.values())]:
        out[k] += 1
    return out


def _sorted_counts(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if v}


def _weakest(y_true: list[str], y_pred: list[str], labels: list[str]) -> list[str]:
    """The weaker half of ``labels`` (at least one) by held-out F1, then recall, then support.

    A label the held-out rows never contain scores 0 on all three: nothing shows the model knows it.
    """
    from sklearn.metrics import precision_recall_fscore_support

    _, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    ranked = sorted(zip(f1, recall, support, labels))
    return [lab for *_, lab in ranked[:max(1, math.ceil(len(labels) / 2))]]
