"""The size ladder: which (strategy, model) cells to score, and the recommendation.

Cells come from the strategies asked for crossed with what each strategy's registry entry
says (:class:`~workbench.evaluate.cells.Strategy`): the students (MiniLM-L6, SmolLM2-135M,
Gemma-3-270M or any ``.gguf``), the teacher, or the finished train runs (classify runs for
classification tasks, SFT runs for generation tasks). A cell that cannot run says why in
``skipped`` instead of failing the evaluation: MiniLM, an encoder, cannot write a reply, so
generation tasks skip it (it still finds retrieval's neighbours).

The recommendation is the smallest model (fewest parameters, then lowest p50 latency)
whose quality's 95% interval clears the task's bar (lower bound >= bar). A cell whose point
estimate meets the bar but whose interval straddles it is named with the held-out rows it
would take to tell; if nothing reaches the bar, the nearest miss (the best quality).
Control cells: ``seeds_lr`` (logistic regression on frozen MiniLM vectors of the seeds) is a
strategy crossed with the embedder alone; a seeds-only run (``controls``) is a ``finetuned``
cell named ``<student> seeds only (<run>)``.
Rows are :class:`~workbench.evaluate.cells.CellResult` records or plain dicts (both read by key).

Example:
    >>> rows = [{"strategy": "prompt", "model": "big", "macro_f1": 0.9, "parameters": 270, "latency_p50_ms": 9},
    ...         {"strategy": "retrieval", "model": "small", "macro_f1": 0.82, "parameters": 22, "latency_p50_ms": 5}]
    >>> r = recommend(rows, "macro_f1", 0.8)
    >>> r.row["model"], r.meets_bar
    ('small', True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from workbench.evaluate.cells import Cell
from workbench.evaluate.config import EvaluateError
from workbench.evaluate import task_types
from workbench.export.runtime import is_export
from workbench.models import find_student, gguf_students, models_for, student_names
from workbench.train.info import RunInfo

DEFAULT_STUDENTS = student_names()
# Evaluate's student names -> the bundled GGUF a decoder student is prompted through.
GGUF_STUDENTS = gguf_students()


@dataclass
class Recommendation:
    row: Mapping[str, Any] | None  # a CellResult (or a dict row)
    meets_bar: bool
    metric: str
    bar: float
    reason: str
    # "meets": its interval clears the bar; "uncertain": its point estimate meets the bar but its
    # interval straddles it; "misses": the nearest miss; "none": nothing scored.
    status: str = "meets"
    rows_needed: int | None = None  # "uncertain": held-out rows for the interval to tell
    versus_best: dict | None = None  # the best-scoring row minus this one, paired bootstrap

    def __post_init__(self) -> None:
        if self.row is None:
            self.status = "none"

    def to_dict(self) -> dict:
        return {"strategy": self.row and self.row["strategy"], "model": self.row and self.row["model"],
                "meets_bar": self.meets_bar, "metric": self.metric, "bar": self.bar, "reason": self.reason,
                "value": self.row and self.row.get(self.metric),
                "interval": self.row and self.row.get(f"{self.metric}_ci"), "status": self.status,
                "rows_needed": self.rows_needed, "versus_best": self.versus_best}


@dataclass
class Matrix:
    cells: list[Cell] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)

    def skip(self, strategy: str, model: str, why: str) -> None:
        self.skipped.append({"strategy": strategy, "model": model, "why": why})


def build_matrix(strategies: list[str], students: list[str], teacher: str, runs: list[Path],
                 has_pool: bool, task_type: str = "classification", task: str | None = None,
                 controls: Sequence[Path] = ()) -> Matrix:
    """The cells to score; what cannot run lands in ``skipped`` with the fix.

    Which cells a strategy gets comes from its entry in the task type's strategy registry. An
    export folder among ``students`` (``workbench export``) is a cell of ``finetuned``, scored
    through :func:`workbench.export.load_export`. ``controls`` (seeds-only runs) are cells of
    ``finetuned`` only, after the runs.
    """
    from workbench.generate.teachers import TeacherSpec
    from workbench.models import gguf_path

    known = task_types.strategy_names()
    unknown = [s for s in strategies if s not in known]
    if unknown:
        raise EvaluateError(f"unknown strategies {unknown}; choose from {list(known)}")
    kind = task_types.task_type(task_type)
    m = Matrix()
    exports = [s for s in students if is_export(s)]
    students = [s for s in students if s not in exports]
    _export_cells(m, exports, strategies, kind, task)
    for strategy in strategies:
        entry = kind.STRATEGIES.get(strategy)
        if entry is None:
            m.skip(strategy, "-", f"not a strategy of {task_type} tasks; choose from {list(kind.STRATEGIES)}")
        elif entry.over == "teacher":
            spec = TeacherSpec.parse(teacher)
            if spec.kind not in kind.TEACHER_KINDS:
                m.skip(strategy, str(spec), kind.TEACHER_SKIP)
            else:
                source = str(gguf_path(spec.model)) if spec.kind == "llamacpp" else str(spec)
                m.cells.append(Cell(strategy, f"teacher:{spec.model}", source))
        elif entry.over == "runs":
            if not runs and exports and strategy == EXPORT_STRATEGY:
                pass  # the exports are its cells
            elif not runs:
                m.skip(strategy, "-", f"no finished {kind.RUN_KIND} run for this task; train one with "
                       "`workbench train --task <task>` or pass --run")
            elif entry.needs_pool and not has_pool:
                m.skip(strategy, "-", "no dataset version to retrieve from; run `workbench generate` first")
            else:
                for run in runs + (list(controls) if strategy == EXPORT_STRATEGY else []):
                    m.cells.append(Cell(strategy, run_cell_name(run), str(run)))
        elif entry.over == "embedder":
            m.cells.append(Cell(strategy, EMBEDDER, "embedder"))
        elif entry.needs_pool and not has_pool:
            m.skip(strategy, "-", "no dataset version to retrieve from; run `workbench generate` first")
        else:
            for student in students:
                bundled = find_student(student)
                encoder = bundled is not None and not bundled.decoder
                if encoder and kind.ENCODER_SKIP:
                    m.skip(strategy, student, kind.ENCODER_SKIP)
                elif encoder:
                    m.cells.append(Cell(strategy, student, "embedder"))
                elif student in GGUF_STUDENTS or student.endswith(".gguf"):
                    m.cells.append(Cell(strategy, student, str(gguf_path(GGUF_STUDENTS.get(student, student)))))
                else:
                    m.skip(strategy, student, f"unknown student; use one of {DEFAULT_STUDENTS} or a .gguf path")
    return m


# The student name of the embedder the "embedder" strategies (seeds_lr) use.
EMBEDDER = models_for("embedder")[0].student


def run_cell_name(run: Path) -> str:
    """A run's row name: ``<student> (<run>)``, ``<student> seeds only (<run>)`` for a control."""
    info = RunInfo.read(run)
    return f"{info.student}{' seeds only' if info.seeds_only else ''} ({run.name})"


# The strategy an export folder is a cell of: the fine-tuned student, as shipped.
EXPORT_STRATEGY = "finetuned"


def _export_cells(m: Matrix, exports: list[str], strategies: list[str], kind, task: str | None) -> None:
    """One ``finetuned`` cell per export folder whose run fits the task type (and the task)."""
    from workbench.export import ExportCard

    for folder in exports:
        card = ExportCard.read(Path(folder))
        name = f"{Path(card.student).name} {card.format}{'-' + card.quant if card.quant else ''} ({card.run_id})"
        if EXPORT_STRATEGY not in strategies:
            m.skip(EXPORT_STRATEGY, name, f"an export is scored by the '{EXPORT_STRATEGY}' strategy; add it to "
                   "--strategies")
        elif card.objective != kind.OBJECTIVE:
            m.skip(EXPORT_STRATEGY, name, f"an export of a {card.objective} run; this task's fine-tuned cells need "
                   f"a {kind.OBJECTIVE} run's export")
        elif task is not None and card.task != task:
            m.skip(EXPORT_STRATEGY, name, f"exported from a run of task {card.task!r}, not {task!r}")
        else:
            m.cells.append(Cell(EXPORT_STRATEGY, name, str(Path(folder).expanduser())))


def recommend(rows: Sequence[Mapping[str, Any]], metric: str, bar: float, heldout: int | None = None
              ) -> Recommendation:
    """The smallest row whose 95% interval clears the bar (its lower bound ``>= bar``).

    A row without an interval (``<metric>_ci``) counts as its point estimate. When no interval
    clears the bar but some point estimate meets it, the held-out set is too small to tell: the
    smallest such row is named, with :func:`~workbench.evaluate.intervals.rows_needed` (the
    held-out rows for its interval to be as narrow as its distance from the bar). Else the best
    row is the nearest miss.
    """
    from workbench.evaluate.intervals import Interval, rows_needed

    scored = [r for r in rows if r.get(metric) is not None]
    if not scored:
        return Recommendation(None, False, metric, bar, "nothing was scored")

    def low(r) -> float:
        ci = r.get(f"{metric}_ci")
        return ci[0] if ci else r[metric]

    def shown(r) -> str:
        ci = r.get(f"{metric}_ci")
        return f"{metric} {r[metric]:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")

    def needed(r) -> int | None:
        ci, n = r.get(f"{metric}_ci"), heldout or len(r.get("predictions") or []) or None
        if not ci or n is None:
            return None
        return rows_needed(n, Interval(r[metric], ci[0], ci[1]), r[metric] - bar)

    smallest = lambda rs: min(rs, key=lambda r: (_size(r), r["latency_p50_ms"]))  # noqa: E731
    clear = [r for r in scored if low(r) >= bar]
    unsure = [r for r in scored if r[metric] >= bar and low(r) < bar]
    if clear:
        best = smallest(clear)
        size = f"{best['parameters']:,} parameters" if best["parameters"] is not None else "size unknown"
        reason = (f"smallest of {len(clear)} meeting {metric} >= {bar} (95% interval's lower bound): "
                  f"{best['model']} {best['strategy']} ({shown(best)}, {size})")
        smaller = [r for r in unsure if _size(r) < _size(best)]
        if smaller:
            s = smallest(smaller)
            n = needed(s)
            reason += (f"; the smaller {s['model']} {s['strategy']} ({shown(s)}) straddles the bar: the held-out set "
                       "is too small to tell" + (f" (about {n} rows would)" if n else ""))
        return Recommendation(best, True, metric, bar, reason)
    if unsure:
        best = smallest(unsure)
        n = needed(best)
        more = f"; about {n:,} held-out rows would tell" if n else ""
        return Recommendation(best, False, metric, bar,
                              f"the held-out set is too small to tell: {best['model']} {best['strategy']} reaches "
                              f"{shown(best)} but its 95% interval straddles the bar {bar}{more}",
                              status="uncertain", rows_needed=n)
    best = max(scored, key=lambda r: (r[metric], -_size(r)))
    return Recommendation(best, False, metric, bar,
                          f"nothing meets {metric} >= {bar}; nearest miss: {best['model']} {best['strategy']} "
                          f"at {shown(best)} ({bar - best[metric]:.3f} short)", status="misses")


def _size(row: Mapping[str, Any]) -> float:
    """Parameters, for ordering; a remote teacher's unknown size counts as the largest."""
    return row["parameters"] if row.get("parameters") is not None else math.inf
