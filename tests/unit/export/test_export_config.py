"""The Export stage's mistakes, told before any model loads: config errors, a folder that is no
export, a run of another objective, a panel with nothing to export."""

import json

import pytest

from workbench.errors import ConfigError
from workbench.export import FORMATS, ExportConfig, ExportError, NotAnExportError, is_export, load_export, run_export
from workbench.export.formats import export_format, formats_for
from workbench.store import run_folder


def test_quant_is_for_gguf_only_and_bounds_are_plain_words():
    assert ExportConfig(run="r", format="onnx").quant == "q4_k_m"  # the default says nothing
    with pytest.raises(ConfigError, match="quant is for format 'gguf' only .*'onnx-int8'.*leave it out"):
        ExportConfig(run="r", format="onnx-int8", quant="q8_0")
    with pytest.raises(ConfigError, match="parity_rows must be between 1 and 100000 .you gave 0."):
        ExportConfig(run="r", format="onnx", parity_rows=0)
    with pytest.raises(ConfigError, match="format 'tflite'"):
        ExportConfig(run="r", format="tflite")


def test_the_registry_names_objectives_and_refuses_what_is_not_registered():
    assert formats_for("classify")[:2] == ["onnx", "onnx-int8"]
    assert all(f.name == name and f.objectives for name, f in FORMATS.items())
    with pytest.raises(ExportError, match="not available in this workbench; choose one of"):
        export_format("no-such-format")


def test_a_folder_without_export_json_is_not_an_export(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"not really")
    assert not is_export(tmp_path) and not is_export(tmp_path / "missing")
    with pytest.raises(NotAnExportError, match="has no export.json, so it is not an export; make one with "
                                               "`workbench export"):
        load_export(tmp_path)
    with pytest.raises(NotAnExportError, match="does not exist"):
        load_export(tmp_path / "missing")


def test_a_damaged_export_is_refused_by_name(tmp_path):
    (tmp_path / "export.json").write_text(json.dumps({
        "task": "t", "run_id": "r", "student": "minilm-l6", "objective": "classify",
        "dataset": {"kind": "synthetic", "version": "v001", "path": "/d"}, "format": "onnx", "quant": None,
        "files": {"model.onnx": {"bytes": 10, "sha256": "0" * 64}}, "size_bytes": 10,
        "parity": {"rows": 1}, "key": "k", "workbench_version": "0"}))
    assert is_export(tmp_path)
    with pytest.raises(NotAnExportError, match=r"damaged: \['model.onnx'\] missing or changed"):
        load_export(tmp_path)


def test_a_run_of_another_objective_is_refused_with_the_formats_that_fit(make_run_info):
    run_dir = run_folder("support_replies", "train", "smollm2-135m-synthetic-v001-00000000", create=True)
    (run_dir / "model").mkdir()
    (run_dir / "run.json").write_text(json.dumps(make_run_info(
        task="support_replies", type="generation", objective="sft", labels=None, pooling=None,
        run_id=run_dir.name, run_dir=str(run_dir), student="smollm2-135m")))
    with pytest.raises(ExportError, match=r"format 'onnx' exports classify runs; run smollm2-135m-synthetic-v001-"
                                          r"00000000 is a sft run: use "):
        run_export(ExportConfig(run=run_dir.name, format="onnx"))
    assert not (run_dir.parents[3] / "exports").exists()


def test_the_train_panel_says_there_is_nothing_to_export_yet():
    from workbench.panels import TrainPanel
    from workbench.train import TrainConfig

    panel = TrainPanel(TrainConfig(task="support_intents", progress=False))
    assert "onnx-int8" in panel.export_format.options and panel.export_format.value == "onnx-int8"
    panel.export_button.click()
    assert panel.exported is None and "no run to export yet: press Train first" in panel.log_text()
    assert not panel.export_button.disabled
