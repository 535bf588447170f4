"""The model card: a run's README.md, saying exactly which data, teacher and settings made it.

The card is written from the run's :class:`~workbench.train.info.RunInfo` (``run.json``:
the same facts, machine-readable), so the two never disagree. Its YAML front matter follows
the Hugging Face model card header.

Example:
    >>> print(render_card(RunInfo.read(run_dir))[:30])     # doctest: +SKIP
    ---
    library_name: transformers
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workbench.train.info import RunInfo
from workbench.train.mix import ALL_ROWS, WARNING


def _table(rows: dict[str, Any]) -> str:
    lines = ["| | |", "|---|---|"]
    lines += [f"| {k} | {json.dumps(v) if isinstance(v, (dict, list)) else v} |" for k, v in rows.items()]
    return "\n".join(lines)


def render_card(run: RunInfo) -> str:
    """Markdown for a finished run."""
    ds, rows = run.dataset, run.rows
    lineage = {
        "dataset": (f"seeds only: the seed examples of {run.task} (seeds hash {ds.version})" if run.seeds_only
                    else f"{run.task}/{ds.kind}/{ds.version}"),
        "dataset path": ds.path,
        "dataset data_sha256": ds.data_sha256,
        "dataset parent version": ds.parent_version,
        "reviewed from (synthetic versions)": ds.source_versions,
        "teacher": ds.teacher,
        "dataset task-spec hash": ds.spec_hash,
        "task-spec hash (now)": run.spec_hash,
        "rows used (train / validation)": f"{rows.train} / {rows.validation}",
        "rows dropped": rows.dropped,
        "task seed examples added": rows.seeds_added,
    }
    if rows.validation_source is not None:  # runs from before issue 14 do not say
        lineage["validation_source"] = f"{rows.validation_source} ({rows.validation} rows)"
        hp = run.hyperparameters
        ratio = hp.max_synthetic_per_real
        cap = f"at most {ratio:g} per real row of a label" if ratio else "no cap"
        weighted = bool(rows.synthetic_in_training or rows.pseudo_labelled)
        weights = (f"each seed counted {hp.seed_weight}x" + (f", each reviewed real message {hp.real_weight}x"
                   if hp.real_weight else "")) if weighted else "not weighted: no synthetic rows to count against"
        lineage["training mix (before weighting)"] = (
            f"{rows.real_in_training} real rows ({weights}), {rows.synthetic_in_training} synthetic ({cap}; "
            f"{rows.dropped.get('over_cap', 0)} over the cap left out)")
    if ds.pool_versions:  # real messages of the task's own log, labelled by a student and reviewed
        lineage["real messages from (pool versions)"] = ds.pool_versions
        lineage[f"reviewed real messages (each counted {run.hyperparameters.real_weight}x)"] = rows.real
    if run.hyperparameters.pseudo_labels:
        lineage["pseudo-labels (decided_by: model)"] = f"{run.hyperparameters.pseudo_labels}: {rows.pseudo_labelled}"
    metrics = run.metrics
    front = "\n".join(["---", "library_name: transformers", f"base_model: {run.student_path}",
                       f"pipeline_tag: {'text-classification' if run.objective == 'classify' else 'text-generation'}",
                       "tags: [slm-workbench, " + {"lora": "lora", "setfit": "setfit"}.get(run.method, "full-fine-tune") + "]",
                       "---"])
    usage = (f"from workbench.train import load_student\n"
             f"student = load_student({run.run_dir!r})\n"
             f"student.predict([\"...\"])")
    if run.pooling == "mean":
        usage += ("\n\n# without the workbench: the head pools by the mean of the token states, in\n"
                  "# model/mean_pooling.py, so transformers needs trust_remote_code=True\n"
                  "from transformers import AutoModelForSequenceClassification, AutoTokenizer\n"
                  "model = AutoModelForSequenceClassification.from_pretrained('model', trust_remote_code=True)\n"
                  "tokenizer = AutoTokenizer.from_pretrained('model', trust_remote_code=True)")
    parts = [
        front,
        f"# {run.task}: {run.student} ({run.objective}, {run.method})",
        f"Run `{run.run_id}`, made by SLM Workbench {run.workbench_version} on "
        f"{run.finished}. A finished run is frozen: the same command returns it unchanged.",
        "## Lineage", _table(lineage),
        *([f"**Warning:** {WARNING}."] if rows.validation_source == ALL_ROWS else []),
        "## Hyperparameters", _table(run.hyperparameters.to_json_dict()),
        "## Results (validation split)", _table(metrics) if metrics else "No validation split.",
        "## Run", _table({"wall time (s)": run.wall_seconds, "hardware": run.hardware,
                          "steps": run.steps, "resumed from step": run.resumed_from_step,
                          "trainable parameters": run.trainable_parameters,
                          "total parameters": run.total_parameters}),
    ]
    if run.labels:
        parts += ["## Labels", ", ".join(f"`{lab}`" for lab in run.labels)]
    parts += ["## Files", "`model/` merged model (safetensors) and tokenizer; `adapter/` the LoRA adapter "
              "(LoRA runs); `metrics.json`; `log.jsonl` and `tensorboard/` the training log; `loss.png` the "
              "loss curve; `run.json` all of the above, machine-readable.",
              "## Use", f"```python\n{usage}\n```"]
    return "\n\n".join(parts) + "\n"


def write_card(run_dir: Path, run: RunInfo) -> Path:
    path = run_dir / "README.md"
    path.write_text(render_card(run), encoding="utf-8")
    return path
