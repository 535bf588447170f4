"""Benchmark: the exported student against PyTorch, and the service against in-process calls.

One command; every figure is measured in the same run, on the same machine, in a fresh home:

1. **Classifier formats.** MiniLM-L6 fine-tuned on the support_intents seeds (``run_train``),
   exported with ``run_export`` to ONNX fp32 and ONNX int8. For PyTorch fp32 (``load_student``),
   ONNX fp32 and ONNX int8 (``load_export``): single-message latency p50/p95 (one held-out
   message per call, every held-out message, after a warm-up), single-message throughput (calls
   per second over the same loop), batched throughput (the held-out set in batches of 32), size on
   disk and macro-F1 on the held-out set. Every format runs with the same thread count.
2. **The service.** ``workbench serve`` in a process of its own (``serve_in_subprocess``), serving
   the ONNX int8 export over loopback with its API key; a fixed number of single-message classify
   requests at concurrency 1, 8 and 32 (an asyncio httpx client); p50/p95/p99 and requests/s.
   The baseline is the same export called in this process by the same number of threads at
   the same concurrency, one call at a time (first come first served), so the ratio is what
   HTTP, JSON and the framework add, less what the service's micro-batching saves. The JSON also
   gives the harsher ratio against one lone in-process call (concurrency 1).
3. **GGUF.** SmolLM2-135M LoRA SFT on the support_replies seeds, exported to GGUF Q4_K_M; greedy
   replies to held-out messages from transformers fp32 (``load_student``) and from llama.cpp
   (``load_export``): generated tokens per second (both counted with the student's tokenizer),
   exact-match rate and ROUGE-L between the two.

Targets (issue 16): ONNX int8 >= 3x PyTorch's single-message throughput with macro-F1 within 1
point; the service's p95 at concurrency 8 within 2x of in-process; GGUF Q4_K_M >= 3x the
tokens/s of transformers fp32 with replies matching on most held-out inputs. Results go to
bench/RESULTS.md and bench/results/serve.json.

    python bench/serve.py             # ~12 minutes on a 2-core CPU
    python bench/serve.py --no-write  # print only
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLASSIFY_TASK, SFT_TASK = "support_intents", "support_replies"
THREADS = 2
TARGET_INT8_SPEEDUP, TARGET_F1_POINTS, TARGET_SERVICE_P95, TARGET_GGUF_SPEEDUP = 3.0, 1.0, 2.0, 3.0


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of ``values``, interpolated."""
    import numpy as np

    return float(np.percentile(values, q))


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# -- 1. classifier formats ----------------------------------------------------------------
def train_classifier(rows: int) -> Path:
    from workbench.store import save_version
    from workbench.tasks import load_task
    from workbench.train import TrainConfig, run_train

    seeds = load_task(CLASSIFY_TASK).seed_examples
    save_version(CLASSIFY_TASK, [seeds[i % len(seeds)] for i in range(rows)], {"teacher": "bench: seeds repeated"})
    result = run_train(TrainConfig(task=CLASSIFY_TASK, student="minilm-l6", epochs=3, validation_fraction=0.0,
                                   progress=False))
    return result.run_dir


def measure_classifier(model, texts: list[str], labels: list[str], disk_bytes: int) -> dict:
    from sklearn.metrics import f1_score

    for text in texts[:10]:  # warm-up: first calls allocate
        model.predict_proba([text])
    latencies = []
    started = time.perf_counter()
    for text in texts:
        t = time.perf_counter()
        model.predict_proba([text])
        latencies.append((time.perf_counter() - t) * 1000)
    single_s = time.perf_counter() - started
    t = time.perf_counter()
    rounds = 3
    for _ in range(rounds):
        probs = model.predict_proba(texts, batch_size=32)
    batched_s = (time.perf_counter() - t) / rounds
    predicted = [max(p, key=p.get) for p in probs]
    return {"latency_p50_ms": pct(latencies, 50), "latency_p95_ms": pct(latencies, 95),
            "single_per_s": len(texts) / single_s, "batched_per_s": len(texts) / batched_s,
            "disk_mb": disk_bytes / 1e6, "macro_f1": float(f1_score(labels, predicted, average="macro"))}


# -- 2. the service -------------------------------------------------------------------------
async def _load(url: str, headers: dict, texts: list[str], requests: int, concurrency: int) -> dict:
    import httpx

    latencies: list[float] = []
    queue = list(range(requests))

    async def worker(client):
        while queue:
            i = queue.pop()
            t = time.perf_counter()
            r = await client.post(f"{url}/v1/tasks/{CLASSIFY_TASK}/classify", json={"texts": [texts[i % len(texts)]]})
            r.raise_for_status()
            latencies.append((time.perf_counter() - t) * 1000)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60) as client:
        for text in texts[:10]:
            (await client.post(f"{url}/v1/tasks/{CLASSIFY_TASK}/classify", json={"texts": [text]})).raise_for_status()
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return _summary(latencies, wall)


class FifoLock:
    """One model call at a time, first come first served: a fast tokenizer cannot be shared by
    threads, and ``threading.Lock`` lets one thread take it again and again while others starve."""

    def __init__(self) -> None:
        import threading

        self._cv, self._next, self._serving = threading.Condition(), 0, 0

    def __enter__(self) -> None:
        with self._cv:
            ticket, self._next = self._next, self._next + 1
            self._cv.wait_for(lambda: self._serving == ticket)

    def __exit__(self, *exc) -> None:
        with self._cv:
            self._serving += 1
            self._cv.notify_all()


def _in_process(model, texts: list[str], requests: int, concurrency: int) -> dict:
    """The same model called by ``concurrency`` threads in this process, one call at a time:
    what a caller waits for without HTTP, JSON or the framework (queueing included)."""
    latencies: list[float] = []
    lock = FifoLock()

    def call(i: int) -> None:
        t = time.perf_counter()
        with lock:
            model.predict_proba([texts[i % len(texts)]])
        latencies.append((time.perf_counter() - t) * 1000)

    for text in texts[:10]:
        model.predict_proba([text])
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(call, range(requests)))
    return _summary(latencies, time.perf_counter() - started)


def _summary(latencies: list[float], wall: float) -> dict:
    return {"p50_ms": pct(latencies, 50), "p95_ms": pct(latencies, 95), "p99_ms": pct(latencies, 99),
            "requests_per_s": len(latencies) / wall, "requests": len(latencies)}


def measure_service(model, texts: list[str], requests: int) -> dict:
    from workbench.serve import ServeConfig
    from workbench.serve.run import serve_in_subprocess

    out = {}
    cfg = ServeConfig(tasks=[CLASSIFY_TASK], format="onnx-int8", port=0, access_log=False)
    with serve_in_subprocess(cfg) as server:
        for c in (1, 8, 32):
            out[f"c{c}"] = {"service": asyncio.run(_load(server.url, server.headers, texts, requests, c)),
                            "in_process": _in_process(model, texts, requests, c)}
            print(f"  concurrency {c}: {out[f'c{c}']}", flush=True)
    return out


# -- 3. GGUF --------------------------------------------------------------------------------
def train_sft() -> Path:
    from workbench.store import save_version
    from workbench.tasks import load_task
    from workbench.train import TrainConfig, run_train

    save_version(SFT_TASK, load_task(SFT_TASK).seed_examples, {"teacher": "bench: the seeds"})
    # Eight epochs over the 12 seed pairs: a student that has learned its replies, so that a greedy
    # path is not a coin toss between near-equal tokens that any rounding flips.
    return run_train(TrainConfig(task=SFT_TASK, student="smollm2-135m", epochs=8, validation_fraction=0.0,
                                 progress=False)).run_dir


def measure_generation(run_dir: Path, export_dir: Path, prompts: list[str], max_new_tokens: int) -> dict:
    from rouge_score import rouge_scorer

    from workbench.export import load_export
    from workbench.train import load_student

    torch_student = load_student(run_dir, device="cpu")
    tok = torch_student.tokenizer
    runs = {}
    for name, model in (("transformers_fp32", torch_student), ("gguf_q4_k_m", load_export(export_dir))):
        model.predict(prompts[:1], max_new_tokens=8)  # warm-up
        t = time.perf_counter()
        replies = [model.predict([p], max_new_tokens=max_new_tokens)[0] for p in prompts]  # one stream each
        seconds = time.perf_counter() - t
        tokens = sum(len(tok(r, add_special_tokens=False)["input_ids"]) for r in replies)
        runs[name] = {"replies": replies, "tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds}
        if hasattr(model, "close"):
            model.close()
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    a, b = runs["transformers_fp32"]["replies"], runs["gguf_q4_k_m"]["replies"]
    return {"prompts": len(prompts), "max_new_tokens": max_new_tokens,
            "transformers_tokens_per_s": runs["transformers_fp32"]["tokens_per_s"],
            "gguf_tokens_per_s": runs["gguf_q4_k_m"]["tokens_per_s"],
            "exact_match": sum(x.strip() == y.strip() for x, y in zip(a, b)) / len(a),
            "rouge_l": statistics.fmean(scorer.score(x, y)["rougeL"].fmeasure for x, y in zip(a, b)),
            "gguf_mb": _dir_bytes(export_dir) / 1e6}


# -- the command --------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-write", action="store_true", help="print only; do not write RESULTS.md or the JSON")
    ap.add_argument("--requests", type=int, default=400, help="requests per concurrency level (default 400)")
    ap.add_argument("--prompts", type=int, default=10, help="held-out replies per generator (default 10)")
    args = ap.parse_args()
    os.environ.setdefault("WORKBENCH_PROMPTS_DIR", str(HERE.parent / "prompts"))
    os.environ.setdefault("WORKBENCH_MODELS_DIR", str(HERE.parent / ".workbench" / "models"))
    home = tempfile.mkdtemp(prefix="bench-serve-")  # the runs, exports and dataset versions it makes
    os.environ["WORKBENCH_HOME"], os.environ["WORKBENCH_DATASETS_DIR"] = home, f"{home}/datasets"
    sys.path.insert(0, str(HERE))
    import torch

    from results import machine, pressure

    torch.set_num_threads(THREADS)
    from workbench.export import ExportConfig, load_export, run_export
    from workbench.tasks import load_task
    from workbench.train import load_student

    before = pressure()
    print(f"CPU pressure before: {before}", flush=True)
    heldout = load_task(CLASSIFY_TASK).heldout_examples()
    texts, labels = [r["text"] for r in heldout], [r["label"] for r in heldout]

    print("training the MiniLM student on the support_intents seeds ...", flush=True)
    run_dir = train_classifier(rows=240)
    formats: dict[str, dict] = {}
    pytorch = load_student(run_dir, device="cpu")
    formats["pytorch_fp32"] = measure_classifier(pytorch, texts, labels, _dir_bytes(run_dir / "model"))
    pytorch_labels = pytorch.predict(texts)
    del pytorch
    exported = {}
    for fmt in ("onnx", "onnx-int8"):
        result = run_export(ExportConfig(run=str(run_dir), format=fmt, threads=THREADS))
        exported[fmt] = load_export(result.folder, threads=THREADS)
        formats[fmt.replace("-", "_")] = {**measure_classifier(exported[fmt], texts, labels, result.card.size_bytes),
                                          "label_agreement": result.card.parity.label_agreement,
                                          "max_prob_diff": result.card.parity.max_prob_diff}
    for name, row in formats.items():
        print(f"  {name}: {row}", flush=True)
    assert exported["onnx-int8"].predict(texts) is not None and len(pytorch_labels) == len(texts)

    print("the service (ONNX int8) under load ...", flush=True)
    service = measure_service(exported["onnx-int8"], texts, args.requests)
    for model in exported.values():
        model.close()

    print("training the SmolLM2 SFT student on the support_replies seeds ...", flush=True)
    sft_run = train_sft()
    gguf = run_export(ExportConfig(run=str(sft_run), format="gguf", quant="q4_k_m", threads=THREADS, parity_rows=20))
    prompts = [r["input"] for r in load_task(SFT_TASK).heldout_examples()][:args.prompts]
    generation = {**measure_generation(sft_run, gguf.folder, prompts, 64),
                  "export_exact_match": gguf.card.parity.exact_match, "export_rouge_l": gguf.card.parity.rouge_l}
    print(f"  gguf: {generation}", flush=True)
    after = pressure()
    print(f"CPU pressure after: {after}", flush=True)

    int8, fp32 = formats["onnx_int8"], formats["pytorch_fp32"]
    figures = {
        "date": str(dt.date.today()), "machine": machine(), "threads": THREADS,
        "cpu_pressure": {"before": before, "after": after},
        "formats": formats, "service": service, "generation": generation,
        "onnx_int8_throughput_ratio": int8["single_per_s"] / fp32["single_per_s"],
        "onnx_int8_batched_throughput_ratio": int8["batched_per_s"] / fp32["batched_per_s"],
        "onnx_int8_macro_f1_delta": int8["macro_f1"] - fp32["macro_f1"],
        "service_p95_ratio_c8": service["c8"]["service"]["p95_ms"] / service["c8"]["in_process"]["p95_ms"],
        # The harsher reading: eight queued requests against one lone in-process call.
        "service_p95_c8_over_in_process_c1": service["c8"]["service"]["p95_ms"] / service["c1"]["in_process"]["p95_ms"],
        "gguf_tokens_per_s_ratio": generation["gguf_tokens_per_s"] / generation["transformers_tokens_per_s"],
    }
    checks = {
        "onnx_int8_throughput": figures["onnx_int8_throughput_ratio"] >= TARGET_INT8_SPEEDUP,
        "onnx_int8_macro_f1": abs(figures["onnx_int8_macro_f1_delta"]) * 100 <= TARGET_F1_POINTS,
        "service_p95_c8": figures["service_p95_ratio_c8"] <= TARGET_SERVICE_P95,
        "gguf_tokens_per_s": figures["gguf_tokens_per_s_ratio"] >= TARGET_GGUF_SPEEDUP,
        "gguf_replies_match": generation["exact_match"] >= 0.5,  # "matching on most held-out inputs"
    }
    figures["targets_met"] = checks
    rows = _rows(figures)
    print("\n".join(rows))
    print({k: ("meets" if v else "MISSES") for k, v in checks.items()})
    if not args.no_write:
        from results import append_rows, write_json

        append_rows("## Serve:", SECTION, rows)
        print(f"wrote {write_json('serve', figures)}")
    return 0 if all(checks.values()) else 1


SECTION = ("## Serve: exported students and the service (`python bench/serve.py`)\n\n"
           "| date | machine | what | figures | against | ratio | target |\n|---|---|---|---|---|---|---|")


def _rows(f: dict) -> list[str]:
    day, where = f["date"], f["machine"]
    fm, s, g = f["formats"], f["service"], f["generation"]

    def cls(name: str) -> str:
        r = fm[name]
        return (f"p50 {r['latency_p50_ms']:.1f} ms, p95 {r['latency_p95_ms']:.1f} ms, {r['single_per_s']:.0f} msg/s single, "
                f"{r['batched_per_s']:.0f} msg/s batched, {r['disk_mb']:.1f} MB, macro-F1 {r['macro_f1']:.3f}")

    met = f["targets_met"]
    rows = [f"| {day} | {where} | MiniLM PyTorch fp32 | {cls('pytorch_fp32')} | | | |",
            f"| {day} | {where} | MiniLM ONNX fp32 | {cls('onnx')} | PyTorch | "
            f"{fm['onnx']['single_per_s'] / fm['pytorch_fp32']['single_per_s']:.2f}x single | |",
            f"| {day} | {where} | MiniLM ONNX int8 | {cls('onnx_int8')} | PyTorch | "
            f"**{f['onnx_int8_throughput_ratio']:.2f}x** single, {f['onnx_int8_batched_throughput_ratio']:.2f}x batched, "
            f"F1 {f['onnx_int8_macro_f1_delta'] * 100:+.1f} pts | >= 3x, F1 within 1 pt: "
            f"{'meets' if met['onnx_int8_throughput'] and met['onnx_int8_macro_f1'] else 'MISSES'} |"]
    for c in ("c1", "c8", "c32"):
        sv, ip = s[c]["service"], s[c]["in_process"]
        target = (f"p95 within 2x: {'meets' if met['service_p95_c8'] else 'MISSES'}" if c == "c8" else "")
        rows.append(f"| {day} | {where} | service, ONNX int8, concurrency {c[1:]} | p50 {sv['p50_ms']:.1f} / p95 "
                    f"{sv['p95_ms']:.1f} / p99 {sv['p99_ms']:.1f} ms, {sv['requests_per_s']:.0f} req/s | in-process p50 "
                    f"{ip['p50_ms']:.1f} / p95 {ip['p95_ms']:.1f} / p99 {ip['p99_ms']:.1f} ms, {ip['requests_per_s']:.0f}/s | "
                    f"**{sv['p95_ms'] / ip['p95_ms']:.2f}x** p95 | {target} |")
    rows.append(f"| {day} | {where} | SmolLM2-135M SFT, GGUF Q4_K_M ({g['gguf_mb']:.0f} MB) in llama.cpp | "
                f"{g['gguf_tokens_per_s']:.1f} tok/s, exact match {g['exact_match']:.0%}, ROUGE-L {g['rouge_l']:.2f} "
                f"({g['prompts']} held-out prompts) | transformers fp32 {g['transformers_tokens_per_s']:.1f} tok/s | "
                f"**{f['gguf_tokens_per_s_ratio']:.2f}x** | >= 3x: {'meets' if met['gguf_tokens_per_s'] else 'MISSES'}; "
                f"replies match: {'meets' if met['gguf_replies_match'] else 'MISSES'} |")
    return rows


if __name__ == "__main__":
    sys.exit(main())
