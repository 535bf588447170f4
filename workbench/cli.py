"""`workbench ...`: a thin command line over the same functions the notebooks call.

Every command that writes something accepts ``--json`` and then prints one JSON object
as its last line of stdout (paths and key figures), for scripts and pipelines.

Example:
    $ workbench tasks validate support_intents
    $ workbench generate --task support_intents --n 300 --json
"""

from __future__ import annotations

import json
import sys
from typing import Any, Optional

import typer
from typer.core import TyperGroup

from workbench.errors import WorkbenchError
from workbench.evaluate.config import STRATEGIES, EvaluateConfig
from workbench.export.config import ExportConfig
from workbench.generate.config import GenerateConfig
from workbench.limits import config_error, limits
from workbench.models import models_for, student_names
from workbench.review.config import ReviewConfig
from workbench.serve.config import ServeConfig
from workbench.train.config import TrainConfig


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


@tasks_app.command("list")
def tasks_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """The task specs under the prompts folder."""
    from workbench.tasks import list_tasks

    names = list_tasks()
    _emit({"tasks": names}, as_json, "\n".join(names) or "no tasks found")


@tasks_app.command("show")
def tasks_show(task: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """A task's type, labels, seeds and defaults."""
    from workbench.tasks import load_task

    spec = load_task(task)
    data = spec.model_dump(mode="json")
    data.update(seeds=len(spec.seed_examples), heldout=len(spec.heldout_examples()), folder=str(spec.folder))
    lines = [f"{spec.name} ({spec.type}): {spec.description}", f"folder: {spec.folder}",
             f"seeds: {len(spec.seed_examples)}; held-out: {len(spec.heldout_examples())}",
             f"quality bar: {spec.quality_bar.metric} >= {spec.quality_bar.min}"]
    lines += [f"  {lab.name}: {lab.description}" for lab in spec.labels]
    _emit(data, as_json, "\n".join(lines))


@tasks_app.command("validate")
def tasks_validate(task: Optional[str] = typer.Argument(None, help="Task name or task.yaml; all if omitted."),
                   as_json: bool = typer.Option(False, "--json")) -> None:
    """Load and check task specs: one line per task, exit code 2 when any is wrong.

    A single task's mistake is the one ``error:`` line; with no argument every task is checked and
    reported, good or bad, so one broken spec does not hide the others.
    """
    from workbench.tasks import list_tasks, load_task

    if task:
        load_task(task)  # a WorkbenchError becomes the one error line (the root group)
        _emit({"valid": [task], "errors": {}}, as_json, f"ok  {task}")
        return
    names, errors = list_tasks(), {}
    for name in names:
        try:
            load_task(name)
        except WorkbenchError as exc:
            errors[name] = str(exc)
    _emit({"valid": [n for n in names if n not in errors], "errors": errors}, as_json,
          "\n".join(f"ERR {n}: {errors[n]}" if n in errors else f"ok  {n}" for n in names) or "no tasks found")
    if errors:
        raise typer.Exit(2)


@app.command()
def generate(
    task: str = typer.Option(..., "--task", "-t", help="Task name or path to task.yaml."),
    n: int = typer.Option(300, "--n", help="Rows wanted" + _limits(GenerateConfig, "n") + "."),
    teacher: Optional[str] = typer.Option(None, "--teacher", help=f"llamacpp:<{'|'.join(m.name for m in models_for('teacher'))}|"
                                          ".gguf>, openai:<model>@<url>, transformers:<path>; default WORKBENCH_TEACHER."),
    seed: int = typer.Option(0, "--seed", help="Drives sampling" + _limits(GenerateConfig, "seed") + "."),
    slots: int = typer.Option(16, "--slots", help="Sequences decoded together (llama.cpp)"
                              + _limits(GenerateConfig, "slots") + "."),
    batch_size: int = typer.Option(64, "--batch-size", help="Prompts per pipeline batch"
                                   + _limits(GenerateConfig, "batch_size") + "."),
    plan: Optional[str] = typer.Option(None, "--plan", help="A generation plan (plan.yaml from `workbench "
                                       "evaluate`): rows per label, replacing --n."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object as the last line."),
) -> None:
    """Generate a synthetic dataset for a task; the same command resumes after a kill."""
    from workbench.generate import run_generate

    result = run_generate(_config(GenerateConfig, task=task, n=n, teacher=teacher, seed=seed, slots=slots,
                                         batch_size=batch_size, plan=plan))
    d = result.to_dict()
    how = "already generated by this same command; returning" if result.reused else "saved"
    short = result.counts.get("short_labels") or []
    note = f"; short of the per-label target after all rounds: {', '.join(short)}" if short else ""
    rows = (f"{d['rows']} rows: {d['parent_version']}'s and {d['kept']} new" if d["parent_version"]
            else f"{d['kept']} rows")
    _emit(d, as_json, f"{how} {d['task']} {d['version']} ({rows}, {d['rejected']} rejected) at {d['path']}{note}")


@app.command()
def models(as_json: bool = typer.Option(False, "--json")) -> None:
    """The bundled models (all offline)."""
    from workbench.models import REGISTRY

    rows = {m.name: m.to_dict() for m in REGISTRY.values()}
    _emit(rows, as_json, "\n".join(f"{k:24s} {v['kind']:22s} {', '.join(v['roles']):28s} {v['description']}"
                                   for k, v in rows.items()))


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


@app.command()
def train(
    task: str = typer.Option(..., "--task", "-t", help="Task name or path to task.yaml."),
    student: Optional[str] = typer.Option(None, "--student", "-s", help=f"{', '.join(student_names())} or a local "
                                          "Hugging Face model folder; default: the task's train.student."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="reviewed/v002, synthetic/v001 or v001; default: "
                                          "latest reviewed version, else latest synthetic."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Default: the task's train.epochs"
                                         + _limits(TrainConfig, "epochs") + "."),
    method: str = typer.Option("lora", "--method", help="lora, or full (encoders only)."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Stop after N optimizer steps (a quick look; "
                                            + limits(TrainConfig, "max_steps") + ")."),
    seed: int = typer.Option(0, "--seed", help="Same config and seed, same model" + _limits(TrainConfig, "seed") + "."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object as the last line."),
) -> None:
    """Fine-tune a student on a dataset version; the same command resumes after a kill."""
    from workbench.train import run_train

    result = run_train(_config(TrainConfig, task=task, student=student, dataset=dataset, epochs=epochs, method=method,
                                   max_steps=max_steps, seed=seed))
    d = result.to_dict()
    how = "already trained by this same command; returning the frozen run" if result.reused else "trained"
    scores = ", ".join(f"{k.removeprefix('eval_')} {v:.3f}" for k, v in d["metrics"].items()
                       if k in ("eval_loss", "eval_accuracy", "eval_macro_f1"))
    _emit(d, as_json, f"{how} {d['student']} on {d['task']} {d['dataset']} ({d['steps']} steps"
                      f"{', resumed from step ' + str(d['resumed_from_step']) if d['resumed_from_step'] else ''}"
                      f"{'; ' + scores if scores else ''}) at {d['run_dir']}")


@app.command()
def predict(
    run: str = typer.Option(..., "--run", "-r", help="Run id, <task>/<run-id> or a run folder."),
    text: list[str] = typer.Option(..., "--text", help="Text to label or answer; repeat for a batch."),
    batch_size: int = typer.Option(32, "--batch-size", help="Texts run together (1 to 4096)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object as the last line."),
) -> None:
    """Label (or answer) texts with a trained student."""
    from workbench.train import load_student
    from workbench.train.predict import check_inputs

    text = check_inputs(text, batch_size, names=("--text", "--batch-size"))  # before the model loads
    student = load_student(run)
    outputs = student.predict(text, batch_size=batch_size)
    _emit({"run": student.run_dir.name, "predictions": [{"text": t, "prediction": p} for t, p in zip(text, outputs)]},
          as_json, "\n".join(f"{p}\t{t}" for t, p in zip(text, outputs)))


@app.command()
def evaluate(
    task: str = typer.Option(..., "--task", "-t", help="Task name or path to task.yaml."),
    strategies: Optional[str] = typer.Option(None, "--strategies", help=f"Comma-separated: {', '.join(STRATEGIES)}; "
                                             "default all."),
    students: Optional[str] = typer.Option(None, "--students", help=f"Comma-separated: {', '.join(student_names())}, "
                                           ".gguf paths or export folders; default every bundled student."),
    run: Optional[list[str]] = typer.Option(None, "--run", "-r", help="Finished train run for the fine-tuned "
                                            "strategies (repeat for more); default the latest of each student."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="Retrieval pool: reviewed/v002, synthetic/v001; "
                                          "default the latest reviewed, else synthetic."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Score only N held-out rows (round-robin over labels; "
                                        "generation: the first N)" + _limits(EvaluateConfig, "limit") + "."),
    max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens", help="Generation tasks: reply length cap "
                                                 "(greedy); default the task's, at most 128"
                                                 + _limits(EvaluateConfig, "max_new_tokens") + "."),
    judge: bool = typer.Option(True, "--judge/--no-judge", help="Generation tasks: rate replies with the teacher "
                               "against the task's rubric, checked against reviewed data."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object as the last line."),
) -> None:
    """Score every strategy on the held-out set; write the report and the next round's plan."""
    from workbench.evaluate import run_evaluate

    split = lambda v: [x.strip() for x in v.split(",") if x.strip()] if v else None  # noqa: E731
    result = run_evaluate(_config(EvaluateConfig, task=task, strategies=split(strategies), students=split(students),
                                         runs=run or None, dataset=dataset, limit=limit,
                                         max_new_tokens=max_new_tokens, judge=judge))
    from workbench.evaluate.report import markdown_table

    verdict = f"judge: {result.judge['calibration']['verdict']}\n" if result.judge else ""
    _emit(result.to_dict(), as_json, f"{markdown_table(result.table())}\n\n{result.recommendation.reason}\n"
                                     f"{verdict}report: {result.report_html}\n"
                                     f"plan: {result.plan_path or 'none (generation tasks have no per-label plan)'}")


@app.command()
def serve(
    task: Optional[list[str]] = typer.Option(None, "--task", "-t", help="Serve the task's latest finished run; repeat."),
    model: Optional[list[str]] = typer.Option(None, "--model", help="TASK=PATH: serve a run or export folder as TASK."),
    router: Optional[str] = typer.Option(None, "--router", help="A classification task whose labels are served tasks "
                                         "(POST /v1/route)."),
    fmt: Optional[list[str]] = typer.Option(None, "--format", help="pytorch (default), onnx, onnx-int8, gguf[-quant], "
                                            "merged; or TASK=FORMAT for one task. The export must exist."),
    host: str = typer.Option("127.0.0.1", "--host", help="Bind address; loopback unless you say otherwise."),
    port: int = typer.Option(8321, "--port", help="Port" + _limits(ServeConfig, "port") + "."),
    no_auth: bool = typer.Option(False, "--no-auth", help="No API key (refused on a non-loopback host)."),
    show_key: bool = typer.Option(False, "--show-key", help="Print the API key (made if missing) and where it is."),
) -> None:
    """Serve students over HTTP: classify, OpenAI-compatible chat, a router, /metrics."""
    from workbench.serve import api_key, key_path, run_serve

    if show_key:
        typer.echo(f"{api_key()}\n(kept in {key_path()}; send it as 'Authorization: Bearer <key>')")
        return
    run_serve(_config(ServeConfig, tasks=task or [], models=model or [], router=router, format=fmt or "pytorch",
                      host=host, port=port, auth=not no_auth), echo=typer.echo)



@app.command("export")
def export_cmd(
    run: str = typer.Option(..., "--run", "-r", help="Run id, <task>/<run-id> or a run folder."),
    format: str = typer.Option(..., "--format", "-f", help="onnx, onnx-int8 (classify runs); gguf, merged (SFT runs)."),
    quant: Optional[str] = typer.Option(None, "--quant", help="gguf only: f16, q8_0 or q4_k_m (default)."),
    parity_rows: Optional[int] = typer.Option(None, "--parity-rows", help="Held-out rows the parity check uses; "
                                              "default all" + _limits(ExportConfig, "parity_rows") + "."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object as the last line."),
) -> None:
    """Export a trained student (ONNX, ONNX int8, GGUF, merged), checked against it on the held-out set."""
    from workbench.export import run_export

    options = {"run": run, "format": format, "parity_rows": parity_rows} | ({"quant": quant} if quant else {})
    result = run_export(_config(ExportConfig, **options))
    d, p = result.to_dict(), result.to_dict()["parity"]
    how = "already exported; returning" if result.reused else "exported"
    figures = ", ".join(f"{k} {v:.4g}" for k, v in p.items() if isinstance(v, float))
    _emit(d, as_json, f"{how} {d['run_id']} as {d['format']} ({d['size_bytes'] / 2**20:.1f} MB; parity on "
                      f"{p['rows']} held-out rows: {figures}) at {d['folder']}")



pipeline_app = typer.Typer(help="Run the stage notebooks in order with papermill.", no_args_is_help=True)
app.add_typer(pipeline_app, name="pipeline")


def _parameter(text: str) -> tuple[str, Any]:
    import yaml

    name, sep, value = text.partition("=")
    if not sep or not name.strip().isidentifier():
        _fail(f"parameter {text!r}: write -p name=value (e.g. -p n=60 -p policy=auto -p students=[minilm-l6])")
    return name.strip(), yaml.safe_load(value)  # 60 -> int, auto -> str, [a, b] -> list, null -> None


@pipeline_app.command("run")
def pipeline_run(
    task: str = typer.Option(..., "--task", "-t", help="Task name."),
    parameter: Optional[list[str]] = typer.Option(None, "--parameter", "-p", help="Notebook parameter name=value "
                                                  "(YAML value); repeat. E.g. -p n=60 -p policy=auto."),
    stages: Optional[str] = typer.Option(None, "--stages", help="Comma-separated; default generate,review,train,"
                                         "evaluate."),
    pipeline_id: str = typer.Option("default", "--id", help="Run folder under <home>/pipelines/<task>/; stages whose "
                                    "inputs did not change since the last run into it are skipped."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object as the last line."),
) -> None:
    """Execute notebooks 01..04 headless; skip stages already done; keep every executed notebook."""
    from workbench.notebook import PipelineConfig, run_pipeline

    params = dict(_parameter(p) for p in parameter or [])
    params.setdefault("interactive", False)
    cfg = dict(task=task, parameters=params, pipeline_id=pipeline_id)
    if stages:
        cfg["stages"] = [s.strip() for s in stages.split(",") if s.strip()]
    result = run_pipeline(_config(PipelineConfig, **cfg))
    lines = [f"{name}: {s['status']} ({s.get('seconds', 0)} s) {s['notebook']}" for name, s in result.stages.items()]
    lines.append(f"run folder: {result.folder}")
    if result.report:
        lines.append(f"report: {result.report}")
    argilla = result.records.get("review", {}).get("argilla_url")
    if argilla:
        lines.append(f"Argilla UI: {argilla}")
    _emit(result.to_dict(), as_json, "\n".join(lines))


if __name__ == "__main__":
    app(prog_name="workbench")
