"""Teachers: a distilabel LLM from a short spec string.

Specs:

- ``llamacpp:<bundled name or path.gguf>`` (default ``llamacpp:gemma3-270m``): llama.cpp
  on this machine with batched decoding over parallel slots.
- ``openai:<model>@<base_url>``: any OpenAI-compatible server (vLLM, Ollama, llama.cpp
  server, OpenAI). The key comes from the environment (``WORKBENCH_OPENAI_API_KEY`` or
  ``OPENAI_API_KEY``), never from the spec, so it never lands in a manifest.
- ``transformers:<local folder or bundled GGUF name>``: a Hugging Face model in-process.

A teacher prompts in ``completion`` mode (a few-shot list the base model continues) or
``chat`` mode (an instruction for instruct models). Bundled models know their mode;
other teachers default to chat (:func:`workbench.models.prompt_mode`), and
``?mode=completion`` on the spec overrides it. The bundled teachers are the registry's
models with the ``teacher`` role (:func:`workbench.models.models_for`).

Example:
    >>> t = TeacherSpec.parse("openai:qwen2.5-7b-instruct@http://127.0.0.1:8000/v1")
    >>> t.kind, t.model, t.base_url, t.mode
    ('openai', 'qwen2.5-7b-instruct', 'http://127.0.0.1:8000/v1', 'chat')
    >>> str(TeacherSpec.parse("gemma3-270m"))
    'llamacpp:gemma3-270m?mode=completion'
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from workbench.errors import WorkbenchError
from workbench.models import find_model, models_for, prompt_mode
from workbench.settings import get_settings

KINDS = ("llamacpp", "openai", "transformers")
USAGE = "use llamacpp:<bundled name or .gguf path>, openai:<model>@<base_url> or transformers:<path>"


class TeacherSpecError(WorkbenchError, ValueError):
    """A teacher spec that cannot be parsed or reached; the message gives the form to use."""


@dataclass(frozen=True)
class TeacherSpec:
    kind: Literal["llamacpp", "openai", "transformers"]
    model: str
    mode: Literal["completion", "chat"]
    base_url: str | None = None

    @classmethod
    def parse(cls, spec: str) -> "TeacherSpec":
        text = spec.strip()
        mode = None
        if "?mode=" in text:
            text, mode = text.split("?mode=", 1)
            if mode not in ("completion", "chat"):
                raise TeacherSpecError(f"teacher {spec!r}: mode must be 'completion' or 'chat', not {mode!r}")
        kind, sep, rest = text.partition(":")
        if not sep:  # a bare bundled name or .gguf path means llama.cpp
            kind, rest = "llamacpp", text
        if kind not in KINDS:
            raise TeacherSpecError(f"teacher {spec!r}: unknown kind {kind!r}; {USAGE}")
        if not rest:
            raise TeacherSpecError(f"teacher {spec!r}: no model given; {USAGE}")
        base_url = None
        if kind == "openai":
            model, at, base_url = rest.partition("@")
            if not at or not base_url.startswith(("http://", "https://")):
                raise TeacherSpecError(f"teacher {spec!r}: write openai:<model>@<base_url>, "
                                       "e.g. openai:llama3.1@http://127.0.0.1:11434/v1")
            rest = model
        elif kind == "llamacpp" and not rest.endswith(".gguf") and not _bundled_teacher(rest):
            gguf = [m.name for m in models_for("teacher")]
            raise TeacherSpecError(f"teacher {spec!r}: {rest!r} is neither a bundled GGUF model {gguf} "
                                   "nor a path ending in .gguf")
        if mode is None:
            mode = prompt_mode(rest)
        return cls(kind=kind, model=rest, mode=mode, base_url=base_url)  # type: ignore[arg-type]

    def __str__(self) -> str:
        at = f"@{self.base_url}" if self.base_url else ""
        return f"{self.kind}:{self.model}{at}?mode={self.mode}"


def _bundled_teacher(name: str) -> bool:
    model = find_model(name)
    return model is not None and model.can("teacher")


def build_teacher(spec: str | TeacherSpec, *, slots: int = 8, threads: int | None = None, seed: int = 0):
    """A loaded-on-demand distilabel LLM for a teacher spec (call ``.load()`` before use)."""
    t = spec if isinstance(spec, TeacherSpec) else TeacherSpec.parse(spec)
    settings = get_settings()
    if t.kind == "llamacpp":
        from workbench.generate.llamacpp import BatchedLlamaCppLLM

        return BatchedLlamaCppLLM(model=t.model, mode=t.mode, slots=slots,
                                  threads=threads or settings.resolved_threads(), seed=seed)
    if t.kind == "openai":
        from distilabel.models import OpenAILLM

        key = settings.api_key()
        if not key:
            # Local servers (vLLM, Ollama) accept any key; a placeholder keeps the client happy.
            key = "not-needed"
        return OpenAILLM(model=t.model, base_url=t.base_url, api_key=key)
    from distilabel.models import TransformersLLM

    from workbench.models import transformers_dir

    path = str(transformers_dir(t.model)) if find_model(t.model) is not None else t.model
    return TransformersLLM(model=path, device="cpu")


def check_teacher(spec: TeacherSpec, timeout: float = 10.0) -> None:
    """Fail fast, with a clear message, when a teacher cannot be used.

    A llama.cpp teacher's GGUF file must exist (the worker process would otherwise fail
    with its own traceback); for an OpenAI-compatible server this asks for its model list
    once, so a wrong URL or key is reported before any work starts.
    """
    if spec.kind == "llamacpp" and spec.model.endswith(".gguf"):
        if not Path(spec.model).expanduser().is_file():
            raise TeacherSpecError(f"teacher {spec}: GGUF file {spec.model} does not exist; give the path of a "
                                   f".gguf file or a bundled teacher ({', '.join(m.name for m in models_for('teacher'))})")
        return
    if spec.kind != "openai":
        return
    import openai

    client = openai.OpenAI(base_url=spec.base_url, api_key=get_settings().api_key() or "not-needed",
                           timeout=timeout, max_retries=0)
    try:
        client.models.list()
    except openai.AuthenticationError:
        raise TeacherSpecError(f"teacher {spec}: the server rejected the API key; set WORKBENCH_OPENAI_API_KEY "
                               "(or OPENAI_API_KEY) to a valid key") from None
    except openai.APIConnectionError:
        raise TeacherSpecError(f"teacher {spec}: cannot reach {spec.base_url}; is the server running, "
                               "and does the URL end in /v1?") from None
    except openai.APIStatusError as exc:
        raise TeacherSpecError(f"teacher {spec}: {spec.base_url} answered HTTP {exc.status_code} to a model "
                               "list request; is it an OpenAI-compatible endpoint?") from None


def teacher_call_failed(spec: TeacherSpec, exc: Exception) -> TeacherSpecError:
    """A one-line error for a failed request to an OpenAI-compatible teacher, with the server's own
    words but never the key (some proxies echo it back in their error). Raise it ``from None``."""
    from workbench.secrets import scrub

    status = getattr(exc, "status_code", None)
    answered = f"answered HTTP {status}" if status else f"failed ({type(exc).__name__})"
    said = " ".join(scrub(str(exc)).split())[:300]
    return TeacherSpecError(f"teacher {spec}: {spec.base_url} {answered}: {said}; check the model name, "
                            "the key (WORKBENCH_OPENAI_API_KEY or OPENAI_API_KEY) and the server's log")


def generation_kwargs(llm: Any, **wanted: Any) -> dict[str, Any]:
    """Keep the generation settings this LLM's ``generate`` accepts (they differ by backend)."""
    # Async LLMs (OpenAI) take their settings in agenerate; the others in generate.
    params = inspect.signature(getattr(llm, "agenerate", llm.generate)).parameters
    open_ended = any(p.kind is p.VAR_KEYWORD for p in params.values())
    return {k: v for k, v in wanted.items() if v is not None and (open_ended or k in params)}
