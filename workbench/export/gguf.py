"""Format ``gguf``: an SFT student as one GGUF file (F16, Q8_0 or Q4_K_M) for llama.cpp,
Ollama and LM Studio, with an Ollama ``Modelfile`` beside it.

The run's merged model (``run_dir/model``: LoRA merged by Train) goes through llama.cpp's own
converter (``convert_hf_to_gguf.py`` of the installed llama-cpp-python release, installed by
``make setup``: :mod:`workbench.export.converter`) to F16, in a subprocess of this Python
with the converter's own gguf-py first on its path; then llama.cpp's quantizer
(:func:`workbench.llamacpp.quantize_gguf`) makes Q8_0 or Q4_K_M. The file is checked before
the export is declared done: the prompt llama.cpp builds from the GGUF's own chat template must
tokenize to the tokens the student was trained on, and the greedy replies are compared with the
transformers student's (:func:`workbench.export.replies.reply_parity`).

Example:
    >>> generator = load(folder, card)                          # doctest: +SKIP
    >>> generator.predict(["How do I skip my next box?"])       # doctest: +SKIP
    ['Hi, you can skip a box from Account > Deliveries...']
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.export.replies import heldout_texts, reply_parity, require_sft

# --quant -> llama.cpp's file type (None: the converter's F16 as it is).
QUANTS = {"f16": None, "q8_0": "MOSTLY_Q8_0", "q4_k_m": "MOSTLY_Q4_K_M"}
CONVERT_TIMEOUT_S = 3600


class GgufExportError(WorkbenchError):
    """llama.cpp's converter or quantizer could not make the GGUF."""


def gguf_name(info: Any, quant: str) -> str:
    """``support_replies-smollm2-135m-q4_k_m.gguf``: what LM Studio and ``ollama list`` show."""
    return f"{info.task}-{Path(info.student).name}-{quant}.gguf"


def prompt_as_trained(gguf: Path) -> None:
    """Set the GGUF to add no BOS or EOS of its own (in place: two flags in its header).

    The student was trained, and answers in ``predict``, on prompts tokenized without special
    tokens (``add_special_tokens=False``: its chat template writes any it needs;
    :func:`workbench.train.sft.encode_sft`). llama.cpp, Ollama and LM Studio add a BOS when the
    GGUF says so, and the converter says so when the tokenizer's post-processor adds one (Gemma's
    does). The post-processor itself stays: the converter recognises the pre-tokenizer by it.
    """
    from gguf import GGUFReader

    reader = GGUFReader(gguf, "r+")
    for key in ("tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token"):
        field = reader.fields.get(key)
        if field is not None:
            field.parts[field.data[0]][0] = False
    reader.data.flush()


def convert(model_dir: Path, outfile: Path, tools=None, name: str | None = None) -> Path:
    """``model_dir`` (a transformers folder) to an F16 GGUF by llama.cpp's own converter."""
    from workbench.export.converter import find_converter

    tools = tools or find_converter()
    path = os.pathsep.join(filter(None, [str(tools.gguf_py), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cmd = [sys.executable, str(tools.script), str(model_dir), "--outtype", "f16", "--outfile", str(outfile),
           *(["--model-name", name] if name else [])]
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise GgufExportError(f"llama.cpp's converter ran past {CONVERT_TIMEOUT_S} s on {model_dir}") from None
    if done.returncode != 0 or not outfile.is_file():
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-6:])
        hint = (" (llama.cpp does not know this tokenizer's pre-tokenizer: the student's tokenizer must be one "
                "llama.cpp ships a rule for)" if "pre-tokenizer" in tail else "")
        raise GgufExportError(f"llama.cpp's converter (llama-cpp-python {tools.version}) failed on {model_dir}"
                              f"{hint}:\n{tail}")
    prompt_as_trained(outfile)
    return outfile


def write_gguf(model_dir: Path, target: Path, quant: str, name: str | None = None) -> Path:
    """The GGUF of ``model_dir`` at ``target``, converted to F16 and quantized to ``quant``."""
    from workbench.export.converter import find_converter
    from workbench.llamacpp import quantize_gguf

    if quant not in QUANTS:
        raise GgufExportError(f"quant must be one of {sorted(QUANTS)}, not {quant!r}")
    tools = find_converter()  # before any work: a missing converter is the first thing said
    if QUANTS[quant] is None:
        return convert(model_dir, target, tools, name)
    with tempfile.TemporaryDirectory(prefix=".gguf-f16-", dir=target.parent) as tmp:
        f16 = convert(model_dir, Path(tmp) / "f16.gguf", tools, name)
        try:
            return quantize_gguf(f16, target, QUANTS[quant])
        except RuntimeError as exc:
            raise GgufExportError(str(exc)) from None


class GgufGenerator:
    """An exported GGUF answering through llama.cpp (greedy, one message at a time), prompted with
    the GGUF's own chat template, or the plain SFT layout when it has none (as the student was)."""

    objective = "sft"

    def __init__(self, gguf: Path, card: Any = None, threads: int | None = None, slot_ctx: int = 2048):
        from workbench.llamacpp import BatchedLlamaCpp
        from workbench.settings import get_settings

        self.path, self.card = Path(gguf), card
        self.engine = BatchedLlamaCpp(self.path, slots=1, slot_ctx=slot_ctx,
                                      threads=threads or get_settings().resolved_threads())
        self.has_template = bool(self.engine.model.metadata().get("tokenizer.chat_template"))
        self.parameters: int | None = int(self.engine.model.n_params())
        self.disk_bytes: int | None = self.path.stat().st_size
        self.new_tokens: list[int] = []

    def prompt(self, text: str) -> str:
        from workbench.train.sft import plain_prompt

        if self.has_template:
            return self.engine.chat_prompt([{"role": "user", "content": text}])
        return plain_prompt(text)

    def predict(self, texts: list[str] | str, batch_size: int = 8, max_new_tokens: int = 128) -> list[str]:
        """Greedy replies to ``texts``; an empty text is refused."""
        from workbench.train.predict import check_inputs

        texts = check_inputs(texts, batch_size)
        outs = self.engine.generate([self.prompt(t) for t in texts], max_new_tokens=max_new_tokens,
                                    temperature=0.0)
        self.new_tokens += [o.completion_tokens for o in outs]
        return [o.text.strip() for o in outs]

    def close(self) -> None:
        self.engine.close()


def prompt_tokens_match(generator: GgufGenerator, tok, probe: str = "Where is my order #123?") -> bool:
    """Whether llama.cpp tokenizes its prompt for ``probe`` to the ids the student trained on."""
    from workbench.train.sft import chat_prompt

    trained = tok(chat_prompt(tok, probe), add_special_tokens=False)["input_ids"]
    return generator.engine.tokenize(generator.prompt(probe)) == list(trained)


def build(job: Any):
    """Write the GGUF and its Modelfile into ``job.out_dir``; return the reply parity."""
    from workbench.export.modelfile import modelfile, prompt_parts
    from workbench.train.predict import load_student

    require_sft(job.info, "gguf")
    quant = job.cfg.quant
    out = Path(job.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = gguf_name(job.info, quant)
    write_gguf(Path(job.run_dir) / "model", out / name, quant, f"{job.info.task}-{Path(job.info.student).name}")
    reference = load_student(job.run_dir, device="cpu")
    tok = reference.tokenizer
    before, after = prompt_parts(tok)
    num_predict = min(job.spec.generation.max_new_tokens, 4096) if job.spec else 256
    (out / "Modelfile").write_text(modelfile(name, before, after, [tok.eos_token or ""], num_predict,
                                             f"{job.info.task}/{job.info.run_id}"), encoding="utf-8")
    generator = GgufGenerator(out / name, threads=job.threads)
    try:
        same = prompt_tokens_match(generator, tok)
        notes = [f"quant {quant}; " + ("llama.cpp's prompt tokens match the training prompt's" if same else
                 "llama.cpp's prompt tokens DIFFER from the training prompt's (for Gemma, llama.cpp adds a BOS "
                 "whatever the file says): replies differ for that too")]
        return reply_parity(generator, reference, heldout_texts(job.heldout, job.cfg.parity_rows),
                            job.cfg.parity_max_new_tokens, notes, progress=job.cfg.progress,
                            prompt_tokens_match=same)
    finally:
        generator.close()


def load(folder: Path, card: Any = None, threads: int | None = None) -> GgufGenerator:
    """The export folder's GGUF as a generator on llama.cpp."""
    found = sorted(Path(folder).glob("*.gguf"))
    if len(found) != 1:
        raise GgufExportError(f"{folder} should hold one .gguf file, not {len(found)}: export it again")
    return GgufGenerator(found[0], card, threads)


def tool_versions() -> dict[str, str]:
    """What decides the file besides the run's weights: llama.cpp's release (converter, quantizer)."""
    from importlib.metadata import version

    return {p: version(p) for p in ("llama-cpp-python", "torch", "transformers")}
