"""run_export's folder discipline with a format whose build is planted here: a failed parity
check leaves nothing behind, a finished export is returned as it is, a kill's leftovers go."""

import json
import sys

import pytest

from workbench.export import ExportConfig, ExportFormat, Parity, ParityError, is_export, run_export
from workbench.export import formats
from workbench.store import run_folder

BUILDS = []


def build(job):
    """A format's build: writes a file, then passes or fails parity as the job's held-out rows say."""
    BUILDS.append(job)
    (job.out_dir / "weights.bin").write_bytes(b"\x00" * 64)
    if job.cfg.parity_rows == 1:
        raise ParityError("labels agree on 0.5 of 1 held-out rows; nothing was exported")
    return Parity(rows=len(job.heldout), label_agreement=1.0)


def load(folder, card):
    return card


@pytest.fixture
def planted(monkeypatch, make_run_info):
    run_dir = run_folder("support_intents", "train", "minilm-l6-synthetic-v001-00000000", create=True)
    (run_dir / "model").mkdir()
    (run_dir / "model" / "model.safetensors").write_bytes(b"weights")
    (run_dir / "run.json").write_text(json.dumps(make_run_info(run_id=run_dir.name, run_dir=str(run_dir))))
    monkeypatch.setitem(formats.FORMATS, "onnx", ExportFormat("onnx", ("classify",), "planted", __name__))
    BUILDS.clear()
    return run_dir


def test_a_failed_parity_check_leaves_no_folder(planted):
    with pytest.raises(ParityError, match="nothing was exported"):
        run_export(ExportConfig(run=planted.name, format="onnx", parity_rows=1))
    task_exports = planted.parents[3] / "exports" / "support_intents" / planted.name
    assert list(task_exports.iterdir()) == []  # neither the folder nor its temporary one


def test_a_finished_export_is_returned_as_it_is_and_leftovers_go(planted):
    first = run_export(ExportConfig(run=planted.name, format="onnx", parity_rows=5))
    assert not first.reused and is_export(first.folder) and first.folder.name.startswith("onnx-")
    assert first.card.files["weights.bin"].bytes == 64 and first.card.size_bytes == 64
    assert first.card.parity.rows == 5 and first.card.dataset.version == "v003" and first.card.quant is None
    assert len(BUILDS) == 1 and BUILDS[0].heldout[0]["label"]  # the task's held-out rows, {"text", "label"}
    again = run_export(ExportConfig(run=planted.name, format="onnx"))
    assert again.reused and again.folder == first.folder and len(BUILDS) == 1
    assert json.loads(json.dumps(again.to_dict()))["parity"]["label_agreement"] == 1.0
    (first.folder / "export.json").unlink()  # a folder without its card is no export: built again
    stale = first.folder.parent / f".{first.folder.name}.partial-999999"  # a killed build's
    stale.mkdir()
    rebuilt = run_export(ExportConfig(run=planted.name, format="onnx"))
    assert not rebuilt.reused and rebuilt.folder == first.folder and len(BUILDS) == 2 and not stale.exists()
    (planted / "model" / "model.safetensors").write_bytes(b"other weights")  # another model: another address
    other = run_export(ExportConfig(run=planted.name, format="onnx"))
    assert not other.reused and other.folder != first.folder
