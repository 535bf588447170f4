"""`workbench label`, `workbench review ...` and `workbench argilla ...`: choosing real messages to review,
review in Argilla, and the local Argilla server."""

from __future__ import annotations

from typing import Optional

import typer

from workbench.cli.base import _config, _emit, _fail, app
from workbench.label.config import LabelConfig
from workbench.limits import limits
from workbench.review.config import ReviewConfig


review_app = typer.Typer(help="Send synthetic data to Argilla for review and bring reviewed data back.",
                         no_args_is_help=True)
app.add_typer(review_app, name="review")


def _review_config(**kw):
    return _config(ReviewConfig, **{k: v for k, v in kw.items() if v is not None})


@review_app.command("push")
def review_push(task: str = typer.Option(..., "--task", help="Task name."),
                version: Optional[str] = typer.Option(None, help="Synthetic version (default the latest)."),
                dataset: Optional[str] = typer.Option(None, help="Argilla dataset name (default the task name)."),
                workspace: Optional[str] = typer.Option(None, help="Argilla workspace (default 'workbench')."),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Push a synthetic version; records already in Argilla are left alone."""
    from workbench.review import run_push

    result = run_push(_review_config(task=task, version=version, dataset=dataset, workspace=workspace))
    _emit(result.to_dict(), as_json, str(result))


@review_app.command("status")
def review_status_cmd(task: str = typer.Option(..., "--task", help="Task name."),
                      dataset: Optional[str] = typer.Option(None), workspace: Optional[str] = typer.Option(None),
                      as_json: bool = typer.Option(False, "--json")) -> None:
    """Review progress, overall and per reviewer."""
    from workbench.review import review_status

    result = review_status(_review_config(task=task, dataset=dataset, workspace=workspace))
    _emit(result.to_dict(), as_json, str(result))


@review_app.command("pull")
def review_pull(task: str = typer.Option(..., "--task", help="Task name."),
                policy: str = typer.Option("human", help="human | wait (stop until reviewed) | auto (auto-reviewer)."),
                min_reviewed: Optional[int] = typer.Option(None, help="For --policy wait: records needed (default all"
                                                           "; " + limits(ReviewConfig, "min_reviewed") + ")."),
                dataset: Optional[str] = typer.Option(None), workspace: Optional[str] = typer.Option(None),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Write a reviewed version with every decision and its lineage."""
    from workbench.review import run_pull

    if policy not in ("human", "wait", "auto"):
        _fail(f"--policy must be human, wait or auto, not {policy!r}")
    result = run_pull(_review_config(task=task, policy=policy, min_reviewed=min_reviewed,
                                     dataset=dataset, workspace=workspace))
    _emit(result.to_dict(), as_json, str(result))


argilla_app = typer.Typer(help="The local Argilla: install, up, down, status, credentials, reindex.",
                          no_args_is_help=True)
app.add_typer(argilla_app, name="argilla")


def _local_argilla(host: Optional[str] = None, port: Optional[int] = None):
    # Without --host/--port: the running one (where `up` started it), else the settings' port.
    from workbench.review.server.local import LocalArgilla

    return LocalArgilla.from_settings(host=host, port=port)


@argilla_app.command("install")
def argilla_install() -> None:
    """Create argilla-server's own virtualenv under the home (once)."""
    typer.echo("preparing argilla-server's own environment (about a minute the first time)...")
    typer.echo(f"argilla-server environment ready at {_local_argilla().install()}")


@argilla_app.command("up")
def argilla_up(host: Optional[str] = typer.Option(None, help="Bind address; loopback unless you say otherwise."),
               port: Optional[int] = typer.Option(None, help="Port (default 6900 or WORKBENCH_ARGILLA_PORT)."),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Start Argilla (server, UI, worker, Redis) and wait until it answers; safe to repeat."""
    if host and host not in ("127.0.0.1", "localhost", "::1"):
        typer.secho(f"warning: binding {host} exposes Argilla beyond this machine; anyone who can reach "
                    "it can try to log in", fg=typer.colors.YELLOW, err=True)
    status = _local_argilla(host, port).up()
    _emit(status.to_dict(), as_json, f"{status}\nopen {status.url} (login: `workbench argilla credentials`)")


_HOST = typer.Option(None, help="Its bind address (default: where `up` started it).")
_PORT = typer.Option(None, help="Its port (default: where `up` started it, else 6900 or WORKBENCH_ARGILLA_PORT).")


@argilla_app.command("down")
def argilla_down(host: Optional[str] = _HOST, port: Optional[int] = _PORT) -> None:
    """Stop every Argilla process; the data stays for the next `up`."""
    _local_argilla(host, port).down()
    typer.echo("argilla stopped")


@argilla_app.command("status")
def argilla_status(host: Optional[str] = _HOST, port: Optional[int] = _PORT,
                   as_json: bool = typer.Option(False, "--json")) -> None:
    """Each process, health, and the counts of datasets and records."""
    status = _local_argilla(host, port).status()
    _emit(status.to_dict(), as_json, str(status))


@argilla_app.command("credentials")
def argilla_credentials(as_json: bool = typer.Option(False, "--json")) -> None:
    """The owner's login and API key (the only command that shows them)."""
    creds = _local_argilla().credentials()
    _emit({"url": creds.url, "username": creds.username, "password": creds.password, "api_key": creds.api_key},
          as_json, f"url: {creds.url}\nusername: {creds.username}\npassword: {creds.password}\n"
                   f"api_key: {creds.api_key}")


@argilla_app.command("reindex")
def argilla_reindex() -> None:
    """Rebuild the search index from Argilla's database (with Argilla stopped)."""
    _local_argilla().reindex()
    typer.echo("search index rebuilt")


@app.command("label")
def label(task: str = typer.Option(..., "--task", help="Task name; its spec names the `unlabeled:` message log."),
          budget: int = typer.Option(30, help="Messages sent to people for review this round (" +
                                     limits(LabelConfig, "budget") + ")."),
          strategy: str = typer.Option("default", help="default (least sure per predicted intent, no near-copies)"
                                       ", margin, cluster or random (the control)."),
          model: str = typer.Option("auto", help="auto (latest fine-tuned student, else embeddings), embeddings, "
                                    "or a run."),
          seed: int = typer.Option(0, help="Seed of the random and cluster strategies."),
          pseudo_labels: bool = typer.Option(False, "--pseudo-labels", help="Also save the messages the model is "
                                             "sure about as pseudo-labels (train with --pseudo-labels)."),
          push: bool = typer.Option(True, "--push/--no-push", help="Send the chosen messages to Argilla."),
          dataset: Optional[str] = typer.Option(None), workspace: Optional[str] = typer.Option(None),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """Label the task's real messages with the student and send the ones worth a look to review."""
    from workbench.label import run_label

    cfg = _config(LabelConfig, **{k: v for k, v in dict(
        task=task, budget=budget, strategy=strategy, model=model, seed=seed, pseudo_labels=pseudo_labels,
        push=push, dataset=dataset, workspace=workspace).items() if v is not None})
    result = run_label(cfg)
    _emit(result.to_dict(), as_json, str(result))
