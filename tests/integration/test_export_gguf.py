"""User story: a reply drafter trained here runs elsewhere: exported as GGUF (llama.cpp's own
converter and quantizer) with an Ollama Modelfile, or as a plain merged transformers folder,
each checked against the transformers student before it is declared done.

One tiny SmolLM2 SFT run is trained once for the module; every export uses it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import types
from pathlib import Path

import pytest

from workbench.errors import WorkbenchError

pytestmark = pytest.mark.slow
TASK = "support_replies"


def _parity_stand_in() -> None:
    """Until the export stage's card module (another branch) is here: its Parity record, as the
    interface gives it, so these tests run on this branch alone. A no-op once the real one exists."""
    if importlib.util.find_spec("workbench.export.card") is not None:
        return
    from workbench.records import JsonRecord

    class Parity(JsonRecord):
        rows: int
        label_agreement: float | None = None
        max_prob_diff: float | None = None
        exact_match: float | None = None
        rouge_l: float | None = None
        latency_p50_ms: float | None = None
        notes: list[str] = []

    card = types.ModuleType("workbench.export.card")
    card.Parity = Parity
    sys.modules["workbench.export.card"] = card


@dataclasses.dataclass
class Cfg:  # the ExportConfig fields the SFT formats read
    format: str
    quant: str = "q4_k_m"
    parity_rows: int | None = 2
    parity_max_new_tokens: int = 16
    threads: int = 2


def export_job(run_dir: Path, fmt: str, out_dir: Path, **cfg):
    """An ExportJob for ``run_dir`` (the stage's own when it exists, else the same fields)."""
    from workbench.tasks import load_task
    from workbench.train.info import RunInfo

    spec = load_task(TASK)
    fields = dict(run_dir=run_dir, info=RunInfo.read(run_dir), cfg=Cfg(fmt, **cfg), out_dir=out_dir,
                  heldout=spec.heldout_examples(), spec=spec)
    try:
        from workbench.export.run import ExportJob
    except ImportError:
        return types.SimpleNamespace(**fields)
    return ExportJob(**fields)


@pytest.fixture(scope="module")
def sft_run(module_home):
    """A SmolLM2 LoRA SFT run of a few steps on the task's seed pairs."""
    from workbench.export.converter import find_converter
    from workbench.store import save_version
    from workbench.tasks import load_task
    from workbench.train import TrainConfig, run_train

    find_converter()  # `make setup` installs it; without it this module has nothing to test
    _parity_stand_in()
    with module_home("export_gguf") as root:
        save_version(TASK, load_task(TASK).seed_examples * 2, {"teacher": "seeds"})
        result = run_train(TrainConfig(task=TASK, student="smollm2-135m", max_steps=2, batch_size=2,
                                       learning_rate=1e-3, max_length=64, validation_fraction=0.0,
                                       progress=False))
        yield result.run_dir, root


def test_gguf_q4_k_m_runs_in_llama_cpp_and_ollama_can_load_it(sft_run, tmp_path):
    from workbench.export import gguf

    run_dir, _ = sft_run
    out = tmp_path / "gguf"
    parity = gguf.build(export_job(run_dir, "gguf", out, quant="q4_k_m"))

    [file] = sorted(out.glob("*.gguf"))
    assert file.name == "support_replies-smollm2-135m-q4_k_m.gguf"
    assert sorted(p.name for p in out.iterdir()) == ["Modelfile", file.name]  # no F16 left behind
    modelfile = (out / "Modelfile").read_text()
    assert f"FROM ./{file.name}" in modelfile and "{{ .Prompt }}<|im_end|>" in modelfile
    assert 'PARAMETER stop "<|im_end|>"' in modelfile

    # llama.cpp reads the file's own chat template into the very tokens the student trained on.
    assert parity.rows == 2 and parity.prompt_tokens_match is True
    # 4 bits per weight move a barely trained student's greedy path; it still answers alike.
    assert 0.0 <= parity.exact_match <= 1.0 and 0.0 < parity.rouge_l <= 1.0
    assert parity.tokens_per_s > 0 and parity.reference_tokens_per_s > 0 and parity.latency_p50_ms > 0

    generator = gguf.load(out)
    try:
        assert generator.objective == "sft" and generator.disk_bytes == file.stat().st_size
        assert 100e6 < generator.parameters < 200e6
        [reply] = generator.predict(["My beans arrived stale, what can I do?"], max_new_tokens=16)
        assert reply.strip() and generator.new_tokens[-1] <= 16
        with pytest.raises(WorkbenchError, match="empty"):
            generator.predict(["  "])
    finally:
        generator.close()


def test_gguf_f16_replies_are_the_students(sft_run, tmp_path):
    from workbench.export import gguf

    out = tmp_path / "f16"
    parity = gguf.build(export_job(sft_run[0], "gguf", out, quant="f16"))
    assert [p.name for p in out.glob("*.gguf")] == ["support_replies-smollm2-135m-f16.gguf"]
    # F16 of the same weights: the converter changed nothing the greedy replies depend on.
    assert parity.prompt_tokens_match is True and parity.exact_match == 1.0


def test_merged_export_answers_exactly_as_the_student(sft_run, tmp_path):
    from transformers import AutoModelForCausalLM

    from workbench.export import merged

    run_dir, _ = sft_run
    out = tmp_path / "merged"
    parity = merged.build(export_job(run_dir, "merged", out, parity_rows=2))
    assert parity.rows == 2 and parity.exact_match == 1.0 and parity.rouge_l == 1.0
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in out.iterdir()}
    assert AutoModelForCausalLM.from_pretrained(str(out)).num_parameters() > 100e6  # plain transformers


def test_a_missing_converter_names_make_setup(sft_run, tmp_path, monkeypatch):
    from workbench.export import converter, gguf

    monkeypatch.setattr(converter, "TOOLS", tmp_path / "no-tools")
    with pytest.raises(converter.ConverterMissingError, match="make setup"):
        gguf.build(export_job(sft_run[0], "gguf", tmp_path / "out"))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*.gguf"))
