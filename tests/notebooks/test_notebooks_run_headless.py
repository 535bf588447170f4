"""The notebooks run headless with papermill: the stage pipeline and the end-to-end notebook.

Real kernels, the bundled models and the session's local Argilla; tiny parameters. What the
tests assert is what the notebooks recorded with ``record(name, value)``, read back from the
executed notebooks, checked against the files the stages wrote. One test, one home: the
end-to-end notebook runs over what the pipeline made, which keeps the suite short.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from workbench.notebook import NOTEBOOKS, PipelineConfig, PipelineError, read_records, run_pipeline

REPO = Path(__file__).resolve().parents[2]
TINY = {"n": 12, "policy": "auto", "max_steps": 3, "strategies": ["prompt", "fewshot", "finetuned"],
        "students": ["minilm-l6"], "limit": 10, "interactive": False}


def test_notebooks_are_built_from_build_py_and_committed_without_outputs(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("build", REPO / "notebooks" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    build.build(tmp_path)
    for name in ["00_end_to_end.ipynb", *NOTEBOOKS.values()]:
        committed = nbformat.read(str(REPO / "notebooks" / name), as_version=4)
        assert committed == nbformat.read(str(tmp_path / name), as_version=4), f"run notebooks/build.py: {name}"
        tagged = [c for c in committed.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1 and "interactive = True" in tagged[0].source
        code = [c for c in committed.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), name


@pytest.mark.slow
def test_stage_notebooks_as_a_pipeline_then_the_end_to_end_notebook(argilla_env, tmp_path):
    params = {**TINY, "argilla_dataset": "pipeline-notebooks"}
    result = run_pipeline(PipelineConfig(task="support_intents", parameters=params, progress=False))
    rec = result.records
    assert [s["status"] for s in result.stages.values()] == ["done"] * 4
    assert rec["generate"]["version"] == "v001" and rec["generate"]["rows"] == 12
    # each stage worked on what the one before it made
    assert rec["review"]["dataset"] == "reviewed/v001" and rec["review"]["reviewed"] == 12
    assert sum(rec["review"]["decisions"].values()) == 12
    run = Path(rec["train"]["run"])
    card = (run / "README.md").read_text()
    assert "reviewed/v001" in card and json.loads((run / "metrics.json").read_text()) == rec["train"]["metrics"]
    table = rec["evaluate"]["table"]
    assert {(r["strategy"], r["model"].split(" ")[0]) for r in table} == {
        ("prompt", "minilm-l6"), ("fewshot", "minilm-l6"), ("seeds_lr", "minilm-l6"), ("finetuned", "minilm-l6")}
    finetuned = next(r for r in table if r["strategy"] == "finetuned")
    assert run.name in finetuned["model"]  # evaluate scored the run that train made
    best = rec["evaluate"]["best"]
    assert any((r["strategy"], r["macro_f1"]) == (best["strategy"], best["value"]) for r in table)
    assert result.report and "macro-F1" in (result.folder / "report" / "report.md").read_text()
    for stage in result.stages:  # every executed notebook is kept in the run folder
        assert read_records(result.folder / NOTEBOOKS[stage]) == rec[stage]

    again = run_pipeline(PipelineConfig(task="support_intents", parameters=params, progress=False))
    assert [s["status"] for s in again.stages.values()] == ["skipped"] * 4
    assert again.records == rec

    with pytest.raises(PipelineError) as failed:
        run_pipeline(PipelineConfig(task="support_intents", parameters={**params, "student": "no-such-student"},
                                    progress=False))
    err = failed.value
    assert err.stage == "train" and err.cell is not None and "no-such-student" in err.error
    assert "no-such-student" in str(err) and str(err.notebook) in str(err)
    kept = nbformat.read(str(err.notebook), as_version=4)  # the failed notebook is there to inspect
    assert any(o.get("output_type") == "error" for c in kept.cells if c.cell_type == "code" for o in c.outputs)
    state = json.loads((result.folder / "pipeline.json").read_text())["stages"]
    assert state["generate"]["status"] == "done" and state["train"]["status"] == "failed"

    # 00_end_to_end over the same home: the same settings find the same data and the same run
    # (generate, review and train are reused, as a person re-running it would see), then it
    # evaluates, plans from the errors and generates the planned round. With top_up, a plan exists
    # whatever the tiny student predicts: its errors, or (none made) the weakest labels.
    import papermill as pm

    out = tmp_path / "00_end_to_end.ipynb"
    pm.execute_notebook(str(REPO / "notebooks" / "00_end_to_end.ipynb"), str(out), cwd=str(tmp_path),
                        parameters={**params, "plan_size": 6, "regenerate": True, "top_up": True},
                        progress_bar=False)
    e2e = read_records(out)
    assert e2e["version"] == "v001" and e2e["rows"] == 12
    assert e2e["dataset"] == "reviewed/v001" and e2e["reviewed"] == 12
    assert e2e["run"] == rec["train"]["run"] and Path(e2e["report"]).is_file()
    # seeds_lr is a control every classification evaluation adds
    assert {r["strategy"] for r in e2e["table"]} == {"prompt", "fewshot", "seeds_lr", "finetuned"}
    assert e2e["plan"] and Path(e2e["plan"]).is_file()
    assert e2e["plan_status"] in ("errors", "top_up")
    assert e2e["next_version"] == "v002"  # the planned round was generated from the plan
