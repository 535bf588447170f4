"""The model card: a run's README.md, saying exactly which data, teacher and settings made it.

The card is written from the run's ``run.json`` (the same facts, machine-readable), so the
two never disagree. Its YAML front matter follows the Hugging Face model card header.

Example:
    >>> print(render_card({"task": "t", "run_id": "r", "student": "minilm-l6",
    ...                    "dataset": {"kind": "synthetic", "version": "v001"}})[:30])
    ---
    library_name: transformers
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _table(rows: dict[str, Any]) -> str:
    lines = ["| | |", "|---|---|"]
    lines += [f"| {k} | {json.dumps(v) if isinstance(v, (dict, list)) else v} |" for k, v in rows.items()]
    return "\n".join(lines)


def render_card(run: dict[str, Any]) -> str:
    """Markdown for a finished run (``run.json`` contents)."""
    ds = run.get("dataset", {})
    lineage = {
        "dataset": f"{run.get('task')}/{ds.get('kind')}/{ds.get('version')}",
        "dataset path": ds.get("path"),
        "dataset data_sha256": ds.get("data_sha256"),
        "dataset parent version": ds.get("parent_version"),
        "reviewed from (synthetic versions)": ds.get("source_versions"),
        "teacher": ds.get("teacher"),
        "dataset task-spec hash": ds.get("spec_hash"),
        "task-spec hash (now)": run.get("spec_hash"),
        "rows used (train / validation)": f"{run.get('rows', {}).get('train')} / {run.get('rows', {}).get('validation')}",
        "rows dropped": run.get("rows", {}).get("dropped"),
        "task seed examples added": run.get("rows", {}).get("seeds_added"),
    }
    metrics = run.get("metrics", {})
    front = "\n".join(["---", "library_name: transformers", f"base_model: {run.get('student_path', '')}",
                       f"pipeline_tag: {'text-classification' if run.get('objective') == 'classify' else 'text-generation'}",
                       "tags: [slm-workbench, " + ("lora" if run.get("method") == "lora" else "full-fine-tune") + "]",
                       "---"])
    labels = run.get("labels")
    usage = (f"from workbench.train import load_student\n"
             f"student = load_student({run.get('run_dir', run.get('run_id'))!r})\n"
             f"student.predict([\"...\"])")
    if run.get("pooling") == "mean":
        usage += ("\n\n# without the workbench: the head pools by the mean of the token states, in\n"
                  "# model/mean_pooling.py, so transformers needs trust_remote_code=True\n"
                  "from transformers import AutoModelForSequenceClassification, AutoTokenizer\n"
                  "model = AutoModelForSequenceClassification.from_pretrained('model', trust_remote_code=True)\n"
                  "tokenizer = AutoTokenizer.from_pretrained('model', trust_remote_code=True)")
    parts = [
        front,
        f"# {run.get('task')}: {run.get('student')} ({run.get('objective')}, {run.get('method')})",
        f"Run `{run.get('run_id')}`, made by SLM Workbench {run.get('workbench_version', '')} on "
        f"{run.get('finished', '')}. A finished run is frozen: the same command returns it unchanged.",
        "## Lineage", _table(lineage),
        "## Hyperparameters", _table(run.get("hyperparameters", {})),
        "## Results (validation split)", _table(metrics) if metrics else "No validation split.",
        "## Run", _table({"wall time (s)": run.get("wall_seconds"), "hardware": run.get("hardware"),
                          "steps": run.get("steps"), "resumed from step": run.get("resumed_from_step"),
                          "trainable parameters": run.get("trainable_parameters"),
                          "total parameters": run.get("total_parameters")}),
    ]
    if labels:
        parts += ["## Labels", ", ".join(f"`{lab}`" for lab in labels)]
    parts += ["## Files", "`model/` merged model (safetensors) and tokenizer; `adapter/` the LoRA adapter "
              "(LoRA runs); `metrics.json`; `log.jsonl` and `tensorboard/` the training log; `loss.png` the "
              "loss curve; `run.json` all of the above, machine-readable.",
              "## Use", f"```python\n{usage}\n```"]
    return "\n\n".join(parts) + "\n"


def write_card(run_dir: Path, run: dict[str, Any]) -> Path:
    path = run_dir / "README.md"
    path.write_text(render_card(run), encoding="utf-8")
    return path
