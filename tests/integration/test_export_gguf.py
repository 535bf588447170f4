"""User story: a reply drafter trained here runs elsewhere: exported as GGUF (llama.cpp's own
converter and quantizer) with an Ollama Modelfile, or as a plain merged transformers folder,
each checked against the transformers student before it is declared done.

One tiny SmolLM2 SFT run is trained once for the module; every export uses it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.errors import WorkbenchError

pytestmark = pytest.mark.slow
TASK = "support_replies"


def export(run_dir: Path, fmt: str, **cfg):
    """``run_export`` as the CLI calls it, with short parity checks (two messages, 16 tokens)."""
    from workbench.export import ExportConfig, run_export

    return run_export(ExportConfig(run=str(run_dir), format=fmt, threads=2, parity_rows=2,
                                   parity_max_new_tokens=16, **cfg))


@pytest.fixture(scope="module")
def sft_run(module_home):
    """A SmolLM2 LoRA SFT run of a few steps on the task's seed pairs."""
    from workbench.export.converter import find_converter
    from workbench.store import save_version
    from workbench.tasks import load_task
    from workbench.train import TrainConfig, run_train

    find_converter()  # `make setup` installs it; without it this module has nothing to test
    with module_home("export_gguf") as root:
        save_version(TASK, load_task(TASK).seed_examples * 2, {"teacher": "seeds"})
        result = run_train(TrainConfig(task=TASK, student="smollm2-135m", max_steps=2, batch_size=2,
                                       learning_rate=1e-3, max_length=64, validation_fraction=0.0,
                                       progress=False))
        yield result.run_dir, root


def test_gguf_q4_k_m_runs_in_llama_cpp_and_ollama_can_load_it(sft_run):
    from workbench.export import gguf, load_export

    run_dir, _ = sft_run
    result = export(run_dir, "gguf", quant="q4_k_m")
    out, parity = result.folder, result.card.parity
    assert out.name.startswith("gguf-q4_k_m-") and result.card.quant == "q4_k_m" and not result.reused

    [file] = sorted(out.glob("*.gguf"))
    assert file.name == "support_replies-smollm2-135m-q4_k_m.gguf"
    assert sorted(p.name for p in out.iterdir()) == ["Modelfile", "export.json", file.name]  # no F16 left behind
    modelfile = (out / "Modelfile").read_text()
    assert f"FROM ./{file.name}" in modelfile and "{{ .Prompt }}<|im_end|>" in modelfile
    assert 'PARAMETER stop "<|im_end|>"' in modelfile

    # llama.cpp reads the file's own chat template into the very tokens the student trained on.
    assert parity.rows == 2 and parity.prompt_tokens_match is True
    # 4 bits per weight move a barely trained student's greedy path; it still answers alike.
    assert 0.0 <= parity.exact_match <= 1.0 and 0.0 < parity.rouge_l <= 1.0
    assert parity.tokens_per_s > 0 and parity.reference_tokens_per_s > 0 and parity.latency_p50_ms > 0

    generator = load_export(out)
    try:
        assert isinstance(generator, gguf.GgufGenerator)
        assert generator.objective == "sft" and generator.disk_bytes == file.stat().st_size
        assert 100e6 < generator.parameters < 200e6
        [reply] = generator.predict(["My beans arrived stale, what can I do?"], max_new_tokens=16)
        assert reply.strip() and generator.new_tokens[-1] <= 16
        with pytest.raises(WorkbenchError, match="empty"):
            generator.predict(["  "])
    finally:
        generator.close()


def test_merged_export_answers_exactly_as_the_student(sft_run):
    from transformers import AutoModelForCausalLM

    result = export(sft_run[0], "merged")
    out, parity = result.folder, result.card.parity
    assert parity.rows == 2 and parity.exact_match == 1.0 and parity.rouge_l == 1.0
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in out.iterdir()}
    assert AutoModelForCausalLM.from_pretrained(str(out)).num_parameters() > 100e6  # plain transformers


def test_a_missing_converter_names_make_setup_and_leaves_no_export(sft_run, tmp_path, monkeypatch):
    from workbench.export import converter
    from workbench.export.run import exports_root

    monkeypatch.setattr(converter, "TOOLS", tmp_path / "no-tools")
    with pytest.raises(converter.ConverterMissingError, match="make setup"):
        export(sft_run[0], "gguf", quant="q8_0")
    assert not list(exports_root().rglob("gguf-q8_0-*"))
