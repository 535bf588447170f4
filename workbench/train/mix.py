"""The training mix: which real rows validate, how many synthetic rows per real one, what a real row weighs.

A teacher's rows imitate the seeds; the seeds (and reviewed real messages) are what the student
must get right. So, for every run (:class:`~workbench.train.config.TrainConfig` documents the
same rules, the card shows their outcome):

1. **Validation on real rows**, never on synthetic rows a filter chose for agreeing with the
   seeds (the student then "validates" at macro-F1 1.0 on rows picked to be easy). In order:
   the task's ``validation:`` file when it has one (training rows with the same text leave
   training); else a stratified share (``validation_fraction``, at least one row per label that
   can spare it) of the *real* rows, which then leave training, each label keeping at least
   :data:`MIN_REAL_TRAIN` real rows; else (no label has real rows to spare) the share of all
   rows as before, and the card warns that validation rows may be synthetic.
2. **A cap on synthetic rows per real row**, per label: at most ``round(ratio x real rows of the
   label in training)``, a seeded sample of them kept; the rest are counted ``over_cap``. A label
   without any real row keeps its synthetic rows (a cap of zero would delete the label).
3. **Real rows weighted above synthetic ones**: each seed repeated ``seed_weight`` times, each
   reviewed real message ``real_weight`` times, in the training rows only, and only when the
   training rows hold synthetic (or pseudo-labelled) ones: repeating every row alike is only
   more epochs.

Example:
    >>> spec = load_task("support_intents")                                                # doctest: +SKIP
    >>> mix = mix_rows(rows, spec, fraction=0.1, seed=0, max_synthetic_per_real=2.33, seed_weight=2)  # doctest: +SKIP
    >>> mix.validation_source, mix.dropped                                                 # doctest: +SKIP
    ('real rows', {'over_cap': 180})
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from workbench.tasks import TaskSpec
from workbench.train.data import _norm, split_rows, weigh_real

# Real rows of a label that stay in training when its validation rows come from the real rows.
# 4: a 5-shot label (BANKING77's and clinc_bank's few-shot setting) can still give one row, and a
# fifth seed held out costs about what the old all-rows split took from the seeds anyway (a tenth of
# a label's rows, picked at random among seeds and synthetic rows alike), while validating on real text.
MIN_REAL_TRAIN = 4

VALIDATION_FILE, REAL_ROWS, ALL_ROWS, NO_VALIDATION = "validation file", "real rows", "all rows", "none"
WARNING = ("validation rows are a share of all rows, synthetic ones included: the task has no `validation:` file "
           f"and no label has more than {MIN_REAL_TRAIN} real rows to spare, so the validation figures may flatter "
           "the student; add a `validation:` file of labelled real messages to the task")


@dataclass
class Mix:
    """Training and validation rows, and what the rules did (for run.json and the card)."""

    train: list[dict[str, str]]  # weighted: a seed appears seed_weight times
    validation: list[dict[str, str]]
    validation_source: str  # VALIDATION_FILE | REAL_ROWS | ALL_ROWS | NO_VALIDATION
    dropped: dict[str, int] = field(default_factory=dict)  # over_cap, in_validation
    real: int = 0  # real rows in training, before weighting
    synthetic: int = 0  # synthetic rows in training, after the cap
    weighted: bool = False  # the weights applied (the training rows hold synthetic ones)

    @property
    def warning(self) -> str | None:
        return WARNING if self.validation_source == ALL_ROWS else None


def _columns(spec: TaskSpec) -> tuple[str, str]:
    return ("text", "label") if spec.type == "classification" else ("input", "output")


def choose_validation(rows: list[dict[str, str]], is_real, spec: TaskSpec, fraction: float,
                      seed: int) -> tuple[list[dict[str, str]], list[dict[str, str]], str, int]:
    """(training rows, validation rows, where validation came from, training rows left out for
    sharing a validation row's text), by rule 1 of this module."""
    column, _ = _columns(spec)
    stratify = "label" if spec.type == "classification" else None
    if fraction <= 0:
        return list(rows), [], NO_VALIDATION, 0
    file_rows = [{c: r[c] for c in _columns(spec)} for r in spec.validation_examples()
                 if spec.type != "classification" or r["label"] in spec.label_names]
    if file_rows:
        train, val, source = rows, file_rows, VALIDATION_FILE
    else:
        unique: dict[str, dict[str, str]] = {}
        for r in rows:
            if is_real(r):
                unique.setdefault(_norm(r[column]), r)
        real_train, val = split_rows(list(unique.values()), fraction, seed, stratify, keep=MIN_REAL_TRAIN,
                                     at_least=1, hold_one=False)
        if val:  # the split's own order first: data of real rows only trains as it did before the rule
            placed = {id(r) for r in real_train + val}
            train, source = real_train + [r for r in rows if id(r) not in placed], REAL_ROWS
        else:
            train, val = split_rows(rows, fraction, seed, stratify)
            source = ALL_ROWS
    held = {_norm(r[column]) for r in val}
    kept = [r for r in train if _norm(r[column]) not in held]
    return kept, val, source, len(train) - len(kept)


def cap_synthetic(rows: list[dict[str, str]], is_real, ratio: float | None, seed: int,
                  stratify: str | None) -> tuple[list[dict[str, str]], int]:
    """``rows`` with at most ``round(ratio x real rows)`` synthetic rows per label (a seeded sample,
    in their order), and how many were left out; ``ratio`` 0 or None: no cap."""
    if not ratio:
        return list(rows), 0
    key = (lambda r: r[stratify]) if stratify else (lambda r: None)
    real = Counter(key(r) for r in rows if is_real(r))
    synthetic: dict[object, list[int]] = {}
    for i, r in enumerate(rows):
        if not is_real(r):
            synthetic.setdefault(key(r), []).append(i)
    rng = random.Random(seed)
    left_out: set[int] = set()
    for group in sorted(synthetic, key=str):
        if not real[group]:  # no real row to count against: a cap of zero would delete the label
            continue
        allowed = int(ratio * real[group] + 0.5)
        if len(synthetic[group]) > allowed:
            kept = set(rng.sample(synthetic[group], allowed))
            left_out |= set(synthetic[group]) - kept
    return [r for i, r in enumerate(rows) if i not in left_out], len(left_out)


def mix_rows(rows: list[dict[str, str]], spec: TaskSpec, *, fraction: float, seed: int,
             max_synthetic_per_real: float | None, seed_weight: int, real: set[str] = frozenset(),
             real_weight: int = 1, extra: list[dict[str, str]] = ()) -> Mix:
    """Rules 1-3 of this module on ``rows`` (the dataset's rows, seeds added). ``real``: normalised
    texts of the reviewed real messages; ``extra``: rows that only train, uncapped and unweighted
    (pseudo-labelled pool messages: a model chose their labels, so they never validate)."""
    column, _ = _columns(spec)
    seeds = {_norm(r[column]) for r in spec.seed_examples if isinstance(r.get(column), str)}
    is_real = lambda r: _norm(r[column]) in seeds or _norm(r[column]) in real  # noqa: E731
    train, val, source, in_validation = choose_validation(rows, is_real, spec, fraction, seed)
    train, over_cap = cap_synthetic(train, is_real, max_synthetic_per_real, seed,
                                    "label" if spec.type == "classification" else None)
    n_real = sum(1 for r in train if is_real(r))
    n_synthetic = len(train) - n_real
    train += list(extra)
    weighted = len(train) > n_real  # synthetic or pseudo-labelled rows to weigh the real ones against
    if weighted:
        train = weigh_real(weigh_real(train, seeds, seed_weight), set(real) - seeds, real_weight)
    dropped = {k: v for k, v in (("in_validation", in_validation), ("over_cap", over_cap)) if v}
    return Mix(train, val, source, dropped, n_real, n_synthetic, weighted)
