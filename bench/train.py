"""Benchmark: training throughput and MFU of the Train stage against a naive Trainer baseline.

One command; every figure in a row is measured in the same run, on the same rows:

- SmolLM2-135M LoRA SFT on support_replies pairs (the seeds, repeated to fill the run);
- MiniLM-L6 LoRA sequence classification on support_intents messages (the seeds, repeated).

Each is trained twice, each time in a fresh child process (so peak memory is its own):

- baseline: the transformers Trainer with its defaults, rows padded to max length, batch 8,
  the same LoRA adapter (for SFT: loss on every token, through the model's own forward);
- workbench: ``run_train`` as a user gets it (unpadded rows grouped by length, batch from
  the task spec, answer-only loss and vocabulary projection, checkpoint per epoch).

Figures: training tokens/s (real, non-pad tokens over the Trainer's train_runtime), model
FLOPs utilization (MFU) and peak resident memory. MFU = model FLOPs / time / peak, where the
peak is this CPU's fp32 matmul rate measured in the same command (2048^2 matmuls, best of
several, before and after the runs; the higher is used) and model FLOPs are the work the
task needs per real token: 4 x frozen linear weights (forward, input gradient), 6 x LoRA
weights, attention (x3 for training; causal half for decoders), and for SFT the
vocabulary projection at answer positions only. Both sides are counted the same way, so
padding and prompt-token logits show up as lost utilization. Targets for SmolLM2 LoRA on
this CPU: >= 1.5x the baseline's tokens/s and >= 40% MFU. With a CUDA GPU present, the same
runs are repeated there (bf16 peak measured on the GPU). Results go to bench/RESULTS.md.

    python bench/train.py             # ~6 minutes on a 2-core CPU
    python bench/train.py --no-write  # print only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_SPEEDUP, TARGET_MFU = 1.5, 0.40
DROPOUT = 0.0  # the baseline gets the same adapter as the workbench (TrainConfig's default)
CASES = {  # case -> (task, student, rows, max_length, baseline batch)
    "sft": ("support_replies", "smollm2-135m", 64, 256, 8),
    "classify": ("support_intents", "minilm-l6", 240, 128, 8),
}


def matmul_peak(device: str = "cpu") -> float:
    """Best FLOP/s of square matmuls: fp32 on the CPU, bf16 on a GPU."""
    import torch

    dtype, n = (torch.float32, 2048) if device == "cpu" else (torch.bfloat16, 8192)
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    best = 0.0
    for _ in range(5):
        if device == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(4):
            a @ b
        if device == "cuda":
            torch.cuda.synchronize()
        best = max(best, 4 * 2 * n**3 / (time.perf_counter() - t))
    return best


# -- children: one training run each ------------------------------------------------------
def _rows(task: str, n: int) -> list[dict]:
    from workbench.tasks import load_task

    seeds = load_task(task).seed_examples
    return [seeds[i % len(seeds)] for i in range(n)]


def _model_flops(model, lengths: list[int], answers: list[int], decoder: bool) -> float:
    """Useful training FLOPs for these rows (see the module docstring)."""
    import torch

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    head = base.get_output_embeddings() if decoder else None
    frozen = lora = 0
    for name, module in base.named_modules():
        if isinstance(module, torch.nn.Linear) and module is not head and "classifier" not in name:
            w = module.base_layer.weight if hasattr(module, "base_layer") else module.weight
            frozen += w.numel()
    lora = sum(p.numel() for n, p in base.named_parameters() if "lora_" in n)
    cfg = base.config
    layers, d = cfg.num_hidden_layers, cfg.hidden_size
    attn = sum((6 if decoder else 12) * layers * d * t * t for t in lengths)
    flops = sum(lengths) * (4 * frozen + 6 * lora) + attn
    if decoder:
        flops += sum(answers) * 4 * head.weight.numel()
    return float(flops)


def child_workbench(case: str, device: str) -> dict:
    from workbench.store import save_version
    from workbench.train import TrainConfig, run_train
    from workbench.train.classify import load_tokenizer
    from workbench.train.students import resolve_student

    task, student, n, max_length, _ = CASES[case]
    save_version(task, _rows(task, n), {"teacher": "bench: seeds repeated"})
    result = run_train(TrainConfig(task=task, student=student, epochs=1, validation_fraction=0.0,
                                   max_length=max_length, progress=False, device=device))
    rss = _peak_rss_mb()  # before the FLOPs count below loads the student once more
    path = resolve_student(student).path()
    lengths, answers = _lengths(case, load_tokenizer(path), max_length)
    return {"seconds": result.info["train"]["train_runtime"], "tokens": sum(lengths),
            "flops": _model_flops(_load_for_flops(case, path), lengths, answers, case == "sft"),
            "batch": result.info["hyperparameters"]["effective_batch_size"], "peak_rss_mb": rss}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load_for_flops(case: str, path: Path):
    """The student with the same LoRA adapter the runs train (only its shapes are used)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    from workbench.tasks import load_task
    from workbench.train.lora import with_lora

    task = CASES[case][0]
    r = load_task(task).train.lora_r
    if case == "sft":
        return with_lora(AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32), r, 2 * r, DROPOUT,
                         "CAUSAL_LM")
    labels = load_task(task).label_names
    return with_lora(AutoModelForSequenceClassification.from_pretrained(str(path), num_labels=len(labels)),
                     r, 2 * r, DROPOUT, "SEQ_CLS")


def _lengths(case: str, tok, max_length: int) -> tuple[list[int], list[int]]:
    from workbench.train.classify import encode_classification
    from workbench.train.sft import encode_sft

    task, _, n, _, _ = CASES[case]
    if case == "sft":
        data, _ = encode_sft(_rows(task, n), tok, max_length)
        return list(data["length"]), [sum(1 for x in lab if x != -100) for lab in data["labels"]]
    from workbench.tasks import load_task

    data = encode_classification(_rows(task, n), tok, load_task(task).label_names, max_length)
    return list(data["length"]), [0] * len(data)


def child_baseline(case: str, device: str) -> dict:
    """The Trainer as a first attempt uses it: defaults, padding to max_length, batch 8."""
    import torch
    from datasets import Dataset
    from transformers import (AutoModelForCausalLM, AutoModelForSequenceClassification, DataCollatorForLanguageModeling,
                              Trainer, TrainingArguments, set_seed)

    from workbench.tasks import load_task
    from workbench.train.classify import load_tokenizer
    from workbench.train.lora import with_lora
    from workbench.train.sft import chat_prompt
    from workbench.train.students import resolve_student

    task, student, n, max_length, batch = CASES[case]
    spec, path = load_task(task), resolve_student(student).path()
    rows, r = _rows(task, n), spec.train.lora_r
    set_seed(0)
    tok = load_tokenizer(path)
    if case == "sft":
        model = with_lora(AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32), r, 2 * r, DROPOUT,
                          "CAUSAL_LM")
        texts = [chat_prompt(tok, row["input"]) + row["output"] + tok.eos_token for row in rows]
        enc = tok(texts, padding="max_length", truncation=True, max_length=max_length, add_special_tokens=False)
        data, collator = Dataset.from_dict(dict(enc)), DataCollatorForLanguageModeling(tok, mlm=False)
    else:
        labels = spec.label_names
        model = with_lora(AutoModelForSequenceClassification.from_pretrained(str(path), num_labels=len(labels)),
                          r, 2 * r, DROPOUT, "SEQ_CLS")
        enc = tok([row["text"] for row in rows], padding="max_length", truncation=True, max_length=max_length)
        data, collator = Dataset.from_dict({**enc, "labels": [labels.index(row["label"]) for row in rows]}), None
    tmp = tempfile.mkdtemp()
    args = TrainingArguments(output_dir=tmp, per_device_train_batch_size=batch, num_train_epochs=1, report_to="none",
                             use_cpu=device == "cpu", disable_tqdm=True)
    out = Trainer(model=model, args=args, train_dataset=data, data_collator=collator).train()
    lengths, answers = _lengths(case, tok, max_length)
    return {"seconds": out.metrics["train_runtime"], "tokens": sum(lengths),
            "flops": _model_flops(model, lengths, answers, case == "sft"), "batch": batch,
            "padded_tokens": len(rows) * max_length, "peak_rss_mb": _peak_rss_mb()}


def _child(which: str, case: str, device: str) -> None:
    home = tempfile.mkdtemp(prefix="bench-train-")
    os.environ.update(WORKBENCH_HOME=str(Path(home) / "home"), WORKBENCH_DATASETS_DIR=str(Path(home) / "datasets"))
    result = (child_workbench if which == "workbench" else child_baseline)(case, device)
    print(json.dumps(result))


# -- parent ----------------------------------------------------------------------------------
def _run(which: str, case: str, device: str) -> dict:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", which, case, device], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{which} {case} on {device} failed:\n{proc.stderr[-4000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_s"] = time.perf_counter() - started
    return out


def _write(rows: list[str]) -> None:
    from results import append_rows

    append_rows("## Train:", "## Train: tokens/s, MFU and peak memory (`python bench/train.py`)\n\n"
                "| date | machine | run | baseline tok/s | workbench tok/s | speed-up | baseline MFU | workbench MFU "
                "| peak RSS MB (base / wb) | peak GFLOP/s |\n|---|---|---|---|---|---|---|---|---|---|", rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", nargs=3, metavar=("WHICH", "CASE", "DEVICE"), help=argparse.SUPPRESS)
    ap.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    args = ap.parse_args()
    os.environ.setdefault("WORKBENCH_PROMPTS_DIR", str(HERE.parent / "prompts"))
    os.environ.setdefault("WORKBENCH_MODELS_DIR", str(HERE.parent / ".workbench" / "models"))
    if args.child:
        _child(*args.child)
        return 0
    import torch

    from workbench.train.students import resolve_student

    for case in CASES:  # convert the GGUF students once, outside every timing
        resolve_student(CASES[case][1]).path()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    rows, ok = [], True
    for device in devices:
        peak = matmul_peak(device)
        print(f"{device}: matmul peak {peak / 1e9:.1f} GFLOP/s", flush=True)
        results = {(w, c): _run(w, c, device) for c in CASES for w in ("baseline", "workbench")}
        for (w, c), r in results.items():
            print(f"{device} {c:8s} {w:9s} {json.dumps(r)}", flush=True)
        peak = max(peak, matmul_peak(device))
        for case in CASES:
            b, w = results["baseline", case], results["workbench", case]
            tps_b, tps_w = b["tokens"] / b["seconds"], w["tokens"] / w["seconds"]
            mfu_b, mfu_w = b["flops"] / b["seconds"] / peak, w["flops"] / w["seconds"] / peak
            speedup = tps_w / tps_b
            verdict = ""
            if case == "sft" and device == "cpu":
                fast, busy = speedup >= TARGET_SPEEDUP, mfu_w >= TARGET_MFU
                ok &= fast and busy
                verdict = (f" ({TARGET_SPEEDUP}x: {'meets' if fast else 'MISSES'}; "
                           f"{TARGET_MFU:.0%} MFU: {'meets' if busy else 'MISSES'})")
            label = {"sft": "SmolLM2-135M LoRA SFT", "classify": "MiniLM-L6 LoRA classify"}[case]
            where = machine if device == "cpu" else torch.cuda.get_device_name(0)
            rows.append(f"| {dt.date.today()} | {where} | {label}, batch {b['batch']} / {w['batch']} | "
                        f"{tps_b:.0f} | {tps_w:.0f} | **{speedup:.2f}x**{verdict} | {mfu_b:.1%} | **{mfu_w:.1%}** | "
                        f"{b['peak_rss_mb']:.0f} / {w['peak_rss_mb']:.0f} | {peak / 1e9:.0f} |")
    from results import pressure

    print(f"CPU pressure (share of time some task waited for a CPU): {pressure()}")
    print("\n".join(rows))
    if not args.no_write:
        _write(rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
