"""What the synthetic data is worth, and paired comparisons between two cells.

Two cells scored on the same held-out rows are compared by a paired bootstrap
(:func:`workbench.evaluate.intervals.paired_difference`: both scored on the same resampled
rows), which is far tighter than comparing two separate intervals. :func:`paired` does it for
either task type: labels (accuracy, macro-F1) or per-row scores (ROUGE-L, chrF).

:class:`Worth` is the report's first line: the focus run (seeds + synthetic) minus its
seeds-only control, in points of the metric, with the 95% interval; with ``--seeds N``, also
the mean and sd of that difference over the training seeds. Without a control it says why.

Example:
    >>> w = Worth(metric="macro_f1", focus="minilm-l6 (a)", control="minilm-l6 seeds only (b)",
    ...           value=0.024, low=0.009, high=0.038, heldout=120)
    >>> w.line()
    'synthetic data: +2.4 macro-F1 over seeds only, 95% CI [+0.9, +3.8] (paired bootstrap over 120 held-out rows): it helped'
    >>> Worth(metric="macro_f1", why="no fine-tuned run was scored").line()
    'synthetic data: not measured: no fine-tuned run was scored'
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from workbench.evaluate.intervals import Interval, paired_difference, paired_mean_difference
from workbench.records import JsonRecord

LABEL_METRICS = ("accuracy", "macro_f1")
NAMES = {"accuracy": "accuracy", "macro_f1": "macro-F1", "rouge_l": "ROUGE-L", "chrf": "chrF", "judge": "judge"}


def paired(a: Mapping[str, Any], b: Mapping[str, Any], metric: str, y_true: Sequence[str] | None = None,
           labels: Sequence[str] | None = None) -> Interval | None:
    """``a`` minus ``b`` on ``metric``, by a paired bootstrap over the same held-out rows; ``None``
    where the rows hold nothing to pair (a metric without per-row figures).

    Example:
        >>> a = {"predictions": ["x", "y", "y"]}; b = {"predictions": ["x", "x", "x"]}
        >>> paired(a, b, "accuracy", ["x", "y", "y"], ["x", "y"]).value
        0.6666666666666667
    """
    if metric in LABEL_METRICS:
        if y_true is None:
            return None
        return paired_difference(metric, list(y_true), list(a["predictions"]), list(b["predictions"]),
                                 list(labels) if labels is not None else None)
    ia, ib = a.get("items") or [], b.get("items") or []
    xs = [(p.get(metric), q.get(metric)) for p, q in zip(ia, ib)]
    xs = [(p, q) for p, q in xs if p is not None and q is not None]
    if not xs or len(ia) != len(ib):
        return None
    return paired_mean_difference([p for p, _ in xs], [q for _, q in xs])


def _pt(x: float) -> str:
    return f"{x * 100:+.1f}"


class Worth(JsonRecord):
    """The synthetic data's worth: focus run minus its seeds-only control, on the same rows."""

    metric: str
    focus: str | None = None  # the focus cell's model (seeds + synthetic)
    control: str | None = None  # the control cell's model (seeds only)
    value: float | None = None  # the difference (metric units, 0-1)
    low: float | None = None  # its 95% paired-bootstrap interval
    high: float | None = None
    heldout: int = 0
    seeds: int = 1  # training seeds per run
    seed_mean: float | None = None  # mean and sd of the difference over the training seeds (seeds > 1)
    seed_sd: float | None = None
    why: str | None = None  # why it was not measured

    @property
    def interval(self) -> Interval | None:
        return None if self.value is None else Interval(self.value, self.low, self.high)

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "not measured"
        if self.low > 0:
            return "it helped"
        if self.high < 0:
            return "it hurt"
        return "no difference this held-out set can tell"

    def line(self) -> str:
        """The report's first line."""
        if self.value is None:
            return f"synthetic data: not measured: {self.why}"
        name = NAMES.get(self.metric, self.metric)
        seeds = (f"; over {self.seeds} training seeds {_pt(self.seed_mean)} ± {self.seed_sd * 100:.1f}"
                 if self.seed_mean is not None and self.seed_sd is not None else "")
        return (f"synthetic data: {_pt(self.value)} {name} over seeds only, 95% CI [{_pt(self.low)}, "
                f"{_pt(self.high)}] (paired bootstrap over {self.heldout} held-out rows{seeds}): {self.verdict}")

    @classmethod
    def measure(cls, focus: Mapping[str, Any] | None, control: Mapping[str, Any] | None, metric: str,
                heldout: int, y_true: Sequence[str] | None = None, labels: Sequence[str] | None = None,
                why: str | None = None, seed_differences: Sequence[float] = ()) -> Worth:
        """The focus row against its control row; ``why`` when there is no control."""
        if focus is None or control is None:
            return cls(metric=metric, heldout=heldout, why=why or "no fine-tuned run was scored")
        d = paired(focus, control, metric, y_true, labels)
        if d is None:
            return cls(metric=metric, heldout=heldout, focus=focus["model"], control=control["model"],
                       why=f"the rows hold no per-row {metric} to pair")
        mean = sd = None
        if len(seed_differences) > 1:
            import statistics

            mean, sd = statistics.fmean(seed_differences), statistics.stdev(seed_differences)
        return cls(metric=metric, heldout=heldout, focus=focus["model"], control=control["model"],
                   value=round(d.value, 4), low=round(d.low, 4), high=round(d.high, 4),
                   seeds=max(1, len(seed_differences)), seed_mean=mean and round(mean, 4),
                   seed_sd=sd and round(sd, 4))
