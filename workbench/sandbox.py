"""The Jinja sandbox prompt templates render in, bounded so a template cannot hang or fill memory.

Jinja's :class:`~jinja2.sandbox.SandboxedEnvironment` already refuses attribute tricks
(``__class__``) and ranges over 100 000 items. A prompt needs far less, and a template is a file
anyone can edit, so this one also bounds

- ``range``: at most :data:`MAX_LOOP` items in one render, all ranges together (nested loops too);
- numbers passed to calls, filters and ``*`` / ``**`` / ``%``: a string or list repeated past
  :data:`MAX_CHARS`, a power with an exponent over 1000, a call or filter with a number over
  :data:`MAX_LOOP` (``"x".ljust(10**9)``, ``"x" | center(10**9)``), a format width over it
  (``"%1000000000d" % 1``, ``"{:>1000000000}".format(1)``);
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

import functools
import re
from contextvars import ContextVar
from typing import Any, Callable

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


def _check_numbers(what: str, values: tuple, kwargs: dict) -> None:
    for value in (*values, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_LOOP:
            raise SecurityError(f"{what}(... {value} ...): numbers above {MAX_LOOP} are refused")


# A width or precision in a %-format or a str.format spec: "%1000000000d", "{:>1000000000}".
_WIDTHS = re.compile(r"%[-+ #0*]*(\d+)|\{[^{}]*:[^{}]*?(\d+)")


def _check_format(fmt: str) -> None:
    for match in _WIDTHS.finditer(fmt):
        width = int(match.group(1) or match.group(2))
        if width > MAX_LOOP:
            raise SecurityError(f"a format width of {width}: widths above {MAX_LOOP} are refused")


def _bounded_filter(name: str, fn: Callable) -> Callable:
    # wraps() keeps jinja_pass_arg, so Jinja still hands context-taking filters their context.
    skip = 2 if getattr(fn, "jinja_pass_arg", None) else 1  # (context,) value, then the arguments

    @functools.wraps(fn)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _check_numbers(f"filter {name}", args[skip:], kwargs)
        return fn(*args, **kwargs)

    return bounded


class PromptSandbox(SandboxedEnvironment):
    """A sandbox with bounded loops, repetition, powers and call arguments (see the module docstring)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.globals["range"] = _range
        self.filters = {name: _bounded_filter(name, fn) for name, fn in self.filters.items()}

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"{left!r:.20} ** {right!r:.20}: exponents above {MAX_EXPONENT} are refused")
        if operator == "%" and isinstance(left, str):
            _check_format(left)
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                size = _size(seq)
                if size is not None and isinstance(times, int) and size * times > MAX_CHARS:
                    raise SecurityError(f"repeating a {type(seq).__name__} of {size} {times} times: more than "
                                        f"{MAX_CHARS} items")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's signature)
        if __obj is not _range:
            _check_numbers(getattr(__obj, "__name__", "a call"), args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)  # Jinja's own check of "{...}".format and format_map
        if wrapped is not None:
            _check_format(value.__self__)
        return wrapped


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
