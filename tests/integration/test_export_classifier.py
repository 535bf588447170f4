"""User story: a trained intent classifier leaves the notebook as an ONNX file (fp32 or int8) that
answers like the PyTorch student, and is scored in the evaluation ladder as it will be shipped.

One tiny MiniLM run (seeds as the dataset, 4 steps, module-scoped, ~10 s) and one export per
format, read by every test here.
"""

import json
import shutil

import pytest
from typer.testing import CliRunner

from workbench.export import ExportConfig, load_export, run_export
from workbench.store import save_version
from workbench.tasks import load_task
from workbench.train import TrainConfig, load_student, run_train

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exported(module_home):
    """(train result, {format: export result}) in a home of the module's own."""
    with module_home("export_home"):
        save_version("support_intents", load_task("support_intents").seed_examples, {"teacher": "seeds-as-synthetic"})
        run = run_train(TrainConfig(task="support_intents", student="minilm-l6", max_steps=4, batch_size=8,
                                    max_length=64, validation_fraction=0.0, progress=False))
        yield run, {f: run_export(ExportConfig(run=run.run_id, format=f)) for f in ("onnx", "onnx-int8")}


@pytest.fixture(autouse=True)
def module_home_again(exported, workbench_env, monkeypatch):
    """Each test in the module's home (the per-test one would hold neither the run nor its exports)."""
    from workbench.settings import get_settings

    run, _ = exported
    monkeypatch.setenv("WORKBENCH_HOME", str(run.run_dir.parents[3]))  # <home>/runs/<task>/train/<run-id>
    monkeypatch.setenv("WORKBENCH_DATASETS_DIR", str(run.info.dataset.path).rsplit("/support_intents/", 1)[0])
    get_settings.cache_clear()


def test_onnx_answers_like_the_student_on_the_whole_heldout_set(exported):
    run, results = exported
    result = results["onnx"]
    card, heldout = result.card, load_task("support_intents").heldout_examples()
    assert sorted(card.files) == ["labels.json", "model.onnx", "tokenizer.json", "tokenizer_config.json"]
    assert (result.folder / "export.json").is_file() and result.folder.name == f"onnx-{card.key[:12]}"
    assert (card.task, card.run_id, card.student, card.objective, card.format) == (
        "support_intents", run.run_id, "minilm-l6", "classify", "onnx")
    assert card.dataset.data_sha256 == run.info.dataset.data_sha256 and "onnxruntime" in card.tools
    assert card.size_bytes == sum(f.bytes for f in card.files.values())
    assert card.parity.rows == len(heldout) and card.parity.label_agreement == 1.0
    assert card.parity.max_prob_diff < 1e-4 and card.parity.latency_p50_ms > 0
    assert json.loads((result.folder / "labels.json").read_text())["labels"] == run.info.labels

    model = load_export(result.folder, threads=1)
    texts = [r["text"] for r in heldout[::12]]
    assert model.predict(texts, batch_size=4) == load_student(run.run_dir).predict(texts)
    assert model.objective == "classify" and model.disk_bytes == card.size_bytes and model.parameters > 20_000_000
    with pytest.raises(ValueError, match="texts 2 of 2 is empty"):
        model.predict(["where is my parcel", " "])
    model.close()


def test_int8_is_a_quarter_of_the_size_and_agrees_on_nearly_every_label(exported):
    _, results = exported
    fp32, int8 = results["onnx"].card, results["onnx-int8"].card
    assert int8.parity.label_agreement >= 0.97 and int8.parity.max_prob_diff > fp32.parity.max_prob_diff
    assert int8.files["model.onnx"].bytes < 0.35 * fp32.files["model.onnx"].bytes
    assert int8.files["tokenizer.json"] == fp32.files["tokenizer.json"] and int8.key != fp32.key


def test_the_same_run_and_format_give_the_same_files(exported):
    run, results = exported
    for fmt in ("onnx", "onnx-int8"):
        again = run_export(ExportConfig(run=run.run_id, format=fmt))
        assert again.reused and again.folder == results[fmt].folder
    first = results["onnx"]
    moved = first.folder.with_name("moved-away")
    first.folder.rename(moved)
    try:  # built anew from the run: the graph, the tokenizer, labels.json
        rebuilt = run_export(ExportConfig(run=run.run_id, format="onnx", parity_rows=8))
        assert not rebuilt.reused and rebuilt.folder == first.folder and rebuilt.card.parity.rows == 8
        assert rebuilt.card.files == first.card.files  # byte-identical: same sizes and sha256
    finally:
        shutil.rmtree(first.folder, ignore_errors=True)
        moved.rename(first.folder)


def test_the_cli_prints_the_export_as_json(exported):
    from workbench.cli import app

    run, results = exported
    out = CliRunner().invoke(app, ["export", "--run", run.run_id, "--format", "onnx", "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.stdout.strip().splitlines()[-1])
    assert d["reused"] and d["folder"] == str(results["onnx"].folder) and d["parity"]["label_agreement"] == 1.0
    bad = CliRunner().invoke(app, ["export", "--run", run.run_id, "--format", "onnx", "--quant", "q8_0"])
    assert bad.exit_code == 2 and "--quant 'q8_0': quant is for format 'gguf' only" in bad.output


def test_the_train_panel_exports_its_last_run(exported):
    from workbench.panels import TrainPanel

    run, results = exported
    panel = TrainPanel(TrainConfig(task="support_intents", progress=False))
    panel.result = run
    panel.export_format.value = "onnx"
    panel.export_button.click()
    assert panel.last_error is None and panel.exported.folder == results["onnx"].folder
    assert "label_agreement" in panel.export_card.value and "already exported" in panel.log_text()


def test_an_export_is_a_cell_of_the_ladder(exported):
    from workbench.evaluate import EvaluateConfig, run_evaluate

    run, results = exported
    folder = results["onnx-int8"].folder
    result = run_evaluate(EvaluateConfig(task="support_intents", strategies=["finetuned"], students=[str(folder)],
                                         runs=[str(run.run_dir)], limit=20, progress=False, eval_id="export",
                                         controls=False))
    rows = {r.model: r for r in result.rows}
    cell = rows[f"minilm-l6 onnx-int8 ({run.run_id})"]
    torch_cell = rows[f"minilm-l6 ({run.run_id})"]
    assert cell.strategy == "finetuned" and cell.disk_mb == round(results["onnx-int8"].card.size_bytes / 2**20, 1)
    assert cell.disk_mb < torch_cell.disk_mb and cell.parameters
    agree = sum(a == b for a, b in zip(cell.predictions, torch_cell.predictions)) / len(cell.predictions)
    assert agree >= 0.9 and not result.skipped


def test_the_service_serves_the_int8_export_with_its_labels(exported):
    from fastapi.testclient import TestClient

    from workbench.serve import ServeConfig, build_app

    _, results = exported
    texts = [r["text"] for r in load_task("support_intents").heldout_examples()][:40]
    expected = load_export(results["onnx-int8"].folder).predict(texts)
    with TestClient(build_app(ServeConfig(tasks=["support_intents"], format="onnx-int8", auth=False))) as client:
        models = client.get("/v1/models").json()
        body = client.post("/v1/tasks/support_intents/classify", json={"texts": texts}).json()
    assert str(results["onnx-int8"].folder) in json.dumps(models)  # the export, not the PyTorch run
    assert [r["label"] for r in body["results"]] == expected
