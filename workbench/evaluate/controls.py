"""The fine-tuned runs an evaluation scores, and the controls a skeptic asks for beside them.

A *focus run* is a finished train run on a dataset version (seeds + synthetic or reviewed
rows): by default the latest of each student of the task. Its *control* is the same student
trained with the same hyperparameters on the task's seeds alone (``TrainConfig(dataset=
"seeds")``, a run with ``RunInfo.seeds_only``): the difference between the two, on the same
held-out rows, is what the synthetic data is worth (:mod:`workbench.evaluate.worth`).

- :func:`focus_runs`: the latest finished run of each student that did not train on seeds alone;
- :func:`retrain_config`: a finished run's :class:`~workbench.train.TrainConfig`, rebuilt from its
  ``run.json`` with some fields changed (``dataset="seeds"`` for the control, ``seed=`` for
  ``--seeds N``); ``run_train`` is frozen by config, so a second evaluation reuses what the
  first trained;
- :func:`plan_runs`: for each focus run, its control (a ``--run`` given, else trained when
  ``controls`` is on) and, with ``seeds > 1``, the extra training seeds of both.

Example:
    >>> from workbench.evaluate.controls import focus_runs, retrain_config
    >>> run = focus_runs("support_intents", "classify")[0]                    # doctest: +SKIP
    >>> retrain_config(run, dataset="seeds").dataset                          # doctest: +SKIP
    'seeds'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.train.data import SEEDS_ONLY
from workbench.train.info import RunInfo, train_runs

def focus_runs(task: str, objective: str) -> list[Path]:
    """The latest finished run with ``objective`` of each student of ``task``, seeds-only runs left
    out: those are controls, and the newest run of a student is often the control just trained.

    Of runs that differ only in their training seed (``--seeds N`` trains them), the lowest seed
    stands for them all: the evaluation after ``--seeds 3`` scores the same run as the one before.
    """
    infos = [(run_dir, RunInfo.read(run_dir)) for run_dir in train_runs(task)]
    infos = [(d, i) for d, i in infos if i.objective == objective and not i.seeds_only]
    latest: dict[str, tuple[Path, RunInfo]] = {}
    for run_dir, info in infos:
        if info.student not in latest or info.finished >= latest[info.student][1].finished:
            latest[info.student] = (run_dir, info)
    chosen = []
    for run_dir, info in latest.values():
        twins = [(i.hyperparameters.seed, d.name, d) for d, i in infos if _but_seed(i) == _but_seed(info)]
        chosen.append(min(twins)[2] if twins else run_dir)
    return chosen


def _but_seed(info: RunInfo) -> tuple:
    """What decides a run except its training seed (and the batch the hardware chose)."""
    hp = info.hyperparameters.model_dump(exclude={"seed", "effective_batch_size"})
    ds = info.dataset
    return info.student, info.spec_hash, ds.kind, ds.version, ds.data_sha256, json.dumps(hp, sort_keys=True,
                                                                                          default=str)


def retrain_config(run: Path, **changes: Any):
    """The :class:`~workbench.train.TrainConfig` that trained ``run`` (from its ``run.json``), with
    ``changes`` applied: the same student, data and hyperparameters, so only what changed differs.

    Example:
        >>> retrain_config(run, seed=1).seed                                    # doctest: +SKIP
        1
    """
    from workbench.train import TrainConfig

    info = RunInfo.read(run)
    hp = info.hyperparameters.model_dump()
    known = TrainConfig.model_fields
    kw = {k: v for k, v in hp.items() if k in known and v is not None and k != "pseudo_labels"}
    kw["pseudo_labels"] = bool(hp.get("pseudo_labels"))  # run.json holds the version, the config a switch
    ds = info.dataset
    dataset = SEEDS_ONLY if ds.kind == SEEDS_ONLY else f"{ds.kind}/{ds.version}"
    return TrainConfig(**{"task": info.task, "student": info.student, "dataset": dataset, "progress": False,
                          **kw, **changes})


@dataclass
class RunPlan:
    """The fine-tuned runs of one evaluation: focus runs, their controls, their extra seeds."""

    focus: list[Path] = field(default_factory=list)
    controls: dict[Path, Path] = field(default_factory=dict)  # focus run -> its seeds-only run
    seeds: dict[Path, list[Path]] = field(default_factory=dict)  # a run -> its runs at the other training seeds
    why_no_control: dict[Path, str] = field(default_factory=dict)

    @property
    def control_runs(self) -> list[Path]:
        return list(dict.fromkeys(self.controls.values()))


def plan_runs(runs: list[Path], controls: bool, seeds: int, progress: bool = False) -> RunPlan:
    """Split ``runs`` into focus runs and given controls, train what is missing.

    A seeds-only run among ``runs`` is the control of the focus runs of its student. Otherwise,
    with ``controls`` on, each focus run's control is trained (or found: the same config is the
    same frozen run). With ``seeds > 1`` every focus run and control is also trained at
    ``seeds - 1`` further training seeds (its own seed + 1, + 2, ...).
    """
    from workbench.train import run_train

    infos = {run: RunInfo.read(run) for run in runs}
    given = {infos[r].student: r for r in runs if infos[r].seeds_only}
    plan = RunPlan(focus=[r for r in runs if not infos[r].seeds_only])
    if not plan.focus:  # only seeds-only runs were given: they are what is scored
        plan.focus = list(given.values())
        for run in plan.focus:
            plan.why_no_control[run] = "the fine-tuned run trained on the seeds alone; there is no synthetic data " \
                                       "in it to measure"
    for run in [r for r in plan.focus if not infos[r].seeds_only]:
        if infos[run].student in given:
            plan.controls[run] = given[infos[run].student]
        elif not controls:
            plan.why_no_control[run] = ("controls are off (controls=False, --no-controls) and no seeds-only run "
                                        "was given; pass one with --run")
        else:
            try:
                plan.controls[run] = run_train(retrain_config(run, dataset=SEEDS_ONLY, progress=progress)).run_dir
            except WorkbenchError as exc:
                plan.why_no_control[run] = f"the seeds-only control could not be trained: {exc}"
    if seeds > 1:
        for run in plan.focus + plan.control_runs:
            base = infos[run].hyperparameters.seed if run in infos else RunInfo.read(run).hyperparameters.seed
            plan.seeds[run] = [run_train(retrain_config(run, seed=base + i, progress=progress)).run_dir
                               for i in range(1, seeds)]
    return plan
