"""``run_label``: the student labels the task's real message log; people review only what matters.

One round: import the task's ``unlabeled:`` file as a pool version (deduplicated, held-out rows
removed); score every message with the best current model (the task's latest fine-tuned student,
else logistic regression on MiniLM vectors of the seeds and every reviewed row); turn away what
fits no intent (when the task has ``out_of_scope`` on); choose ``budget`` messages to review by a
strategy of :data:`workbench.label.select.SELECTORS`; send them to Argilla beside any synthetic
records, the model's label as the suggestion and its confidence as metadata. Pull, train, and
label again: each round leaves ``runs/<task>/label/<run-id>/label.json``.

Example:
    >>> from workbench.label import LabelConfig, run_label
    >>> result = run_label(LabelConfig(task="clinc_bank", budget=30))     # doctest: +SKIP
    >>> result.record.per_label                                           # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from workbench.calibration import fit_temperature, precision_threshold, softmax
from workbench.label.config import LabelConfig
from workbench.label.errors import LabelError
from workbench.label.pool import Pool, import_pool
from workbench.label.result import RECORD, ChosenMessage, LabelRecord, LabelResult
from workbench.label.scorer import RegressionScorer
from workbench.label.select import select
from workbench.locks import run_lock
from workbench.store import latest_version, record_id, run_folder, save_version
from workbench.tasks import OUT_OF_SCOPE, TaskSpec, load_task
from workbench.train.data import PSEUDO_KIND

STAGE = "label"
BINS = 20


@dataclass
class Scoring:
    """The pool as one model sees it: calibrated probabilities (columns = ``labels``), the ones messages
    are chosen by, and the gate."""

    model: str
    labels: list[str]
    proba: np.ndarray
    ranking: np.ndarray  # what select() ranks margins by
    abstains: np.ndarray  # bool per pool message: fits no intent
    validation: tuple[np.ndarray, np.ndarray] | None  # (proba, correct) on the validation rows
    compared: dict[str, float] = field(default_factory=dict)  # validation accuracy of each model considered


def labelled_rows(spec: TaskSpec) -> list[dict[str, str]]:
    """What people have labelled so far: the seeds and the latest reviewed version's kept rows."""
    rows = {r["text"]: r["label"] for r in spec.seed_examples}
    version = latest_version(spec.name, "reviewed")
    for r in version.load() if version is not None else []:
        if r.get("label") in spec.label_names and r.get("decision") != "discarded":
            rows.setdefault(r["text"], r["label"])
    return [{"text": t, "label": lab} for t, lab in rows.items()]


def score_pool(spec: TaskSpec, pool: Pool, cfg: LabelConfig) -> Scoring:
    """Score the pool with ``cfg.model`` (see :class:`LabelConfig`). With ``auto`` and validation rows,
    the latest fine-tuned student labels only when it beats the regression on them."""
    from workbench.models import embed

    rows = labelled_rows(spec)
    scorer = RegressionScorer.fit(embed([r["text"] for r in rows]), [r["label"] for r in rows], seed=cfg.seed)
    val = spec.validation_examples()
    val_vectors = embed([r["text"] for r in val]) if val else None
    oos = spec.out_of_scope if spec.out_of_scope is not None and spec.out_of_scope.enabled else None
    if val:
        oos_texts = spec.out_of_scope_examples() if oos else []
        scorer.calibrate(val_vectors, [r["label"] for r in val], embed(oos_texts) if oos_texts else None, oos)
    elif oos:
        raise LabelError(f"task {spec.name!r}: out_of_scope needs a `validation:` file of labelled real messages "
                         f"in prompts/{spec.name}/task.yaml, to choose the abstention threshold on")
    # The gate (MiniLM similarity to the labelled messages) decides out of scope for either model.
    abstains = scorer.gate.abstains(scorer.scope_scores(pool.vectors)) if oos else np.zeros(len(pool.texts), bool)
    embeddings = Scoring("embeddings", scorer.labels, scorer.proba(pool.vectors),
                         # Margins ranked by the regression's own probabilities (temperature 1): on clinc_bank's
                         # validation split they chose better rows than the calibrated ones (bench/active.py).
                         scorer.raw_proba(pool.vectors), abstains,
                         _validation(scorer.proba(val_vectors), scorer.labels, val) if val else None)
    run = _student_run(spec, cfg.model)
    if run is None:
        return embeddings
    student = _student_scoring(run, pool, val, abstains)
    if cfg.model != "auto" or not val:
        return student
    # A student trained on few rows can be worse than the regression: the better one on validation labels.
    compared = {s.model: round(float(s.validation[1].mean()), 4) for s in (embeddings, student)}
    best = embeddings if compared["embeddings"] > compared[student.model] else student
    best.compared = compared
    return best


def _student_scoring(run, pool: Pool, val: list[dict], abstains: np.ndarray) -> Scoring:
    """The fine-tuned student's probabilities, temperature-scaled on the validation rows."""
    from workbench.train.predict import load_student

    student = load_student(run, device="cpu")
    logits = student.logits(pool.texts, batch_size=64).numpy()
    temperature, validation = 1.0, None
    if val:
        val_logits = student.logits([r["text"] for r in val], batch_size=64).numpy()
        temperature = fit_temperature(val_logits, np.array([student.labels.index(r["label"]) for r in val]))
        validation = _validation(softmax(val_logits, temperature), student.labels, val)
    proba = softmax(logits, temperature)
    return Scoring(student.run_dir.name, student.labels, proba, proba, abstains, validation)


def _validation(proba: np.ndarray, labels: list[str], val: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    predicted = np.array(labels)[proba.argmax(1)]
    return proba.max(1), predicted == np.array([r["label"] for r in val])


def _student_run(spec: TaskSpec, model: str):
    """The run that labels: None for the embeddings model; for ``auto`` the latest classifier run."""
    if model == "embeddings":
        return None
    from workbench.train.info import RunInfo, latest_finished

    if model != "auto":
        return model
    runs = latest_finished(spec.name, "classify")
    return max(runs, key=lambda p: RunInfo.read(p).finished) if runs else None


def _already_reviewed(spec: TaskSpec, cfg: LabelConfig) -> tuple[set[str], str | None]:
    """Pool ids not to send again (in Argilla already, or in a reviewed version), and the Argilla URL."""
    version = latest_version(spec.name, "reviewed")
    done = {r["id"] for r in version.load()} if version is not None else set()
    if not cfg.push:
        return done, None
    from workbench.review.sync import existing_ids, open_dataset

    _, url, dataset = open_dataset(_review_config(cfg), spec, create=True)
    return done | existing_ids(dataset), f"{url} ({cfg.workspace}/{dataset.name})"


def _review_config(cfg: LabelConfig):
    from workbench.review.config import ReviewConfig

    return ReviewConfig(task=cfg.task, dataset=cfg.dataset, workspace=cfg.workspace, url=cfg.url,
                        api_key=cfg.api_key, progress=cfg.progress)


def run_label(cfg: LabelConfig) -> LabelResult:
    """Label the pool and send ``cfg.budget`` messages to review; see the module docstring."""
    spec = load_task(cfg.task)
    if spec.type != "classification":
        raise LabelError(f"task {spec.name!r} is a {spec.type} task: the student labels messages of classification "
                         "tasks only")
    with run_lock(spec.name, STAGE, "round"):  # two rounds at once would choose the same messages
        pool = import_pool(spec, progress=cfg.progress)
        scoring = score_pool(spec, pool, cfg)
        done, argilla = _already_reviewed(spec, cfg)
        exclude = [i for i, pid in enumerate(pool.ids) if pid in done]
        available = len(pool.ids) - len(exclude)
        if available == 0:
            raise LabelError(f"every message of {spec.name}'s pool {pool.version.version} is reviewed or in review "
                             "already; add messages to the `unlabeled:` file, or pull and train")
        picked = select(cfg.strategy, scoring.ranking, pool.vectors, min(cfg.budget, available), cfg.seed, exclude)
        chosen = [_chosen(pool, scoring, i) for i in picked]
        pushed = _push(spec, cfg, pool, chosen) if cfg.push else None
        record = LabelRecord(task=spec.name, pool_version=pool.version.version, pool_size=len(pool.ids),
                             model=scoring.model, strategy=cfg.strategy, budget=cfg.budget, seed=cfg.seed,
                             excluded=len(exclude), chosen=chosen, abstained=int(scoring.abstains.sum()),
                             confidence_histogram=[], confidence_bins=[], pushed=pushed, argilla=argilla,
                             validation_accuracy=scoring.compared or None)
        counts, edges = np.histogram(scoring.proba.max(1), bins=BINS, range=(0.0, 1.0))
        record.confidence_histogram, record.confidence_bins = counts.tolist(), [round(e, 3) for e in edges]
        if cfg.pseudo_labels:
            _pseudo_labels(spec, cfg, pool, scoring, set(exclude) | set(picked), record)
        run_id = f"{pool.version.version}-{cfg.strategy}-{record_id(scoring.model, *[c.id for c in chosen])[:8]}"
        run_dir = run_folder(spec.name, STAGE, run_id, create=True)
        (run_dir / RECORD).write_text(json.dumps(record.to_json_dict(), indent=2, ensure_ascii=False), "utf-8")
        return LabelResult(run_dir, record)


def _chosen(pool: Pool, scoring: Scoring, i: int) -> ChosenMessage:
    j = int(scoring.proba[i].argmax())
    label = OUT_OF_SCOPE if scoring.abstains[i] else scoring.labels[j]
    return ChosenMessage(id=pool.ids[i], text=pool.texts[i], label=label, confidence=float(scoring.proba[i, j]))


def _push(spec: TaskSpec, cfg: LabelConfig, pool: Pool, chosen: list[ChosenMessage]) -> int:
    from workbench.review.sync import real_records, send_rows

    vectors = {pid: pool.vectors[i] for i, pid in enumerate(pool.ids)}
    rows = [c.model_dump() for c in chosen]
    agent = f"student {cfg.model}"
    result = send_rows(_review_config(cfg), spec, rows, pool.version.version,
                       lambda batch: real_records(spec, batch, pool.version.version, agent,
                                                  np.array([vectors[r["id"]] for r in batch])))
    return result.pushed


def _pseudo_labels(spec: TaskSpec, cfg: LabelConfig, pool: Pool, scoring: Scoring, skip: set[int],
                   record: LabelRecord) -> None:
    """Save the pool messages the model is sure about as a ``pseudo`` version (``decided_by: model``)."""
    if scoring.validation is None:
        raise LabelError(f"task {spec.name!r}: pseudo-labels need a `validation:` file of labelled real messages in "
                         f"prompts/{spec.name}/task.yaml, to choose the confidence threshold on; label without them")
    confidence, correct = scoring.validation
    threshold = precision_threshold(confidence, correct, cfg.target_precision)
    top = scoring.proba.max(1)
    rows = [{"id": pool.ids[i], "text": pool.texts[i], "label": scoring.labels[int(scoring.proba[i].argmax())],
             "confidence": round(float(top[i]), 4), "decided_by": "model", "source": "real"}
            for i in np.flatnonzero(top >= threshold) if i not in skip and not scoring.abstains[i]]
    if not rows:  # nothing sure enough: no empty version
        record.pseudo_labelled, record.pseudo_threshold = 0, round(float(threshold), 4)
        return
    from workbench.manifest import PseudoManifest

    manifest = PseudoManifest(task=spec.name, type=spec.type, kind=PSEUDO_KIND, spec_hash=spec.spec_hash(),
                              pool_version=pool.version.version, model=scoring.model, threshold=float(threshold),
                              target_precision=cfg.target_precision, rows=len(rows))
    version = save_version(spec.name, rows, manifest, kind=PSEUDO_KIND)
    record.pseudo_labels, record.pseudo_labelled = f"{PSEUDO_KIND}/{version.version}", len(rows)
    record.pseudo_threshold = round(float(threshold), 4)
