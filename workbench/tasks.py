"""Task specs: what a narrow task is, loaded from ``prompts/<task>/task.yaml``.

A spec names the task type, its labels, real seed examples, the teacher's prompt
templates (Jinja files beside the YAML), review questions, train/eval defaults and the
quality bar. A classification task may also name the team's own unlabeled message log
(``unlabeled:``), labelled real rows for calibration (``validation:``) and whether the
student may answer "none of these" (``out_of_scope:``). Everything is validated on load, and
a bad spec raises :class:`TaskSpecError` naming the file, the field and what to fix.

Example:
    >>> from workbench.tasks import load_task
    >>> spec = load_task("support_intents")
    >>> spec.type, len(spec.labels) >= 8
    ('classification', True)
    >>> print(spec.render("generate", label=spec.labels[0], examples=["hi"], n=3, start=2)[:20])
"""

from __future__ import annotations

import hashlib
import unicodedata
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from jinja2 import TemplateSyntaxError, UndefinedError, meta
from jinja2.exceptions import SecurityError
from markupsafe import escape
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from workbench.errors import WorkbenchError
from workbench.examples import ExampleFileError, file_columns, read_examples, read_text, read_texts
from workbench.html import html_table
from workbench.sandbox import PROMPT_SANDBOX, render
from workbench.settings import get_settings


class TaskSpecError(WorkbenchError, ValueError):
    """A task spec that cannot be used; the message says where and how to fix it."""


# Variables each template purpose receives; anything else is a typo caught on load.
TEMPLATE_VARIABLES: dict[str, set[str]] = {
    "generate": {"task", "label", "examples", "n", "start"},
    "input": {"task", "label", "examples", "n", "start"},
    "output": {"task", "examples", "input"},
    "judge": {"task", "rubric", "input", "reply"},
}
REQUIRED_TEMPLATES = {"classification": ["generate"], "generation": ["input", "output"]}
# The abstention label: what the student answers for a message that fits no intent.
OUT_OF_SCOPE = "out_of_scope"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = Field(min_length=3)


class GenerationDefaults(_Strict):
    shots: int = Field(5, ge=1, le=50, description="Seed examples shown in each prompt.")
    items_per_prompt: int = Field(8, ge=1, le=100, description="New items asked for per prompt.")
    max_new_tokens: int = Field(256, ge=8, le=4096)
    temperature: float = Field(0.9, ge=0.0, le=2.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    min_chars: int = Field(12, ge=1, le=10_000)
    max_chars: int = Field(300, ge=10, le=100_000)
    near_duplicate_threshold: float = Field(0.92, gt=0.0, le=1.0)
    overgenerate: float = Field(2.0, ge=1.0, le=20.0, description="Prompts planned per wanted item / items_per_prompt.")
    max_rounds: int = Field(3, ge=1, le=20, description="Top-up rounds for labels still short.")


class ReviewQuestion(_Strict):
    name: str
    kind: Literal["label", "multi_label", "rating", "text"]
    title: str
    required: bool = True


class ReviewDefaults(_Strict):
    guidelines: str = ""
    questions: list[ReviewQuestion] = []


class TrainDefaults(_Strict):
    student: str = "minilm-l6"
    epochs: int = Field(3, ge=1, le=100)
    learning_rate: float = Field(5e-4, gt=0, le=1)
    batch_size: int = Field(16, ge=1, le=4096)
    lora_r: int = Field(8, ge=1, le=256)
    validation_fraction: float = Field(0.1, ge=0.0, lt=1.0)
    # Training mix (workbench/train/mix.py; TrainConfig's docstring says why these defaults).
    seed_weight: int = Field(2, ge=1, le=10, description="Times each seed counts against one synthetic row.")
    max_synthetic_per_real: float | None = Field(2.33, ge=0, le=1000, description="Synthetic rows per real row "
                                                 "of a label at most; 0 or null: no cap.")


class QualityBar(_Strict):
    metric: Literal["macro_f1", "accuracy", "rouge_l", "chrf", "judge"]
    min: float = Field(ge=0.0, le=1.0)


class UnlabeledSource(_Strict):
    """The team's unlabeled message log: one text column of a JSONL, CSV or Parquet file.

    ``path`` is relative to the task.yaml's folder, or absolute (a log may live outside the repo).
    """

    path: str = Field(min_length=1, description="A .jsonl, .csv or .parquet file of real messages.")
    text_column: str = Field("text", min_length=1, description="The column holding the message text.")


class OutOfScopeSpec(_Strict):
    """Whether the student may abstain (answer ``out_of_scope``) on a message that fits no label."""

    enabled: bool = False
    examples: str | None = Field(None, description="Optional file of out-of-scope messages (column 'text'), "
                                 "to measure the threshold's recall.")
    heldout: str | None = Field(None, description="Optional file of out-of-scope messages kept for evaluation "
                                "(column 'text'): the report's out-of-scope recall and precision.")
    target_recall: float = Field(0.8, gt=0.0, le=1.0, description="Out-of-scope recall the threshold aims for.")
    max_in_scope_loss: float = Field(0.015, ge=0.0, le=0.2, description="Share of in-scope validation rows "
                                     "the gate may turn away.")


# Quality-bar metrics each task type is scored with.
METRICS = {"classification": ("macro_f1", "accuracy"), "generation": ("rouge_l", "chrf", "judge")}


class JudgeDefaults(_Strict):
    """LLM-as-judge for generation tasks: the teacher rates a reply 1-5 against the rubric.

    The prompt is the ``judge`` template (``judge_chat`` for chat teachers); a reply passes
    when its rating (the expected value over the rating tokens, rounded) is ``pass_rating``
    or more. Its verdicts are checked against the reviewers' decisions when reviewed data exists.
    """

    rubric: list[str] = Field(min_length=1, description="What a good reply does, one criterion per item.")
    pass_rating: int = Field(4, ge=2, le=5, description="Lowest rating (1-5) that counts as a pass.")


class TaskSpec(_Strict):
    """A validated task spec. Paths inside it are resolved against the YAML's folder."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: Literal["classification", "generation"]
    description: str = Field(min_length=10)
    labels: list[Label] = []
    seeds: list[dict[str, Any]] | str
    heldout: str | None = None
    templates: dict[str, str]
    generation: GenerationDefaults = GenerationDefaults()
    review: ReviewDefaults = ReviewDefaults()
    train: TrainDefaults = TrainDefaults()
    quality_bar: QualityBar
    judge: JudgeDefaults | None = None
    unlabeled: UnlabeledSource | str | None = None  # a bare string is the path, with text_column 'text'
    validation: str | None = None  # labelled real rows like heldout, kept apart from it: for calibration
    out_of_scope: OutOfScopeSpec | None = None

    _folder: Path = PrivateAttr(default=Path("."))

    @model_validator(mode="after")
    def _labels_fit_the_type(self) -> "TaskSpec":
        if self.type == "classification" and len(self.labels) < 2:
            raise ValueError("a classification task needs at least 2 labels under 'labels'")
        names = [lab.name for lab in self.labels]
        if len(set(names)) != len(names):
            raise ValueError(f"label names repeat: {sorted(n for n in names if names.count(n) > 1)}")
        missing = [t for t in REQUIRED_TEMPLATES[self.type] if t not in self.templates]
        if missing:
            raise ValueError(f"templates: add {missing} (a {self.type} task needs them)")
        if self.quality_bar.metric not in METRICS[self.type]:
            raise ValueError(f"quality_bar.metric: {self.quality_bar.metric!r} does not score a {self.type} task; "
                             f"use one of {list(METRICS[self.type])}")
        if self.judge is not None and self.type != "generation":
            raise ValueError("judge: only generation tasks have a judge; remove the section")
        if self.judge is not None and "judge" not in self.templates:
            raise ValueError("templates: add 'judge' (the rating prompt of the 'judge' section, e.g. judge.jinja)")
        if self.judge is None and any(k in self.templates for k in ("judge", "judge_chat")):
            raise ValueError("judge: a judge template needs a 'judge' section with a rubric")
        if self.quality_bar.metric == "judge" and self.judge is None:
            raise ValueError("quality_bar.metric 'judge' needs a 'judge' section with a rubric")
        if OUT_OF_SCOPE in names:
            raise ValueError(f"labels: {OUT_OF_SCOPE!r} is the abstention answer of out_of_scope, not a label; "
                             "rename the label, or remove it and set out_of_scope: {enabled: true}")
        for field in ("unlabeled", "out_of_scope"):
            if getattr(self, field) is not None and self.type != "classification":
                raise ValueError(f"{field}: only classification tasks have an {field} section; remove it")
        return self

    # -- derived views -------------------------------------------------------------
    @property
    def folder(self) -> Path:
        return self._folder

    @property
    def label_names(self) -> list[str]:
        return [lab.name for lab in self.labels]

    def label(self, name: str) -> Label:
        for lab in self.labels:
            if lab.name == name:
                return lab
        raise KeyError(f"{name!r} is not a label of task {self.name!r}; labels: {self.label_names}")

    @cached_property
    def seed_examples(self) -> list[dict[str, str]]:
        """Seed rows: ``{"text", "label"}`` (classification) or ``{"input", "output"}``."""
        return self._examples("seeds", self.seeds)

    def heldout_examples(self) -> list[dict[str, str]]:
        """The held-out evaluation rows; never used to generate or train."""
        if self.heldout is None:
            return []
        return self._examples("heldout", self.heldout)

    def validation_examples(self) -> list[dict[str, str]]:
        """Labelled real rows for calibration (like the held-out ones, and apart from them); [] if none."""
        if self.validation is None:
            return []
        return self._examples("validation", self.validation)

    def unlabeled_source(self) -> UnlabeledSource | None:
        """The ``unlabeled:`` log with its path made absolute; None when the task names none.

        Example:
            >>> load_task("clinc_bank").unlabeled_source().path.endswith("unlabeled.jsonl")
            True
        """
        if self.unlabeled is None:
            return None
        source = self.unlabeled if isinstance(self.unlabeled, UnlabeledSource) else UnlabeledSource(path=self.unlabeled)
        return source.model_copy(update={"path": str(self._resolve(source.path))})

    def unlabeled_texts(self) -> list[str]:
        """Every message of the ``unlabeled:`` log, in file order (empty ones as ``""``); [] if none."""
        source = self.unlabeled_source()
        if source is None:
            return []
        return self._texts("unlabeled", Path(source.path), source.text_column)

    def out_of_scope_examples(self) -> list[str]:
        """The ``out_of_scope.examples`` messages (column ``text``), blanks left out; [] if none."""
        if self.out_of_scope is None or self.out_of_scope.examples is None:
            return []
        texts = self._texts("out_of_scope.examples", self._resolve(self.out_of_scope.examples), "text")
        return [t for t in texts if t]

    def out_of_scope_heldout(self) -> list[str]:
        """The ``out_of_scope.heldout`` messages (evaluation only), blanks left out; [] if none."""
        if self.out_of_scope is None or self.out_of_scope.heldout is None:
            return []
        return [t for t in self._texts("out_of_scope.heldout", self._resolve(self.out_of_scope.heldout), "text") if t]

    def _texts(self, field: str, path: Path, column: str) -> list[str]:
        try:
            return read_texts(path, column)
        except ExampleFileError as exc:
            raise TaskSpecError(f"{self._yaml}: field '{field}': {exc}") from None

    def _examples(self, field: str, value: list[dict[str, Any]] | str) -> list[dict[str, str]]:
        try:
            rows = read_examples(self._resolve(value) if isinstance(value, str) else value, self.type,
                                 self.label_names or None)
        except ExampleFileError as exc:
            raise TaskSpecError(f"{self._yaml}: field '{field}': {exc}") from None
        return rows

    def _resolve(self, rel: str) -> Path:
        p = Path(rel).expanduser()
        return (p if p.is_absolute() else self._folder / p).resolve()  # no "..": paths read plainly in messages

    @property
    def _yaml(self) -> Path:
        return self._folder / "task.yaml"

    # -- templates ------------------------------------------------------------------
    def template_text(self, purpose: str, mode: str = "completion") -> str:
        """The template source for a purpose; ``<purpose>_chat`` is preferred in chat mode."""
        key = f"{purpose}_chat" if mode == "chat" and f"{purpose}_chat" in self.templates else purpose
        if key not in self.templates:
            raise TaskSpecError(f"{self._yaml}: field 'templates': no '{purpose}' template")
        return self._read(f"templates.{key}", self._resolve(self.templates[key]))

    def _read(self, field: str, path: Path) -> str:
        try:
            return read_text(path)
        except ExampleFileError as exc:
            raise TaskSpecError(f"{self._yaml}: field '{field}': {exc}") from None

    def template_hashes(self) -> dict[str, str]:
        """sha256 (first 16 hex) of every template file: lineage for manifests."""
        return {k: hashlib.sha256(self._resolve(v).read_bytes()).hexdigest()[:16]
                for k, v in sorted(self.templates.items())}

    def spec_hash(self) -> str:
        """A hash of the YAML, templates and seeds: changes whenever the task changes."""
        h = hashlib.sha256(self._yaml.read_bytes() if self._yaml.exists() else b"")
        h.update(repr(sorted(self.template_hashes().items())).encode())
        h.update(repr(self.seed_examples).encode())
        return h.hexdigest()[:16]

    def render(self, purpose: str, mode: str = "completion", **context: Any) -> str:
        """Render a template in the bounded sandbox (:mod:`workbench.sandbox`).

        Any failure (an undefined variable, ``{{ 1/0 }}``, a ``range`` too big) is a
        :class:`TaskSpecError` naming the task, the template field, its line and the error.
        """
        key = f"{purpose}_chat" if mode == "chat" and f"{purpose}_chat" in self.templates else purpose
        source = self.template_text(purpose, mode)
        where = f"task {self.name!r} ({self._yaml}): field 'templates.{key}'"
        name = Path(self.templates.get(key, key)).name
        try:
            return render(PROMPT_SANDBOX.from_string(source), {"task": self, **context})
        except TemplateSyntaxError as exc:
            raise TaskSpecError(f"{where}: {name} line {exc.lineno}: {exc.message}") from None
        except UndefinedError as exc:
            raise TaskSpecError(f"{where}: {name}{_line(exc)}: {exc.message}; fix the variable name") from None
        except SecurityError as exc:
            raise TaskSpecError(f"{where}: {name}{_line(exc)}: unsafe template ({exc}); templates may only read "
                                "the documented variables, in loops of a few items") from None
        except Exception as exc:  # noqa: BLE001 (any Python error a template expression raises)
            raise TaskSpecError(f"{where}: {name}{_line(exc)}: rendering failed: {type(exc).__name__}: {exc}; "
                                "fix the template") from None

    def _check_templates(self) -> None:
        for key, rel in self.templates.items():
            where = f"{self._yaml}: field 'templates.{key}'"
            path = self._resolve(rel)
            if not path.is_file():
                raise TaskSpecError(f"{where}: file {path} does not exist; create it or fix the path")
            purpose = key.removesuffix("_chat")
            if purpose not in TEMPLATE_VARIABLES:
                raise TaskSpecError(f"{where}: unknown template '{key}'; use one of {sorted(TEMPLATE_VARIABLES)}")
            source = self._read(f"templates.{key}", path)
            try:
                names = meta.find_undeclared_variables(PROMPT_SANDBOX.parse(source))
            except TemplateSyntaxError as exc:
                raise TaskSpecError(f"{where}: {path.name} line {exc.lineno}: {exc.message}") from None
            unknown = names - TEMPLATE_VARIABLES[purpose]
            if unknown:
                raise TaskSpecError(
                    f"{where}: {path.name} uses undefined variable(s) {sorted(unknown)}; "
                    f"a '{purpose}' template may use {sorted(TEMPLATE_VARIABLES[purpose])}"
                )
            # A trial render with the seeds catches what only running shows: label.descripton,
            # {{ 1/0 }}, a range too big (render's TaskSpecError names the field and the line).
            self.render(purpose, "chat" if key.endswith("_chat") else "completion", **self._sample(purpose))

    def _sample(self, purpose: str) -> dict[str, Any]:
        seeds = self.seed_examples
        if purpose == "output":
            return {"examples": seeds[:2], "input": "example message"}
        if purpose == "judge":
            return {"rubric": self.judge.rubric if self.judge else [], "input": "example message",
                    "reply": "example reply"}
        texts = [r.get("text") or r.get("input") for r in seeds[:2]]
        return {"label": self.labels[0] if self.labels else None, "examples": texts, "n": 3, "start": 3}

    def _repr_html_(self) -> str:
        table = html_table([{"name": lab.name, "description": lab.description} for lab in self.labels],
                           {"name": "label", "description": "description"})
        return (f"<b>{escape(self.name)}</b> ({escape(self.type)}): {escape(self.description)}<br>"
                f"{len(self.seed_examples)} seeds; quality bar {escape(self.quality_bar.metric)} &ge; "
                f"{escape(self.quality_bar.min)}{table}")


def _line(exc: BaseException) -> str:
    """`` line N`` of the template where ``exc`` was raised (Jinja maps its frames to template lines)."""
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return f" line {line}" if line else ""


def normal_text(text: str) -> str:
    """Text as compared for leaks and duplicates: same letters, case and spacing aside.

    Example:
        >>> normal_text("  Where IS my\tcard ")
        'where is my card'
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _check_heldout(spec: TaskSpec, path: Path) -> None:
    """Refuse held-out rows that are also seeds: the student learns them, so the score would flatter it."""
    held = spec.heldout_examples()
    column = "text" if spec.type == "classification" else "input"
    seeds = {normal_text(r[column]) for r in spec.seed_examples}
    shared = sum(normal_text(r[column]) in seeds for r in held)
    if not shared:
        return
    seeds_file = spec._resolve(spec.seeds) if isinstance(spec.seeds, str) else None
    heldout_file = spec._resolve(spec.heldout or "")
    if seeds_file and heldout_file.resolve() == seeds_file.resolve():
        raise TaskSpecError(f"{path}: field 'heldout': it is the seeds file itself ({seeds_file}): the held-out "
                            "score would be a lie; point it at a file of rows the teacher and student never see")
    raise TaskSpecError(f"{path}: field 'heldout': {shared} of its {len(held)} rows are also in the seeds "
                        f"({seeds_file or 'the inline seeds'}): the held-out score would be a lie; remove them "
                        f"from {heldout_file}")


def _check_validation(spec: TaskSpec, path: Path) -> None:
    """Refuse validation rows that are seeds or held-out rows: calibration on the student's own training
    rows makes it look surer than it is, and on the held-out rows it tunes to the test."""
    rows = spec.validation_examples()
    column = "text" if spec.type == "classification" else "input"
    for field, other in (("seeds", spec.seed_examples), ("heldout", spec.heldout_examples())):
        taken = {normal_text(r[column]) for r in other}
        shared = sum(normal_text(r[column]) in taken for r in rows)
        if shared:
            raise TaskSpecError(f"{path}: field 'validation': {shared} of its {len(rows)} rows are also in "
                                f"'{field}'; remove them from {spec._resolve(spec.validation or '')}")


def _check_message_files(spec: TaskSpec, path: Path) -> None:
    """The unlabeled log and the out-of-scope examples exist and have their text column (header only:
    a big log is read in full by the pool import, not on every load)."""
    source = spec.unlabeled_source()
    files = [("unlabeled", Path(source.path), source.text_column)] if source else []
    for field in ("examples", "heldout"):
        if spec.out_of_scope is not None and getattr(spec.out_of_scope, field) is not None:
            files.append((f"out_of_scope.{field}", spec._resolve(getattr(spec.out_of_scope, field)), "text"))
    for field, file, column in files:
        try:
            have = file_columns(file)
        except ExampleFileError as exc:
            raise TaskSpecError(f"{path}: field '{field}': {exc}") from None
        if column not in have:
            fix = ("set unlabeled.text_column to the column holding the messages" if field == "unlabeled"
                   else "name the column 'text'")
            raise TaskSpecError(f"{path}: field '{field}': {file} has no column {column!r}; its columns are "
                                f"{have}; {fix}")


def task_path(name_or_path: str | Path) -> Path:
    """``support_intents`` -> ``<prompts_dir>/support_intents/task.yaml``; paths pass through."""
    p = Path(name_or_path)
    if p.suffix in {".yaml", ".yml"}:
        return p
    if p.is_dir():
        return p / "task.yaml"
    return get_settings().prompts_dir / str(name_or_path) / "task.yaml"


def list_tasks() -> list[str]:
    """Names of the task folders under the prompts dir."""
    root = get_settings().prompts_dir
    return sorted(p.parent.name for p in root.glob("*/task.yaml")) if root.is_dir() else []


def load_task(name_or_path: str | Path) -> TaskSpec:
    """Load and fully validate a task spec (fields, seeds, held-out and validation files, message logs,
    templates)."""
    path = task_path(name_or_path)
    if not path.is_file():
        known = ", ".join(list_tasks()) or "none"
        raise TaskSpecError(f"{path}: no such task spec; known tasks: {known}")
    try:
        raw = yaml.safe_load(read_text(path))
    except ExampleFileError as exc:
        raise TaskSpecError(str(exc)) from None
    except yaml.YAMLError as exc:
        raise TaskSpecError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise TaskSpecError(f"{path}: expected a mapping of fields at the top level")
    try:
        spec = TaskSpec.model_validate(raw)
    except ValidationError as exc:
        raise TaskSpecError(_explain(path, exc)) from None
    spec._folder = path.parent.resolve()
    _ = spec.seed_examples  # validates seeds: file, columns, labels
    if not spec.seed_examples:
        raise TaskSpecError(f"{path}: field 'seeds': no seed examples; add at least one per label")
    if spec.type == "classification":
        bare = set(spec.label_names) - {r["label"] for r in spec.seed_examples}
        if bare:
            raise TaskSpecError(f"{path}: field 'seeds': labels {sorted(bare)} have no seed example; add some")
    _check_heldout(spec, path)
    _check_validation(spec, path)
    _check_message_files(spec, path)
    spec._check_templates()
    return spec


def _explain(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: invalid task spec:"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "required field is missing; add it"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field; remove it or check its spelling"
        lines.append(f"  field '{loc}': {msg} (got {err.get('input')!r:.60})" if err["type"] != "missing"
                     else f"  field '{loc}': {msg}")
    return "\n".join(lines)
