"""Benchmark: the workbench's generation against a naive distilabel baseline.

One command, both measured in the same run on the same prompts (support_intents,
few-shot list prompts from the seeds) and the same bundled model (Gemma 3 270M):

- baseline: distilabel ``TextGeneration`` + ``LlamaCppLLM`` with default settings,
  prompt after prompt (what a first attempt with distilabel looks like);
- workbench: the distilabel pipeline of the Generate stage (``BatchedLlamaCppLLM``,
  parallel slots, F16 weights, list-continuation prompts), model load included.

Both outputs go through the same curation (parse, validate, exact and near dedup), so
"kept records/min" compares usable data, not just tokens. Target: workbench tokens/s
at least 3x the baseline's. Results are appended to bench/RESULTS.md.

Then each bundled teacher (bench/teachers.py): Gemma 3 270M and the Qwen2.5-Coder 1.5B chat
teacher (`make teacher-qwen`): raw tokens/s, and kept / label-consistent rows per minute of a
whole `run_generate` (rows that pass the critic, from `manifest.critic`); for Qwen single
stream and batched in the same run (target: batched >= 3x single stream). Figures as data in
bench/results/generate.json.

    python bench/generate.py            # ~15 minutes on a 2-core CPU
    python bench/generate.py --quick --no-write   # a quick look (a few minutes)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = 3.0


def _prompts(n_prompts: int):
    from workbench.generate.jobs import list_jobs
    from workbench.tasks import load_task

    spec = load_task("support_intents")
    per_label = max(1, n_prompts // len(spec.labels))
    wanted = {lab: per_label * spec.generation.items_per_prompt // 2 for lab in spec.label_names}
    jobs = list_jobs(spec, "generate", "completion", round_no=0, wanted=wanted, yields={}, seed=0)
    return spec, jobs[:n_prompts]


def _curate(spec, entries, continuation: bool, max_new_tokens: int) -> int:
    from workbench.generate.curate import ListCurator
    from workbench.generate.run import _embedder

    kept, _ = ListCurator(spec, _embedder(), continuation, max_new_tokens).curate(entries)
    return sum(len(v) for v in kept.values())


def run_baseline(spec, jobs) -> dict:
    from distilabel.models import LlamaCppLLM
    from distilabel.steps.tasks import TextGeneration

    from workbench.models import gguf_path

    start = time.perf_counter()
    task = TextGeneration(llm=LlamaCppLLM(model_path=str(gguf_path("gemma3-270m"))))
    task.load()
    outputs = next(task.process([{"instruction": j.prompt} for j in jobs]))
    gen_s = time.perf_counter() - start
    entries, tokens = [], 0
    for j, row in zip(jobs, outputs):
        stats = next(v for k, v in row["distilabel_metadata"].items() if k.startswith("statistics_"))
        out_tokens = stats["output_tokens"] if isinstance(stats["output_tokens"], int) else stats["output_tokens"][0]
        tokens += out_tokens
        entries.append({"job": j.id, "label": j.label, "text": row["generation"] or "", "output_tokens": out_tokens})
    # The baseline answers in chat mode (LlamaCppLLM's default), so its lists are not continuations.
    kept = _curate(spec, entries, continuation=False, max_new_tokens=128)
    total_s = time.perf_counter() - start
    task.unload()
    return {"tokens": tokens, "gen_s": gen_s, "total_s": total_s, "kept": kept}


def run_workbench(spec, jobs, slots: int) -> dict:
    from workbench.generate.config import GenerateConfig
    from workbench.generate.journal import Journal
    from workbench.generate.pipeline import run_jobs
    from workbench.generate.run import LIST_STOP

    g = spec.generation
    start = time.perf_counter()
    journal = Journal(Path(tempfile.mkdtemp()) / "journal.jsonl")
    sampling = {"max_new_tokens": g.max_new_tokens, "temperature": g.temperature, "top_p": g.top_p,
                "stop": LIST_STOP}
    cfg = GenerateConfig(task="support_intents", slots=slots, batch_size=len(jobs), progress=False)
    run_jobs(jobs, "llamacpp:gemma3-270m", journal, sampling, cfg, 0, "workbench")
    gen_s = time.perf_counter() - start
    entries = journal.entries()
    kept = _curate(spec, entries, continuation=True, max_new_tokens=g.max_new_tokens)
    total_s = time.perf_counter() - start
    return {"tokens": sum(e["output_tokens"] for e in entries), "gen_s": gen_s, "total_s": total_s, "kept": kept}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=int, default=60, help="prompts of the baseline comparison")
    ap.add_argument("--slots", type=int, default=16, help="slots of the baseline comparison's workbench side")
    ap.add_argument("--task", default="support_intents", help="task of the teachers' figures")
    ap.add_argument("--teacher-prompts", type=int, default=16, help="prompts per teacher for tokens/s")
    ap.add_argument("--teacher-slots", type=int, default=8, help="slots of the teachers' batched figures")
    ap.add_argument("--single-prompts", type=int, default=4, help="prompts of Qwen's single-stream figure")
    ap.add_argument("--rows", type=int, default=60, help="rows of each teacher's run_generate (0: skip it)")
    ap.add_argument("--max-new-tokens", type=int, default=None, help="teachers' tokens/s: tokens per prompt")
    ap.add_argument("--skip-baseline", action="store_true", help="only the teachers' figures")
    ap.add_argument("--quick", action="store_true", help="a small run: 8 prompts, 16 rows, 64 tokens")
    ap.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    args = ap.parse_args()
    if args.quick:
        args.prompts, args.teacher_prompts, args.single_prompts = 8, 8, 2
        args.rows, args.max_new_tokens = min(args.rows, 16), args.max_new_tokens or 64
    os.environ.setdefault("WORKBENCH_HOME", str(HERE.parent / ".workbench"))
    os.environ.setdefault("WORKBENCH_PROMPTS_DIR", str(HERE.parent / "prompts"))
    os.environ.setdefault("WORKBENCH_MODELS_DIR", str(HERE.parent / ".workbench" / "models"))
    from results import append_rows, machine, pressure, write_json

    ok = True
    if not args.skip_baseline:
        ok = baseline_comparison(args, append_rows)
    from teachers import HEADING, RATIO_TARGET, SECTION, run_teachers, table_rows

    figures = run_teachers(args.task, args.teacher_prompts, args.single_prompts, args.teacher_slots, args.rows,
                           args.max_new_tokens, rows=args.rows > 0)
    figures.update(quick=args.quick, pressure=pressure(), machine=machine(), date=str(dt.date.today()))
    rows = table_rows(figures, str(dt.date.today()), machine(), pressure())
    print("\n".join(rows))
    if not args.no_write:
        append_rows(HEADING, SECTION, rows)
        print(f"figures: {write_json('generate', figures)}")
    ratio = figures["teachers"].get("qwen-coder-1.5b", {}).get("ratio")
    return 0 if ok and (ratio is None or ratio >= RATIO_TARGET) else 1


def baseline_comparison(args, append_rows) -> bool:
    """The workbench's generation against distilabel's naive one, on Gemma (the first table)."""
    spec, jobs = _prompts(args.prompts)
    print(f"{len(jobs)} prompts, Gemma 3 270M, {os.cpu_count()} CPUs", flush=True)
    # Warm the F16 conversion so neither side pays a one-off cost inside the timing.
    from workbench.llamacpp import batched_gguf

    batched_gguf("gemma3-270m")
    wb = run_workbench(spec, jobs, args.slots)
    print(f"workbench: {wb}", flush=True)
    base = run_baseline(spec, jobs)
    print(f"baseline:  {base}", flush=True)

    def rates(r):
        return r["tokens"] / r["gen_s"], 60 * r["kept"] / r["total_s"]

    (b_tps, b_kpm), (w_tps, w_kpm) = rates(base), rates(wb)
    ratio = w_tps / b_tps
    verdict = "meets" if ratio >= TARGET else "MISSES"
    row = (f"| {dt.date.today()} | {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs | "
           f"{len(jobs)} | {b_tps:.1f} | {w_tps:.1f} | **{ratio:.2f}x** ({verdict} {TARGET}x) | "
           f"{b_kpm:.1f} | {w_kpm:.1f} | {base['kept']} / {wb['kept']} |")
    print(row)
    if not args.no_write and not args.quick:
        append_rows("## Generate:", "## Generate: tokens/s and kept records/min (`python bench/generate.py`)\n\n"
                    "| date | machine | prompts | baseline tok/s | workbench tok/s | speed-up | "
                    "baseline kept/min | workbench kept/min | kept (base / wb) |\n|---|---|---|---|---|---|---|---|---|",
                    [row])
    return ratio >= TARGET


if __name__ == "__main__":
    sys.exit(main())
