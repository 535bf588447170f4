"""The pure parts of the SFT export formats: Modelfile, parity figures, refusals, the converter's install."""

from __future__ import annotations

import io
import json
import tarfile
import types
from pathlib import Path

import pytest

from workbench.export import converter
from workbench.export.modelfile import ModelfileError, modelfile, prompt_parts
from workbench.export.replies import ExportRefusedError, heldout_texts, parity_figures, require_sft
from workbench.train.info import RunInfo


class PlainTokenizer:  # a student tokenizer without a chat template
    chat_template = None


def test_the_ollama_template_is_the_training_prompt_cut_at_the_message():
    before, after = prompt_parts(PlainTokenizer())
    assert (before, after) == ("### Input\n", "\n### Response\n")
    text = modelfile("m.gguf", "{{ system }} ", after, ["<eos>", "<eos>", ""], 200, "t/r")
    assert "FROM ./m.gguf\n" in text and 'PARAMETER stop "<eos>"' in text and text.count("PARAMETER stop") == 1
    # A literal "{{" would open a Go template action: it is quoted.
    assert 'TEMPLATE """{{ "{{" }} system }} {{ .Prompt }}\n### Response\n"""' in text
    with pytest.raises(ModelfileError, match='"""'):
        modelfile("m.gguf", '"""', "", [], 8, "t/r")


def test_parity_figures():
    f = parity_figures(["a b c", "", "x y"], ["a b c", "", "x z"], [0.1, 0.2, 0.3], [1.0, 1.0, 1.0],
                       [3, 0, 2], [3, 0, 2])
    assert f["rows"] == 3 and f["exact_match"] == pytest.approx(2 / 3)
    assert f["rouge_l"] == pytest.approx((1 + 1 + 0.5) / 3)  # two empty replies agree
    assert f["latency_p50_ms"] == pytest.approx(200) and f["tokens_per_s"] == pytest.approx(5 / 0.6)
    assert f["reference_tokens_per_s"] == pytest.approx(5 / 3)


def test_heldout_texts_take_the_messages_up_to_the_limit():
    rows = [{"input": "one", "output": "1"}, {"text": "two", "label": "x"}, {"input": "  "}, {"input": "three"}]
    assert heldout_texts(rows, None) == ["one", "two", "three"] and heldout_texts(rows, 2) == ["one", "two"]


def test_a_classify_run_is_refused_for_gguf_and_merged_before_any_work(make_run_info, tmp_path):
    from workbench.export import gguf, merged

    info = RunInfo.model_validate(make_run_info())
    for module, fmt in ((gguf, "gguf"), (merged, "merged")):
        job = types.SimpleNamespace(run_dir=tmp_path, info=info, cfg=types.SimpleNamespace(format=fmt),
                                    out_dir=tmp_path / fmt, heldout=[], spec=None)
        with pytest.raises(ExportRefusedError, match=f"format '{fmt}' exports SFT.*--format onnx or --format "
                                                     "onnx-int8"):
            module.build(job)
        assert not (tmp_path / fmt).exists()
    require_sft(RunInfo.model_validate(make_run_info(objective="sft", labels=None)), "gguf")


def test_the_gguf_adds_no_special_tokens_the_student_was_not_trained_with(tmp_path):
    import gguf as gguf_py

    from workbench.export.gguf import prompt_as_trained

    path = tmp_path / "tiny.gguf"
    writer = gguf_py.GGUFWriter(str(path), "llama")
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(True)
    writer.add_tokenizer_model("gpt2")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    prompt_as_trained(path)
    fields = gguf_py.GGUFReader(path).fields
    assert [fields[f"tokenizer.ggml.add_{t}_token"].contents() for t in ("bos", "eos")] == [False, False]
    assert fields["tokenizer.ggml.model"].contents() == "gpt2"


def _sdist(path: Path, names: list[str]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name in names:
            data = f"# {name}\n".encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_the_converter_is_installed_once_from_the_sdist_and_found(tmp_path):
    with pytest.raises(converter.ConverterMissingError, match="make setup"):
        converter.find_converter(tmp_path)
    top = "llama_cpp_python-9.9.9/vendor/llama.cpp/"
    sdist = _sdist(tmp_path / "s.tar.gz", [top + "convert_hf_to_gguf.py", top + "conversion/__init__.py",
                                           top + "gguf-py/gguf/__init__.py", top + "gguf-py/tests/test_x.py",
                                           top + "ggml/src/ggml.c", top + "../../escape.py",
                                           "llama_cpp_python-9.9.9/llama_cpp/llama.py"])
    tools = converter.ensure_converter(tmp_path, sdist)
    assert tools.folder == converter.tools_dir(root=tmp_path) and tools.script.is_file()
    kept = sorted(p.relative_to(tools.folder).as_posix() for p in tools.folder.rglob("*") if p.is_file())
    assert kept == ["conversion/__init__.py", "convert_hf_to_gguf.py", "gguf-py/gguf/__init__.py",
                    converter.DONE]
    assert not (tmp_path / "escape.py").exists()
    assert converter.find_converter(tmp_path) == tools
    assert converter.ensure_converter(tmp_path, tmp_path / "absent.tar.gz") == tools  # a no-op once made


def test_an_archive_without_the_converter_is_refused(tmp_path):
    sdist = _sdist(tmp_path / "other.tar.gz", ["pkg-1.0/setup.py"])
    with pytest.raises(converter.ConverterInstallError, match="convert_hf_to_gguf.py"):
        converter.ensure_converter(tmp_path, sdist)
    assert not converter.tools_dir(root=tmp_path).exists()
