"""The llama.cpp pieces every model user shares: quiet logs, the GGUF's chat template, the
prompt-prefix rule of the KV cache, and the GGUF re-layout for batched decoding.

Example:
    >>> shared_prefix([1, 2, 3, 9], [1, 2, 3, 4, 5])   # keep 3 cached tokens, decode 4 and 5
    3
    >>> shared_prefix([1, 2, 3], [1, 2, 3])            # the same prompt: the last token runs again
    2
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.locks import build_once
from workbench.models import gguf_path
from workbench.settings import get_settings


class ChatTemplateError(ConfigError):
    """A chat-mode model whose GGUF holds no chat template; prompt it in completion mode."""


class PromptTooLongError(ConfigError):
    """A prompt longer than the llama.cpp context it must fit in."""


_LOG_CALLBACK = None


def quiet_llama_logs() -> None:
    """Silence llama.cpp's own logging (it prints every tensor as a model loads)."""
    import llama_cpp

    global _LOG_CALLBACK
    if _LOG_CALLBACK is None:
        # Keep a reference, or ctypes frees the callback while llama.cpp still calls it.
        _LOG_CALLBACK = llama_cpp.llama_log_callback(lambda level, text, user_data: None)
        llama_cpp.llama_log_set(_LOG_CALLBACK, ctypes.c_void_p(0))


def chat_prompt(model: Any, messages: list[dict[str, str]], name: str = "this model") -> str:
    """``messages`` rendered with the GGUF's own chat template, ready to tokenize.

    ``model`` is a loaded ``llama_cpp._internals.LlamaModel`` (``Llama._model``). The
    template writes the BOS text; when the tokenizer adds BOS itself, that text is dropped
    so the prompt holds one BOS.

    Example:
        >>> chat_prompt(engine.model, [{"role": "user", "content": "hi"}])   # doctest: +SKIP
        '<|im_start|>user\\nhi<|im_end|>\\n<|im_start|>assistant\\n'
    """
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = model.metadata().get("tokenizer.chat_template")
    if not template:
        raise ChatTemplateError(f"{name} has no chat template; use it with ?mode=completion")
    bos = model.token_get_text(model.token_bos())
    eos = model.token_get_text(model.token_eos())
    prompt = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)(messages=messages).prompt
    return prompt[len(bos):] if bos and model.add_bos_token() and prompt.startswith(bos) else prompt


def shared_prefix(held: Sequence[int], tokens: Sequence[int]) -> int:
    """How many cached tokens ``held`` a new prompt ``tokens`` can keep in the KV cache.

    Prompts of one task share their header, so only what follows it is computed. The last
    token of the prompt is always decoded again: its logits are what the next step reads.
    """
    keep = 0
    for a, b in zip(held, tokens):
        if a != b:
            break
        keep += 1
    return max(min(keep, len(tokens) - 1), 0)


# Weight layouts for batched decoding on CPU: name -> (file type, embedding/output type).
BATCH_WEIGHTS = {"fast": ("MOSTLY_Q4_0", "F16"), "f16": ("MOSTLY_F16", "F16")}


def batched_gguf(name_or_path: str, weights: str = "fast") -> Path:
    """The model re-laid-out for batched decoding, made once and cached under the home (under a
    file lock, so runs started together make it once).

    llama.cpp multiplies Q4_0 and F16 weights with real matrix-matrix kernels when many
    sequences decode together; the k-quant blocks of the bundled files fall back to
    per-row dot products there. Measured for Gemma 270M at 16 slots on this 2-core CPU
    (bench/RESULTS.md): original Q4_K_M ~81 tok/s, ``f16`` ~97, ``fast`` (Q4_0 layers,
    F16 embeddings and output, which dominate a 262k-token vocabulary) ~108.

    Example:
        >>> batched_gguf("gemma3-270m").name                           # doctest: +SKIP
        'gemma3-270m-q4_k_m-fast.gguf'
    """
    src = gguf_path(name_or_path)
    if weights == "original":
        return src
    if weights not in BATCH_WEIGHTS:
        raise ConfigError(f"weights must be 'original' or one of {sorted(BATCH_WEIGHTS)}, not {weights!r}")
    target = get_settings().models_path() / f"{src.stem}-{weights}.gguf"
    return build_once(target, lambda: _relayout(src, target, weights))


def _relayout(src: Path, target: Path, weights: str) -> None:
    ftype, emb = BATCH_WEIGHTS[weights]
    quantize_gguf(src, target, ftype, emb)


def quantize_gguf(src: Path, target: Path, ftype: str, tensor_type: str | None = None) -> Path:
    """``src`` quantized by llama.cpp's own ``llama_model_quantize`` to the file type ``ftype``
    (``MOSTLY_Q4_K_M``, ``MOSTLY_Q8_0``, ...), written beside ``target`` and renamed into place.

    ``tensor_type`` (a ggml type, ``F16``) keeps the token embeddings and output in that type.
    A file that is quantized already is quantized again (``allow_requantize``).

    Example:
        >>> quantize_gguf(Path("student-f16.gguf"), Path("student-q4_k_m.gguf"), "MOSTLY_Q4_K_M")  # doctest: +SKIP
        PosixPath('student-q4_k_m.gguf')
    """
    import llama_cpp

    quiet_llama_logs()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_{ftype}")
    if tensor_type:
        params.token_embedding_type = params.output_tensor_type = getattr(llama_cpp, f"GGML_TYPE_{tensor_type}")
    params.allow_requantize = True
    tmp = target.with_name(f".{target.name}.partial-{os.getpid()}")
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), ctypes.byref(params))
    if rc != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"quantizing {src} to {ftype} failed (llama.cpp code {rc})")
    tmp.rename(target)
    return target
