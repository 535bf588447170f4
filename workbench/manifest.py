"""The dataset manifest: the typed ``manifest.json`` of a dataset version.

Every version folder (``<datasets_dir>/<task>/<kind>/<version>/``) holds one. What is in it
depends on the stage that wrote it, so there is one model per kind:

- :class:`SyntheticManifest` (``kind: synthetic``), written by Generate: the teacher,
  template hashes, parameters, counts per stage, the critic's decisions (:class:`CriticCounts`),
  tokens, timings and, for a planned run
  (``--plan``), the parent version it extends;
- :class:`ReviewedManifest` (``kind: reviewed``), written by Review's pull: where the
  reviews came from, the decisions, acceptance per label and the team's agreement;
- :class:`PoolManifest` (``kind: unlabeled``), written by Label's pool import: the message
  log it was read from (path, sha256, text column) and what the import removed
  (:class:`PoolCounts`).

All share :class:`Manifest`'s fields, three of which the store adds to every version
(``version``, ``parent_version``, ``data_sha256``). Anything else may be absent: a version
saved by hand (``save_version(task, rows, {"teacher": "by hand"})``) has little more.
A file without ``kind`` takes its folder's kind. Writers build the model of their kind
(``kind`` given, as it is written to the file) and hand it to :func:`workbench.store.save_version`.

Example:
    >>> m = Manifest.parse({"version": "v001", "parent_version": None, "data_sha256": "ab",
    ...                     "teacher": "llamacpp:gemma3-270m"}, kind="synthetic")
    >>> type(m).__name__, m.teacher, m.counts
    ('SyntheticManifest', 'llamacpp:gemma3-270m', None)
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter, ValidationError

from workbench.records import JsonRecord, RecordError, describe, load_json

Kind = Literal["synthetic", "reviewed", "unlabeled", "pseudo"]


class Manifest(JsonRecord):
    """Fields every manifest may have; :meth:`parse` returns the subclass of its kind."""

    task: str | None = Field(None, description="Task name, as in prompts/<task>/task.yaml.")
    type: Literal["classification", "generation"] | None = Field(None, description="The task's type.")
    kind: Kind = Field(description="Which stage wrote the version: 'synthetic' (Generate), 'reviewed' (Review) "
                       "or 'unlabeled' (Label's pool import).")
    spec_hash: str | None = Field(None, description="Hash of the task spec the rows were made under.")
    # The store adds these three on save (so a writer leaves them out; every saved version has them).
    version: str | None = Field(None, description="This version's name, 'v001' and up.")
    parent_version: str | None = Field(
        None, description="The version this one follows: the latest before it, or a planned run's parent.")
    data_sha256: str | None = Field(None, description="sha256 of the rows in order (store.data_hash).")

    @classmethod
    def parse(cls, data: Any, source: Path | str = "manifest", fix: str = "",  # type: ignore[override]
              kind: str | None = None) -> "Manifest":
        """``data`` as the manifest of its ``kind`` (when it has none: ``kind``, its folder's).

        Raises :class:`~workbench.records.RecordError` naming ``source`` and the field.
        """
        if isinstance(data, dict) and "kind" not in data and kind is not None:
            data = {**data, "kind": kind}
        try:
            return _ANY.validate_python(data)
        except ValidationError as exc:
            raise RecordError(f"{source}: {describe(exc, tagged=True)}" + (f"; {fix}" if fix else "")) from None

    @classmethod
    def read(cls, path: Path, kind: str | None = None) -> "Manifest":  # type: ignore[override]
        """The manifest in ``path`` (a ``manifest.json``), validated."""
        return cls.parse(load_json(path), path, "fix or delete the file", kind)


# --- synthetic (Generate) ----------------------------------------------------------------

class GenerationParameters(JsonRecord):
    """What the run was asked for (``parameters``)."""

    n: int | None = Field(None, description="Rows asked for (GenerateConfig.n).")
    slots: int | None = Field(None, description="Parallel llama.cpp slots.")
    batch_size: int | None = Field(None, description="Prompts per distilabel batch.")
    max_new_tokens: int | None = Field(None, description="Token limit per teacher answer.")
    temperature: float | None = Field(None, description="Teacher sampling temperature.")
    top_p: float | None = Field(None, description="Teacher nucleus sampling.")
    generation: dict[str, Any] | None = Field(None, description="The task spec's generation settings, as used.")
    plan: str | None = Field(None, description="Planned runs: the plan file (rows per label, from Evaluate).")
    targets: dict[str, int] | None = Field(None, description="Planned runs: rows wanted per label.")


class OutputCounts(JsonRecord):
    """Generation tasks: the teacher's replies to the synthetic inputs (``counts.outputs``)."""

    prompts: int | None = Field(None, description="Reply prompts sent (all rounds).")
    rejected: dict[str, int] | None = Field(None, description="Replies rejected, per reason.")
    inputs: int | None = Field(None, description="Inputs that needed a reply.")
    unanswered_inputs: int | None = Field(None, description="Inputs left without a valid reply after all rounds.")


class GenerationCounts(JsonRecord):
    """Counts per stage of a generation run (``counts``); about the new rows of a planned run."""

    prompts: int | None = Field(None, description="List prompts sent to the teacher (all rounds).")
    parsed: int | None = Field(None, description="Items parsed from the teacher's lists.")
    valid: int | None = Field(None, description="Items that passed the filters (duplicates not yet removed).")
    rejected: dict[str, int] | None = Field(None, description="Items rejected, per reason.")
    surplus: int | None = Field(None, description="Valid items over their label's target, left out.")
    outputs: OutputCounts | None = Field(None, description="Generation tasks: the reply stage.")
    kept: int | None = Field(None, description="Rows saved (the new ones, for a planned run).")
    per_label: dict[str, int] | None = Field(None, description="Rows saved per label (classification).")
    short_labels: list[str] | None = Field(None, description="Labels still short of their target after all rounds.")
    duplicates_removed: dict[str, int] | None = Field(
        None, description="Duplicates dropped: exact, near and (planned runs) of_parent.")


class CriticCounts(JsonRecord):
    """What the label-consistency critic decided (``critic``; workbench/generate/critic.py).

    Counted over the candidate rows left after de-duplication, before each label's target cuts
    the surplus, so ``passed`` may exceed the rows saved.

    Example:
        >>> CriticCounts(checked=10, passed=8, failed=2, reasons={"low_margin": 2}, dropped=2).dropped
        2
    """

    checked: int = Field(0, description="Rows the critic judged.")
    passed: int = Field(0, description="Rows that passed every signal.")
    failed: int = Field(0, description="Rows that failed one signal or more.")
    reasons: dict[str, int] = Field(default_factory=dict, description="Failures per reason: low_margin, seed_vote, "
                                    "low_logprob (a row may fail several).")
    dropped: int = Field(0, description="Failed rows left out (action 'drop').")
    review_first: int = Field(0, description="Failed rows kept with critic_pass False, to be reviewed first "
                              "(action 'review').")
    action: str | None = Field(None, description="What failing rows got: 'drop' or 'review'.")
    logprob_seconds: float | None = Field(None, description="Time the teacher spent reading rows (logprob on).")


class TokenCounts(JsonRecord):
    """Teacher tokens spent (``tokens``)."""

    prompt: int | None = None
    completion: int | None = None


class SyntheticManifest(Manifest):
    """A version written by Generate (or saved by hand into ``synthetic/``)."""

    kind: Literal["synthetic"]
    teacher: str | None = Field(None, description="Teacher spec, e.g. 'llamacpp:gemma3-270m'.")
    template_hashes: dict[str, str] | None = Field(None, description="sha256 (first 16 hex) of each template file.")
    seed: int | None = Field(None, description="GenerateConfig.seed.")
    parameters: GenerationParameters | None = None
    counts: GenerationCounts | None = None
    critic: CriticCounts | None = Field(None, description="The label-consistency critic's decisions "
                                        "(classification tasks with generation.critic on).")
    tokens: TokenCounts | None = None
    wall_seconds: float | None = Field(None, description="Wall time of the run that saved the version.")
    resumed: bool | None = Field(None, description="Whether that run resumed a killed one.")
    run_id: str | None = Field(None, description="The run folder's key: <home>/runs/<task>/generate/<run_id>/.")
    created: str | None = Field(None, description="UTC time the version was saved (ISO 8601).")
    workbench_version: str | None = None
    hardware: dict[str, Any] | None = Field(None, description="machine, cpus, python of the generating host.")
    # Planned runs only: the version is a snapshot, the parent's rows followed by the new ones.
    plan: str | None = Field(None, description="Planned runs: the plan file.")
    added: int | None = Field(None, description="Planned runs: new rows (counts.kept).")
    parent_rows: int | None = Field(None, description="Planned runs: rows taken over from parent_version.")
    rows: int | None = Field(None, description="Planned runs: rows in the whole version (parent_rows + added).")

    @property
    def kept(self) -> int | None:
        """Rows this run generated (``counts.kept``)."""
        return self.counts.kept if self.counts else None

    @property
    def total_rows(self) -> int | None:
        """Rows in the version: ``rows`` for a planned snapshot, else ``counts.kept``."""
        return self.rows if "rows" in self else self.kept


# --- reviewed (Review) -------------------------------------------------------------------

class ArgillaSource(JsonRecord):
    """The Argilla dataset the reviews were pulled from (no credentials, ever)."""

    url: str | None = None
    workspace: str | None = None
    dataset: str | None = None


class Agreement(JsonRecord):
    """Agreement among human reviewers."""

    method: Literal["cohen_kappa", "krippendorff_alpha"] | None = Field(
        None, description="Cohen's kappa for two reviewers, Krippendorff's alpha for more; None for fewer.")
    value: float | None = None
    records: int | None = Field(None, description="Records two or more people answered.")
    reviewers: list[str] | None = None


class ReviewedManifest(Manifest):
    """A version written by Review's pull (or saved by hand into ``reviewed/``)."""

    kind: Literal["reviewed"]
    argilla: ArgillaSource | None = None
    policy: str | None = Field(None, description="The pull policy: wait, partial or auto.")
    parent_synthetic_versions: list[str] | None = Field(None, description="Synthetic versions the records came from.")
    pool_versions: list[str] | None = Field(None, description="Unlabeled-pool versions its real messages came from.")
    sources: dict[str, int] | None = Field(None, description="Rows per source: synthetic (a teacher's) or real.")
    reviewed: int | None = Field(None, description="Records with a decision (the rows of the version).")
    unreviewed: int | None = Field(None, description="Records nobody has decided yet (left out).")
    decisions: dict[str, int] | None = Field(None, description="accepted / corrected / discarded counts.")
    decided_by: dict[str, int] | None = Field(None, description="Rows decided by a human or by the auto-reviewer.")
    per_label: dict[str, int] | None = Field(None, description="Kept rows per final label (classification).")
    acceptance_by_suggested_label: dict[str, float] | None = Field(
        None, description="Share of the teacher's suggestions accepted, per suggested label.")
    agreement: Agreement | None = None


# --- unlabeled (Label's pool import) -------------------------------------------------------

# ``read`` (rows read) shadows JsonRecord.read, the classmethod that reads a record's own file;
# counts are only read inside their manifest, so the field keeps its plain name.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message='Field name "read"', category=UserWarning)

    class _Counts(JsonRecord):
        read: int | None = Field(None, description="Rows read from the message log.")


class PoolCounts(_Counts):
    """What the pool import read and removed (``counts``); ``kept`` rows make the version."""

    empty: int | None = Field(None, description="Rows with no text, left out.")
    exact_duplicates: int | None = Field(None, description="Repeats of a kept text (case and spacing aside).")
    near_duplicates: int | None = Field(None, description="Texts within MiniLM cosine NEAR_DUPLICATE of a kept one.")
    in_heldout: int | None = Field(None, description="Texts that are held-out rows: never used.")
    in_seeds: int | None = Field(None, description="Texts that are seeds (already labelled).")
    in_validation: int | None = Field(None, description="Texts that are validation rows (kept for calibration).")
    kept: int | None = Field(None, description="Rows saved: the pool.")


class PoolManifest(Manifest):
    """A version of a task's unlabeled pool, written by :func:`workbench.label.pool.import_pool`."""

    kind: Literal["unlabeled"]
    source: str | None = Field(None, description="The message log read (absolute path).")
    source_sha256: str | None = Field(None, description="sha256 of the log file's bytes.")
    text_column: str | None = Field(None, description="The log's column holding the messages.")
    counts: PoolCounts | None = None
    embedder: str | None = Field(None, description="The model of vectors.npy (MiniLM cosine for near duplicates).")
    near_duplicate: float | None = Field(None, description="The cosine at or above which a later text was dropped.")
    candidates_sha256: str | None = Field(
        None, description="Hash of the texts before the near-duplicate pass: an unchanged log is not embedded again.")
    created: str | None = Field(None, description="UTC time the version was saved (ISO 8601).")


class PseudoManifest(Manifest):
    """Pool messages the model labelled itself, written by ``workbench label --pseudo-labels``."""

    kind: Literal["pseudo"]
    pool_version: str | None = Field(None, description="The unlabeled-pool version the messages are from.")
    model: str | None = Field(None, description="Who labelled them: 'embeddings' or a train run's id.")
    threshold: float | None = Field(None, description="Lowest calibrated confidence kept.")
    target_precision: float | None = Field(None, description="Precision on validation the threshold was chosen for.")
    rows: int | None = None


_ANY: TypeAdapter[SyntheticManifest | ReviewedManifest | PoolManifest | PseudoManifest] = TypeAdapter(
    Annotated[Union[SyntheticManifest, ReviewedManifest, PoolManifest, PseudoManifest], Field(discriminator="kind")])
