"""Notebooks as pipelines: ``record()`` for key figures, ``press()`` for headless runs, and
``run_pipeline()``, which executes the stage notebooks in order with papermill.

A stage notebook has one cell tagged ``parameters``, short cells over the package, and
``record(name, value)`` calls for the figures that matter. A record is a JSON output of its
own MIME type inside the executed notebook, so the notebook *is* the result: tests and the
pipeline read records back with :func:`read_records`, nothing else needs a side channel.

``run_pipeline`` runs ``notebooks/01_generate`` .. ``04_evaluate`` into
``<home>/pipelines/<task>/<pipeline-id>/``. What one stage records and the next notebook
declares as a parameter is passed on (``version`` to review, ``dataset`` to train, ``run``
to evaluate), so every stage works on exactly what the stage before it made. Run again, it
skips each stage whose inputs (parameters and what it was passed) are unchanged, up to the
first one that changed; on a failure it stops with the stage, the cell and the error, and
keeps the executed notebook to inspect.

While a stage runs, the terminal shows its own progress bars (rows generated, training
steps, cells scored), not only papermill's cell counter: in a pipeline kernel ``press()``
draws tqdm bars as text into ``<folder>/progress-<stage>.log``, and the pipeline prints
that file's lines as they come (each finished bar, and a redraw every ``PROGRESS_EVERY``
seconds). The executed notebooks stay as a person running them would see them.

Example:
    >>> from workbench.notebook import PipelineConfig, run_pipeline
    >>> result = run_pipeline(PipelineConfig(task="support_intents",
    ...                                      parameters={"n": 60, "policy": "auto"}))  # doctest: +SKIP
    >>> result.records["evaluate"]["best"]                                              # doctest: +SKIP
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from workbench.errors import ConfigError, WorkbenchError
from workbench.stage_progress import PROGRESS_ENV, forward_progress, text_progress

RECORD_MIME = "application/vnd.workbench.record+json"
STAGES = ("generate", "label", "review", "train", "evaluate")
# label is asked for by name: it needs a task with an `unlabeled:` message log.
DEFAULT_STAGES = ("generate", "review", "train", "evaluate")
NOTEBOOKS = {"generate": "01_generate.ipynb", "label": "05_label.ipynb", "review": "02_review.ipynb",
             "train": "03_train.ipynb", "evaluate": "04_evaluate.ipynb"}
# Where the repository keeps its notebooks (the package is installed editable from it).
DEFAULT_NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def record(name: str, value: Any) -> Any:
    """Show ``name = value`` in the cell and keep it, machine-readable, in the notebook.

    Example:
        >>> record("macro_f1", 0.83)   # doctest: +SKIP
        macro_f1 = 0.83
    """
    from IPython.display import display

    json.dumps(value)  # fail here, in the cell that recorded it, if the value is not JSON
    display({RECORD_MIME: {"name": name, "value": value}, "text/plain": f"{name} = {value!r}"}, raw=True)
    return value


def read_records(notebook: str | Path) -> dict[str, Any]:
    """Every ``record(name, value)`` of an executed notebook, the last value of each name winning."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    found: dict[str, Any] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if RECORD_MIME in data:
                found[data[RECORD_MIME]["name"]] = data[RECORD_MIME]["value"]
    return found


def press(panel, action: str = "run"):
    """What a click on ``panel``'s button does, for headless runs: the error it caught is raised.

    A panel keeps errors in its log so a person can read them; a pipeline must stop instead.
    """
    with text_progress() as progress:
        out = getattr(panel, action)()
        if progress is not None and hasattr(panel, "status_line"):  # its last word: done, nothing to plan...
            status = html.unescape(re.sub(r"<[^>]+>", "", panel.status_line.value))
            progress.write(f"{type(panel).__name__}.{action}: {status}\n")
    if panel.last_error is not None:
        raise panel.last_error
    return out


class PipelineError(WorkbenchError, RuntimeError):
    """A stage notebook failed: which stage, which cell, what error, and where the notebook is."""

    def __init__(self, stage: str, cell: int | None, error: str, notebook: Path, source: str = ""):
        self.stage, self.cell, self.error, self.notebook = stage, cell, error, notebook
        first = next((line for line in source.splitlines() if line.strip() and not line.startswith("#")), "")
        where = f"cell [{cell}] `{first.strip()[:80]}`" if cell is not None else "outside a cell"
        super().__init__(f"stage {stage!r} failed in {where}: {error}\nthe executed notebook is kept at {notebook}")


class MissingNotebookError(WorkbenchError, FileNotFoundError):
    """A stage notebook is not in the notebooks folder (``notebooks/build.py`` writes them)."""


class PipelineConfig(BaseModel):
    """Which stages to run, with which notebook parameters, into which folder."""

    task: str = Field(description="Task name; passed to every notebook as the `task` parameter.")
    parameters: dict[str, Any] = Field(default_factory=dict, description="Notebook parameters (n, teacher, student, "
                                       "policy, ...); each notebook gets those its parameters cell declares.")
    stages: list[str] = Field(default_factory=lambda: list(DEFAULT_STAGES),
                              description=f"In order; any of {list(STAGES)}.")
    pipeline_id: str = Field("default", description="Run folder name under <home>/pipelines/<task>/. Run again into "
                                                    "the same folder, stages whose inputs did not change are skipped.")
    notebooks: Path = Field(DEFAULT_NOTEBOOKS, description="Folder holding the stage notebooks.")
    cell_timeout: int | None = Field(None, ge=1, description="Seconds one cell may run; default no limit.")
    progress: bool = Field(True, description="papermill's progress bar over the cells of each stage.")
    stage_progress: bool = Field(True, description="Print each stage's own progress bars (rows, steps, cells) "
                                                   "as lines in the terminal while it runs.")


@dataclass
class PipelineResult:
    """The run folder, what each stage did (ran or skipped), and what each recorded."""

    task: str
    folder: Path
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def records(self) -> dict[str, dict[str, Any]]:
        return {name: s.get("records", {}) for name, s in self.stages.items()}

    @property
    def report(self) -> Path | None:
        path = self.folder / "report" / "report.html"
        return path if path.is_file() else None

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "folder": str(self.folder), "report": str(self.report) if self.report else None,
                "stages": self.stages}

    def _repr_html_(self) -> str:
        import html

        rows = "".join(f"<tr><td>{n}</td><td>{s['status']}</td><td>{s.get('seconds', '')}</td>"
                       f"<td>{html.escape(json.dumps(s.get('records', {}))[:300])}</td></tr>"
                       for n, s in self.stages.items())
        return (f"<b>pipeline</b> {html.escape(str(self.folder))}<table><tr><th>stage</th><th>status</th>"
                f"<th>seconds</th><th>records</th></tr>{rows}</table>")


def run_pipeline(cfg: PipelineConfig) -> PipelineResult:
    """Execute the stage notebooks in order; skip stages done with the same inputs."""
    unknown = [s for s in cfg.stages if s not in STAGES]
    if unknown:
        raise ConfigError(f"unknown stage(s) {unknown}: choose from {list(STAGES)}")
    missing = [NOTEBOOKS[s] for s in cfg.stages if not (cfg.notebooks / NOTEBOOKS[s]).is_file()]
    if missing:
        raise MissingNotebookError(f"stage notebooks {missing} are missing from {cfg.notebooks}")
    from workbench.settings import get_settings
    from workbench.tasks import load_task

    task = load_task(cfg.task).name  # a bad task name fails here, before any kernel starts
    params = {"task": cfg.task, **cfg.parameters}
    folder = get_settings().path("pipelines", task, cfg.pipeline_id)
    folder.mkdir(parents=True, exist_ok=True)
    state_file = folder / "pipeline.json"
    state = json.loads(state_file.read_text()) if state_file.is_file() else {"task": task, "stages": {}}
    with _environment(_kernel_env()):  # the kernels inherit it
        result = _run_stages(cfg, params, folder, state_file, state)
    report = result.records.get("evaluate", {}).get("report")
    if report and Path(report).is_file():  # the report travels with the run folder
        shutil.copytree(Path(report).parent, folder / "report", dirs_exist_ok=True)
    return result


def _run_stages(cfg: PipelineConfig, params: dict, folder: Path, state_file: Path, state: dict) -> PipelineResult:
    import papermill as pm

    result = PipelineResult(state["task"], folder)
    carried: dict[str, Any] = {}
    rerun = False  # once a stage runs, every stage after it runs too: its inputs changed
    for stage in cfg.stages:
        source = cfg.notebooks / NOTEBOOKS[stage]
        declared = pm.inspect_notebook(str(source))
        inputs = {k: v for k, v in {**params, **carried}.items() if k in declared}
        target = folder / NOTEBOOKS[stage]
        done = state["stages"].get(stage, {})
        if not rerun and done.get("status") == "done" and done.get("inputs") == inputs and target.is_file():
            result.stages[stage] = {**done, "status": "skipped"}
        else:
            rerun = True
            print(f"[pipeline] {stage}: {target}", flush=True)
            started = time.perf_counter()
            state["stages"][stage] = {"status": "running", "inputs": inputs, "notebook": str(target)}
            _save(state_file, state)
            try:
                execute_stage(source, target, inputs, folder, stage, progress_bar=cfg.progress,
                              cell_timeout=cfg.cell_timeout, stage_progress=cfg.stage_progress)
            except pm.PapermillExecutionError as exc:
                state["stages"][stage].update(status="failed", error=f"{exc.ename}: {exc.evalue}", cell=exc.exec_count)
                _save(state_file, state)
                raise PipelineError(stage, exc.exec_count, f"{exc.ename}: {exc.evalue}", target, exc.source) from None
            except Exception as exc:  # the kernel died, or a timeout: still say which stage
                state["stages"][stage].update(status="failed", error=f"{type(exc).__name__}: {exc}")
                _save(state_file, state)
                raise PipelineError(stage, None, f"{type(exc).__name__}: {exc}", target) from exc
            done = {"status": "done", "inputs": inputs, "notebook": str(target),
                    "seconds": round(time.perf_counter() - started, 1), "records": read_records(target)}
            state["stages"][stage] = done
            _save(state_file, state)
            result.stages[stage] = done
        carried.update(result.stages[stage]["records"])
    return result


def execute_stage(source: Path, target: Path, parameters: dict[str, Any], folder: Path, stage: str, *,
                  progress_bar: bool = True, cell_timeout: int | None = None, stage_progress: bool = True) -> None:
    """Run one stage notebook with papermill in ``folder``, its progress bars forwarded to the terminal."""
    import papermill as pm
    from traitlets.config import Config

    # IPC, not TCP: the kernel is this machine's own child, so it needs no network port at all; over
    # loopback TCP, ipykernel (>= 7, IPKernelApp.init_sockets) warns on every start that its traffic
    # is not encrypted, which alarms users and leaves them nothing to do.
    config = Config({"KernelManager": {"transport": "ipc"}})
    log = folder / f"progress-{stage}.log"
    forward = forward_progress(log, stage) if stage_progress else nullcontext()
    with forward, _environment({PROGRESS_ENV: str(log)} if stage_progress else {}):
        pm.execute_notebook(str(source), str(target), parameters=parameters, cwd=str(folder),
                            progress_bar=progress_bar, execution_timeout=cell_timeout, report_mode=False,
                            config=config)


@contextmanager
def _environment(values: dict[str, str]):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _kernel_env() -> dict[str, str]:
    """This process's settings as WORKBENCH_* variables, paths made absolute: a kernel runs in the
    pipeline folder, where relative paths (and a .env file) would not be found."""
    from pydantic import SecretStr

    from workbench.settings import get_settings

    settings = get_settings()
    env = {"HF_HUB_OFFLINE": "1"}  # no download, ever
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, Path):
            value = value.resolve()
        elif isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"WORKBENCH_{name.upper()}"] = str(value)
    return env


def _save(path: Path, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, default=str))
    tmp.replace(path)
