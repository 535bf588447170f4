"""The "onnx" and "onnx-int8" formats: a classify run's merged model as an onnxruntime graph.

``build`` exports the run's merged model (the mean-pooled MiniLM head or a decoder's own head,
as :func:`workbench.train.predict.load_student` loads it) with torch's dynamo ONNX exporter:
``torch.export`` captures the graph as the code runs, so data-dependent steps (mean pooling over
the mask, a decoder's last non-pad token) stay in the graph, where the older tracing exporter
bakes in what it saw. The batch and sequence axes are dynamic. "onnx-int8" quantizes that graph's
weights to int8 (onnxruntime's dynamic quantization: activations quantized at run time). Both
exporters write the same bytes for the same model, so the folder is content-addressed.

Beside ``model.onnx`` lie the run's tokenizer files and ``labels.json`` (the labels in the head's
order and how texts are tokenized). :class:`ExportedClassifier` runs it on the CPU with the
``tokenizers`` library (no torch, no transformers).

Parity: the exported labels must agree with the PyTorch student's on the held-out rows: all of
them for fp32 (a row may differ only where the student's two top labels tie, within
:data:`TIE`), at least :data:`MIN_AGREEMENT_INT8` for int8.

Example:
    >>> clf = ExportedClassifier(folder, threads=1)           # doctest: +SKIP
    >>> clf.predict_proba(["where is my parcel?"])[0]          # doctest: +SKIP
    {'delivery_status': 0.91, ...}
"""

from __future__ import annotations

import json
import logging
import shutil
import statistics
import time
import warnings
from importlib.metadata import version
from pathlib import Path

from workbench.export.card import ExportCard, Parity
from workbench.export.config import ExportError, ParityError
from workbench.train.predict import check_inputs

MODEL = "model.onnx"
LABELS = "labels.json"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "vocab.json",
                   "merges.txt", "added_tokens.json", "tokenizer.model", "chat_template.jinja")
# Two probabilities this close are a tie: float rounding may pick either label.
TIE = 1e-4
# int8 weights move probabilities by a few hundredths: a message near a boundary may flip.
MIN_AGREEMENT_INT8 = 0.97
LATENCY_ROWS = 50


def tool_versions() -> dict[str, str]:
    return {p: version(p) for p in ("torch", "onnx", "onnxscript", "onnxruntime", "tokenizers")}


def build(job) -> Parity:
    """Write model.onnx, the tokenizer and labels.json into ``job.out_dir``; check parity."""
    from workbench.train.predict import load_student

    if not (job.run_dir / "model" / "tokenizer.json").is_file():
        raise ExportError(f"run {job.info.run_id} has no tokenizer.json (a fast tokenizer) in model/; the ONNX "
                          "export runs its tokenizer without transformers")
    student = load_student(job.run_dir, device="cpu")
    out = job.out_dir
    int8 = job.cfg.format == "onnx-int8"
    if int8 and (made := fp32_export(job)) is not None:
        quantize_int8(made, out / MODEL)  # the same graph it would export: the same bytes, 10 s sooner
    else:
        graph = out / (".fp32.onnx" if int8 else MODEL)
        export_graph(student, graph)
        if int8:
            quantize_int8(graph, out / MODEL)
            graph.unlink()
    write_tokenizer(student, job.run_dir / "model", out)
    exported = ExportedClassifier(out, threads=job.threads)
    try:
        return classifier_parity(student, exported, [r["text"] for r in job.heldout], job.cfg.batch_size,
                                 MIN_AGREEMENT_INT8 if int8 else None)
    finally:
        exported.close()


def fp32_export(job) -> Path | None:
    """The fp32 graph of this run's finished "onnx" export, when there is one and it is intact."""
    from workbench.export.card import sha256_file
    from workbench.export.formats import FORMATS
    from workbench.export.run import export_folder

    folder, _ = export_folder(job.run_dir, job.info, FORMATS["onnx"])
    if not (folder / "export.json").is_file():
        return None
    entry = ExportCard.read(folder).files.get(MODEL)
    return folder / MODEL if entry and sha256_file(folder / MODEL) == entry.sha256 else None


def load(folder: Path, card: ExportCard, threads: int | None = None) -> "ExportedClassifier":
    return ExportedClassifier(folder, card, threads)


def export_graph(student, path: Path) -> None:
    """The student's logits as an ONNX graph over the tokenizer's inputs, batch and sequence dynamic."""
    import torch

    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in student.tokenizer.model_input_names]
    # Two rows of different lengths: torch.export specializes axes of size 0 or 1.
    enc = student.tokenizer(["where is my parcel", "I was charged twice for one box, please help me"],
                            padding=True, return_tensors="pt")
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    quiet = logging.getLogger("torch.onnx")  # "torchvision is not installed": no vision ops here
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(_Logits(student.model, names).eval(), tuple(enc[n] for n in names), str(path),
                              input_names=names, output_names=["logits"], dynamo=True, optimize=True,
                              external_data=False, verbose=False,
                              dynamic_shapes={"inputs": tuple({0: batch, 1: sequence} for _ in names)})
    finally:
        quiet.setLevel(level)


def _Logits(model, names: list[str]):
    import torch

    class Logits(torch.nn.Module):
        """The classifier with positional inputs in ``names`` order, returning the logits alone."""

        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *inputs):
            return self.model(**dict(zip(names, inputs))).logits

    return Logits()


def quantize_int8(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    level = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # "consider pre-processing": shapes are already known here
    try:
        # Per-channel scales, and 7-bit weights (reduce_range), which onnxruntime recommends on CPUs
        # without VNNI (this AVX2 one): u8 x s8 products then cannot saturate. On a MiniLM run of
        # support_intents they lifted agreement with the fp32 model from 0.983 to 0.992.
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
    finally:
        logging.getLogger().setLevel(level)


def write_tokenizer(student, model_dir: Path, out: Path) -> None:
    """The run's tokenizer files as they are, and labels.json (labels, how texts are tokenized)."""
    tok = student.tokenizer
    for name in TOKENIZER_FILES:
        if (model_dir / name).is_file():
            shutil.copyfile(model_dir / name, out / name)
    meta = {"labels": student.labels, "tokenizer": {
        "max_length": student.info.hyperparameters.max_length, "pad_token": tok.pad_token,
        "pad_token_id": tok.pad_token_id, "padding_side": tok.padding_side,
        "inputs": [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in tok.model_input_names]}}
    (out / LABELS).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def classifier_parity(student, exported: "ExportedClassifier", texts: list[str], batch_size: int,
                      min_agreement: float | None) -> Parity:
    """Labels and probabilities of ``exported`` against ``student`` on ``texts``, and its latency.

    ``min_agreement`` None: every label must agree but for ties. Raises :class:`ParityError`.
    """
    import numpy as np

    want = student.logits(texts, batch_size).softmax(-1).numpy()
    got = _softmax(exported.logits(texts, batch_size))
    a, b = want.argmax(-1), got.argmax(-1)
    rows = np.arange(len(texts))
    differ = a != b
    ties = differ & (np.abs(want[rows, a] - want[rows, b]) <= TIE)
    agreement = float(1 - differ.mean())
    notes = [f"{int(ties.sum())} of the {int(differ.sum())} differing labels are ties"] if differ.any() else []
    parity = Parity(rows=len(texts), label_agreement=round(agreement, 6),
                    max_prob_diff=float(np.abs(want - got).max()), latency_p50_ms=_latency(exported, texts),
                    notes=notes)
    bar = f">= {min_agreement}" if min_agreement is not None else "1.0 (but for ties)"
    if (min_agreement is None and (differ & ~ties).any()) or (min_agreement is not None and agreement < min_agreement):
        worst = [texts[i] for i in np.flatnonzero(differ & ~ties)[:3]]
        raise ParityError(f"the export's labels agree with the PyTorch student on {agreement:.3f} of {len(texts)} "
                          f"held-out rows, below {bar} (largest probability difference "
                          f"{parity.max_prob_diff:.3g}; e.g. {worst}); nothing was exported. Use format 'onnx' "
                          "(fp32), or train the student further so fewer messages sit on a label boundary")
    return parity


def _latency(exported: "ExportedClassifier", texts: list[str]) -> float:
    exported.predict_proba(texts[:1])  # the first call allocates onnxruntime's buffers
    times = []
    for text in texts[:LATENCY_ROWS]:
        t0 = time.perf_counter()
        exported.predict_proba([text])
        times.append(time.perf_counter() - t0)
    return round(1000 * statistics.median(times), 3)


def _softmax(logits):
    import numpy as np

    z = np.exp(logits - logits.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


class ExportedClassifier:
    """An ONNX export, run by onnxruntime on the CPU; the method names of ``TrainedStudent``."""

    objective = "classify"

    def __init__(self, folder: Path, card: ExportCard | None = None, threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from workbench.settings import get_settings

        self.folder, self.card = Path(folder), card
        meta = json.loads((self.folder / LABELS).read_text(encoding="utf-8"))
        self.labels: list[str] = meta["labels"]
        t = meta["tokenizer"]
        self.inputs: list[str] = t["inputs"]
        self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(t["max_length"])
        self.tokenizer.enable_padding(direction=t["padding_side"], pad_id=t["pad_token_id"], pad_token=t["pad_token"])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or get_settings().resolved_threads()
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.folder / MODEL), opts, providers=["CPUExecutionProvider"])
        self._parameters: int | None = None

    def __repr__(self) -> str:
        return f"ExportedClassifier({self.folder})"

    def logits(self, texts: list[str], batch_size: int = 32):
        """Logits, shape (len(texts), labels), in the order of ``texts``."""
        import numpy as np

        out = []
        for i in range(0, len(texts), batch_size):
            enc = self.tokenizer.encode_batch(texts[i:i + batch_size])
            fields = {"input_ids": [e.ids for e in enc], "attention_mask": [e.attention_mask for e in enc],
                      "token_type_ids": [e.type_ids for e in enc]}
            out.append(self.session.run(["logits"], {n: np.asarray(fields[n], dtype=np.int64) for n in self.inputs})[0])
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, len(self.labels)), np.float32)

    def predict_proba(self, texts: list[str], batch_size: int = 32) -> list[dict[str, float]]:
        texts = check_inputs(texts, batch_size)
        return [dict(zip(self.labels, map(float, row))) for row in _softmax(self.logits(texts, batch_size))]

    def predict(self, texts: list[str] | str, batch_size: int = 32, max_new_tokens: int = 128) -> list[str]:
        """Labels for ``texts`` (``max_new_tokens`` is for generators); an empty text is refused."""
        texts = check_inputs(texts, batch_size)
        return [self.labels[i] for i in self.logits(texts, batch_size).argmax(-1).tolist()]

    @property
    def disk_bytes(self) -> int:
        if self.card is not None:
            return self.card.size_bytes
        return sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())

    @property
    def parameters(self) -> int:
        """Weights in the graph (int8 weights count one each), read from its initializers once."""
        if self._parameters is None:
            import math

            import onnx

            graph = onnx.load(str(self.folder / MODEL), load_external_data=False).graph
            self._parameters = sum(math.prod(t.dims) for t in graph.initializer)
        return self._parameters

    def close(self) -> None:
        self.session = None
