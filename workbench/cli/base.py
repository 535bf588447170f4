"""The root command and what every command shares: the ``app``, the one place a
:class:`~workbench.errors.WorkbenchError` becomes a message and an exit code, and the option
helpers (a config built from options, limits in help texts, ``--json`` output).

Example:
    >>> from workbench.cli.base import app, _option
    >>> _option("runs"), _option("max_steps")
    ('--run', '--max-steps')
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from workbench.errors import WorkbenchError
from workbench.limits import config_error, limits


class _Workbench(TyperGroup):
    """The root command: the one place a :class:`WorkbenchError` becomes a message and an exit code.

    In the group rather than a wrapper script, so that ``CliRunner().invoke(app, ...)`` (the tests
    and notebooks), ``python -m workbench.cli`` and the installed ``workbench`` behave the same.
    """

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except WorkbenchError as err:
            # Exit code 3 (review pending) is not a failure: the pipeline comes back later.
            pending = err.exit_code == 3
            typer.secho(f"{'waiting' if pending else 'error'}: {err}", err=True,
                        fg=typer.colors.YELLOW if pending else typer.colors.RED)
            raise typer.Exit(err.exit_code) from None


app = typer.Typer(cls=_Workbench, help="SLM Workbench: synthetic data, review, small students, evaluation.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
tasks_app = typer.Typer(help="List, show and validate task specs.", no_args_is_help=True)
app.add_typer(tasks_app, name="tasks")


def _fail(message: str) -> None:
    # For the CLI's own option checks; errors from the stages go through _Workbench.invoke.
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


# Config fields whose option is not simply --<field> (``runs`` is given as a repeated --run).
_OPTIONS = {"runs": "--run"}


def _option(field: str) -> str:
    return _OPTIONS.get(field, "--" + field.replace("_", "-"))


def _config(cls, **options):
    """``cls(**options)``, with a value out of range told in plain words as the option to fix.

    ``--n 0`` -> "--n must be between 1 and 100000 (you gave 0): rows wanted in the dataset"; the
    bounds and the words come from the config's fields (:mod:`workbench.limits`), as a notebook
    gets them, with the option's name for the field's.
    """
    from pydantic import ValidationError

    from workbench.errors import ConfigError

    try:
        return cls(**options)
    except ConfigError as err:  # a stage config: the same words, named as options
        if getattr(err, "validation", None) is None:
            raise
        raise config_error(cls, err.validation, option=_option) from None
    except ValidationError as exc:  # PipelineConfig
        raise config_error(cls, exc, option=_option) from None


def _limits(cls, field: str) -> str:
    return f" ({limits(cls, field)})"


def _emit(payload: dict[str, Any], as_json: bool, human: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(payload, default=str) + "\n")
    else:
        typer.echo(human)
