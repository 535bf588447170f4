"""The next round of data: a generation plan aimed at what the model gets wrong.

Every held-out error (true ``a``, predicted ``b``) earns ``total / errors`` new examples,
split evenly between ``a`` (the label it missed) and ``b`` (the label it wrongly chose):
both sides of a confusion need sharper examples. Per-label counts are rounded so they
sum to ``total`` (largest remainders). Labels without errors get nothing.

The plan is a small YAML file that ``workbench generate --plan PLAN`` reads: its
``labels`` map is the per-label target of the generation run.

Example:
    >>> p = build_plan("t", ["a", "a", "b", "c"], ["b", "a", "a", "c"], total=10)
    >>> p["labels"], p["pairs"][0]["labels"], p["pairs"][0]["n"]
    ({'a': 5, 'b': 5}, ['a', 'b'], 10)
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import yaml

from workbench.errors import WorkbenchError


class PlanError(WorkbenchError, ValueError):
    """A plan file that cannot drive generation; the message says what to fix."""


def _largest_remainder(weights: dict[str, float], total: int) -> dict[str, int]:
    mass = sum(weights.values())
    exact = {k: total * w / mass for k, w in weights.items()}
    out = {k: math.floor(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: (out[k] - exact[k], k))[:total - sum(out.values())]:
        out[k] += 1
    return out


def build_plan(task: str, y_true: list[str], y_pred: list[str], total: int = 100, source: dict | None = None) -> dict:
    """A plan from predictions on the held-out set; empty ``labels`` when nothing was wrong."""
    errors = Counter((t, p) for t, p in zip(y_true, y_pred, strict=True) if t != p)
    n_errors = sum(errors.values())
    plan = {"task": task, "total": 0, "labels": {}, "pairs": [], "errors": n_errors, "scored": len(y_true),
            "source": source or {}}
    if not n_errors:
        return plan
    weights: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for (t, p), c in errors.items():
        weights[t] += c / 2
        weights[p] += c / 2
        pairs[tuple(sorted((t, p)))] += c  # a<->b in either direction is one confusable pair
    labels = _largest_remainder(dict(weights), total)
    plan["labels"] = {k: v for k, v in sorted(labels.items(), key=lambda kv: (-kv[1], kv[0])) if v}
    plan["total"] = sum(plan["labels"].values())
    plan["pairs"] = [{"labels": list(pair), "errors": c, "n": round(total * c / n_errors)}
                     for pair, c in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))]
    return plan


def write_plan(plan: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    head = ("# Generation plan from an evaluation: new examples per label (labels) and the confusable\n"
            "# pairs behind them. Use: workbench generate --task {task} --plan {path}\n").format(
        task=plan["task"], path=path)
    path.write_text(head + yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


def read_plan(path: Path | str, labels: list[str] | None = None) -> dict:
    """Load and check a plan (YAML or JSON): ``labels`` must map known labels to counts >= 0."""
    path = Path(path)
    if not path.is_file():
        raise PlanError(f"plan {path} does not exist; `workbench evaluate` writes plan.yaml in its report folder")
    try:
        plan = yaml.safe_load(path.read_text(encoding="utf-8"))  # JSON is YAML too
    except yaml.YAMLError as exc:
        raise PlanError(f"plan {path}: not valid YAML or JSON: {exc}") from None
    targets = plan.get("labels") if isinstance(plan, dict) else None
    if not isinstance(targets, dict) or not targets:
        raise PlanError(f"plan {path}: field 'labels' must map label names to example counts, e.g. "
                        "{billing_issue: 20}")
    bad = {k: v for k, v in targets.items() if not isinstance(v, int) or v < 0}
    if bad:
        raise PlanError(f"plan {path}: field 'labels': counts must be whole numbers >= 0; got {bad}")
    if labels is not None and (unknown := sorted(set(targets) - set(labels))):
        raise PlanError(f"plan {path}: field 'labels': {unknown} are not labels of the task ({labels})")
    return plan
