"""The documented limits of the typed configs' numbers, and one plain-words message when a value is out of them.

A stage config's numeric fields carry their bounds as pydantic ``Field(ge=..., le=...)``; this module
reads them back, for the help texts and panels (``limits(GenerateConfig, "n")`` -> ``"1 to 100000"``)
and for the message a value out of range gets (:func:`config_error`): the option, the bound, the
value given and what the option is, in the words of the field's description.

A config decorated with :func:`stage_config` raises that message as a :class:`ConfigError` (a
``ValueError``) instead of pydantic's ``ValidationError``, wherever it is made: a notebook, a panel,
a pipeline. The CLI tells the same words with its option names (``--n`` for ``n``).

Example:
    >>> from pydantic import BaseModel, Field
    >>> @stage_config
    ... class Demo(BaseModel):
    ...     n: int = Field(300, ge=1, le=100_000, description="Rows wanted in the dataset.")
    >>> limits(Demo, "n"), Demo.model_fields["n"].description
    ('1 to 100000', 'Rows wanted in the dataset. Limits: 1 to 100000.')
    >>> try:
    ...     Demo(n=0)
    ... except ConfigError as err:
    ...     print(err)
    ...     print(config_error(Demo, err.validation, option=lambda f: "--" + f))
    n must be between 1 and 100000 (you gave 0): rows wanted in the dataset
    --n must be between 1 and 100000 (you gave 0): rows wanted in the dataset
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from pydantic import BaseModel, ValidationError

from workbench.errors import ConfigError

M = TypeVar("M", bound=type[BaseModel])

# pydantic's error types for a number out of its bounds.
_BOUND_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def bounds(model: type[BaseModel], field: str) -> dict[str, Any]:
    """``{"ge": 1, "le": 100000}``: the bounds declared on ``model.field`` (empty when none)."""
    info = model.model_fields.get(field)
    found: dict[str, Any] = {}
    for meta in info.metadata if info else []:
        for kind in ("ge", "gt", "le", "lt"):  # annotated_types.Ge has .ge, and so on
            if getattr(meta, kind, None) is not None:
                found[kind] = getattr(meta, kind)
    return found


def limits(model: type[BaseModel], field: str) -> str:
    """The bounds of ``model.field`` in words: ``"1 to 100000"``, ``"at least 0"``, ``"above 0, at most 1"``."""
    b = bounds(model, field)
    if "ge" in b and "le" in b:
        return f"{b['ge']} to {b['le']}"
    low = f"at least {b['ge']}" if "ge" in b else f"above {b['gt']}" if "gt" in b else ""
    high = f"at most {b['le']}" if "le" in b else f"below {b['lt']}" if "lt" in b else ""
    return ", ".join(p for p in (low, high) if p)


def stage_config(model: M) -> M:
    """Class decorator of the stage configs: limits in the descriptions, a plain :class:`ConfigError`.

    Each bounded field's description ends with its limits (``Limits: 1 to 100000.``): the bounds
    stay written once, in ``Field(ge=..., le=...)``, and the help, the schema and the docs read
    them from there. Making the config with a bad value raises :func:`config_error`'s message.
    """
    for name, info in model.model_fields.items():
        text = limits(model, name)
        if text and _LIMITS not in (info.description or ""):
            info.description = f"{(info.description or '').strip()} {_LIMITS} {text}.".strip()
    model.model_rebuild(force=True)
    pydantic_init = model.__init__

    def __init__(self, /, **data: Any) -> None:
        try:
            pydantic_init(self, **data)
        except ValidationError as exc:
            raise config_error(type(self), exc) from None

    __init__.__doc__ = pydantic_init.__doc__
    model.__init__ = __init__  # type: ignore[method-assign]
    return model


_LIMITS = "Limits:"


def _must(model: type[BaseModel], field: str) -> str:
    b = bounds(model, field)
    if "ge" in b and "le" in b:
        return f"must be between {b['ge']} and {b['le']}"
    return f"must be {limits(model, field)}"


def _what(model: type[BaseModel], field: str) -> str:
    info = model.model_fields.get(field)
    text = (info.description or "").split(_LIMITS)[0].strip() if info else ""
    first = text.split(". ")[0].rstrip(".")
    return f": {first[:1].lower()}{first[1:]}" if first else ""


def config_error(model: type[BaseModel], exc: ValidationError,
                 option: Callable[[str], str] = str) -> ConfigError:
    """One :class:`ConfigError` for every problem in ``exc`` (from validating ``model``), in plain words.

    ``option`` turns a field name into the name the user typed (``lambda f: "--" + f`` for the CLI).
    The error keeps ``exc`` as ``validation``, for a front that names the fields its own way.
    """
    problems = []
    for e in exc.errors():
        field = str(e["loc"][0]) if e["loc"] else ""
        name = option(".".join(map(str, e["loc"]))) if e["loc"] else "the config"
        if e["type"] in _BOUND_ERRORS and bounds(model, field):
            problems.append(f"{option(field)} {_must(model, field)} (you gave {e['input']!r})"
                            f"{_what(model, field)}")
        elif e["type"] == "missing":
            problems.append(f"{name}: required; give it")
        else:
            problems.append(f"{name} {e.get('input')!r}: {e['msg'].removeprefix('Value error, ')}")
    err = ConfigError("; ".join(problems))
    err.validation = exc
    return err
