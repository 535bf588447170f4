"""The Jinja sandbox prompt templates render in, bounded so a template cannot hang or fill memory.

Jinja's :class:`~jinja2.sandbox.SandboxedEnvironment` already refuses attribute tricks
(``__class__``) and ranges over 100 000 items. A prompt needs far less, and a template is a file
anyone can edit, so this one also bounds

- ``range``: at most :data:`MAX_LOOP` items in one render, all ranges together (nested loops too);
- numbers passed to calls and ``*`` / ``**``: a string or list repeated past :data:`MAX_CHARS`, a
  power with an exponent over 1000, a call with a number over :data:`MAX_LOOP` (``"x".ljust(10**9)``);
- the output: at most :data:`MAX_CHARS` characters.

Each is a :class:`~jinja2.exceptions.SecurityError` saying which bound it hit.

Example:
    >>> PROMPT_SANDBOX.from_string("{% for i in range(3) %}{{ i }}{% endfor %}").render()
    '012'
    >>> try:
    ...     render(PROMPT_SANDBOX.from_string("{% for i in range(10**9) %}{% endfor %}"), {})
    ... except Exception as err:
    ...     print(type(err).__name__)
    SecurityError
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

MAX_LOOP = 10_000  # range items per render; prompts loop over a few seed examples
MAX_CHARS = 200_000  # characters a rendered prompt (or one repeated string) may have
MAX_EXPONENT = 1_000

_loop_budget: ContextVar[int] = ContextVar("loop_budget", default=MAX_LOOP)


def _range(*args: int) -> range:
    rng = range(*args)
    left = _loop_budget.get() - len(rng)
    if left < 0:
        raise SecurityError(f"range({', '.join(map(str, args))}): a template may loop over at most {MAX_LOOP} "
                            "items in all")
    _loop_budget.set(left)
    return rng


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, (str, list, tuple)) else None


class PromptSandbox(SandboxedEnvironment):
    """A sandbox with bounded loops, repetition, powers and call arguments (see the module docstring)."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.globals["range"] = _range

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"{left!r:.20} ** {right!r:.20}: exponents above {MAX_EXPONENT} are refused")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                size = _size(seq)
                if size is not None and isinstance(times, int) and size * times > MAX_CHARS:
                    raise SecurityError(f"repeating a {type(seq).__name__} of {size} {times} times: more than "
                                        f"{MAX_CHARS} items")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's signature)
        if __obj is not _range:
            for value in (*args, *kwargs.values()):
                if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_LOOP:
                    raise SecurityError(f"{getattr(__obj, '__name__', 'a call')}(... {value} ...): numbers above "
                                        f"{MAX_LOOP} are refused in a call")
        return super().call(__context, __obj, *args, **kwargs)


def render(template: Template, context: dict[str, Any]) -> str:
    """``template`` rendered with ``context`` inside the bounds (a fresh loop budget each time)."""
    token = _loop_budget.set(MAX_LOOP)
    try:
        parts, total = [], 0
        for chunk in template.generate(**context):
            total += len(chunk)
            if total > MAX_CHARS:
                raise SecurityError(f"the rendered prompt passed {MAX_CHARS} characters")
            parts.append(chunk)
        return "".join(parts)
    finally:
        _loop_budget.reset(token)


PROMPT_SANDBOX = PromptSandbox(undefined=StrictUndefined, keep_trailing_newline=False, autoescape=False)
