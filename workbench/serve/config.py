"""Typed configuration of ``workbench serve``: :class:`ServeConfig`.

Which students to serve (``tasks``: the latest finished run of each; ``models``: a run or an
export folder named per task), in which format, behind which router, where to listen, and the
limits every request is held to.

Example:
    >>> cfg = ServeConfig(tasks=["support_intents"], format=["onnx-int8", "support_replies=pytorch"])
    >>> cfg.format, cfg.formats, cfg.host, cfg.auth
    ('onnx-int8', {'support_replies': 'pytorch'}, '127.0.0.1', True)
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field, field_validator, model_validator

from workbench.export.config import ExportConfig
from workbench.limits import stage_config
from workbench.train.predict import MAX_BATCH_SIZE

LOOPBACK = "127.0.0.1"
# The run itself, every export format, and a GGUF named by its quant: read off ExportConfig, so a
# format added to the export stage is servable by name.
_EXPORTS, _QUANTS = (get_args(ExportConfig.model_fields[f].annotation) for f in ("format", "quant"))
FORMATS = ("pytorch", *_EXPORTS, *(f"gguf-{q}" for q in _QUANTS))


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``::1`` and ``localhost`` reach only this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _pairs(value: Any, what: str) -> Any:
    """``["a=x", "b=y"]`` (the CLI's repeated option) -> ``{"a": "x", "b": "y"}``; a dict passes."""
    if not isinstance(value, (list, tuple)):
        return value
    out = {}
    for item in value:
        name, sep, rest = str(item).partition("=")
        if not sep or not name.strip() or not rest.strip():
            raise ValueError(f"{item!r}: write {what} as TASK=VALUE (e.g. support_intents=.workbench/exports/...)")
        out[name.strip()] = rest.strip()
    return out


@stage_config
class ServeConfig(BaseModel):
    """What ``workbench serve`` serves, where, and the limits of a request."""

    tasks: list[str] = Field(default_factory=list, description="Tasks to serve: each the latest finished train "
                                                               "run (its export with --format).")
    models: dict[str, str] = Field(default_factory=dict, description="TASK=PATH: serve that run folder or export "
                                                                     "folder as TASK (adds TASK to the tasks).")
    router: str | None = Field(None, description="A classification task whose labels are served tasks; "
                                                 "POST /v1/route sends a message to the one it picks.")
    format: str = Field("pytorch", description=f"The format served for every task: {', '.join(FORMATS)}; "
                                               "an export other than pytorch must exist (`workbench export`).")
    formats: dict[str, str] = Field(default_factory=dict, description="Per-task format, overriding 'format'.")
    host: str = Field(LOOPBACK, description="Bind address; loopback unless you say otherwise.")
    port: int = Field(8321, ge=0, le=65535, description="The TCP port to listen on; 0 picks a free one.")
    auth: bool = Field(True, description="Require 'Authorization: Bearer <key>' (the key under the home); "
                                         "off only on a loopback host.")
    max_body_bytes: int = Field(1_000_000, ge=1024, le=100_000_000, description="Largest request body; "
                                                                                 "larger ones get 413.")
    max_texts: int = Field(256, ge=1, le=MAX_BATCH_SIZE, description="Texts in one classify request.")
    max_batch: int = Field(64, ge=1, le=MAX_BATCH_SIZE, description="Texts one model call takes when "
                                                                     "requests arrive together.")
    batch_window_ms: float = Field(0.0, ge=0.0, le=1000.0, description="Wait this long for more requests before "
                                                                       "a model call on an idle model.")
    max_new_tokens: int = Field(128, ge=1, le=4096, description="Reply length: the default and the most a chat "
                                                                "request may ask (max_tokens).")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where PyTorch students run.")
    access_log: bool = Field(True, description="Log one line per request (never a header, so never the key).")

    @model_validator(mode="before")
    @classmethod
    def _split_format(cls, data: Any) -> Any:
        # The CLI's repeated --format: one bare FORMAT (every task) and TASK=FORMAT overrides.
        if isinstance(data, dict) and isinstance(data.get("format"), (list, tuple)):
            items = list(data["format"])
            bare = [f for f in items if "=" not in f]
            data = {**data, "format": bare[0] if len(bare) == 1 else bare or "pytorch",
                    "formats": {**_pairs([f for f in items if "=" in f], "--format"), **data.get("formats", {})}}
        return data

    @field_validator("models", mode="before")
    @classmethod
    def _models(cls, value: Any) -> Any:
        return _pairs(value, "--model")

    @field_validator("format", mode="before")
    @classmethod
    def _format(cls, value: Any) -> str:
        if isinstance(value, list):  # several bare --format values
            raise ValueError(f"give one format for every task, not {value}; name the others as TASK=FORMAT")
        if value not in FORMATS:
            raise ValueError(f"unknown format {value!r}; use one of {', '.join(FORMATS)}")
        return value

    @field_validator("formats")
    @classmethod
    def _formats(cls, value: dict[str, str]) -> dict[str, str]:
        for fmt in value.values():
            cls._format(fmt)
        return value

    def served_tasks(self) -> list[str]:
        """Every task to load, once each, in order: tasks, then models, then the router."""
        names = [*self.tasks, *self.models, *([self.router] if self.router else [])]
        return list(dict.fromkeys(names))

    def format_of(self, task: str) -> str:
        """The format ``task`` is served in (its own ``formats`` entry, else ``format``)."""
        return self.formats.get(task, self.format)
