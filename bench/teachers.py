"""The teachers' part of bench/generate.py: raw tokens/s and label-consistent rows per minute.

For each bundled teacher (Gemma 3 270M in completion mode, Qwen2.5-Coder 1.5B in chat mode):

- raw tokens/s: the teacher's own prompts (few-shot lists, or the chat prompts with variety and
  contrastive jobs) on the engine the Generate stage runs (``BatchedLlamaCppLLM``), model load and
  a short warm-up outside the timing; completion tokens / seconds. For the Qwen teacher, one
  slot (single stream) and ``--slots`` together on the same prompts, in the same run, and their
  ratio (target: batched >= 3x single stream);
- rows per minute: ``run_generate`` end to end (load, rounds, curation, the critic when the
  workbench has one) in a scratch home; kept rows / minute, and label-consistent rows (those
  that pass the critic, ``manifest.critic``) / minute. A workbench without the critic writes
  "n/a" there and says why.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

TEACHERS = {"gemma3-270m": "llamacpp:gemma3-270m", "qwen-coder-1.5b": "llamacpp:qwen-coder-1.5b"}
RATIO_TARGET = 3.0


def jobs_for(task: str, teacher: str, n_prompts: int):
    """``n_prompts`` first-round jobs of ``task`` for ``teacher``, spread over its labels, in the
    mode the teacher prompts in (chat jobs with variety and contrastive turns, as a run makes them)."""
    from workbench.generate.contrast import confusable_for_run
    from workbench.generate.jobs import list_jobs
    from workbench.generate.teachers import TeacherSpec
    from workbench.models import embed
    from workbench.tasks import load_task

    spec, t = load_task(task), TeacherSpec.parse(teacher)
    g = spec.generation
    per_label = max(3, -(-n_prompts // len(spec.labels)))  # 3 or more: a contrastive turn comes third
    wanted = {lab: per_label * g.items_per_prompt // 2 for lab in spec.label_names}
    jobs = list_jobs(spec, "generate", t.mode, round_no=0, wanted=wanted, yields={}, seed=0,
                     confusable=confusable_for_run(spec, t.mode, None, embed))
    by_turn = sorted(jobs, key=lambda j: (j.index, j.label))  # interleave labels: every label early
    return spec, t, by_turn[:n_prompts]


def tokens_per_second(teacher, jobs, slots: int, max_new_tokens: int, temperature: float, top_p: float) -> dict:
    """Raw decode speed of ``teacher`` on ``jobs`` with ``slots`` parallel sequences (load excluded)."""
    from workbench.generate.llamacpp import BatchedLlamaCppLLM
    from workbench.generate.run import LIST_STOP
    from workbench.settings import get_settings

    llm = BatchedLlamaCppLLM(model=teacher.model, mode=teacher.mode, slots=slots,
                             threads=get_settings().resolved_threads(), seed=0)
    started = time.perf_counter()
    llm.load()
    load_s = time.perf_counter() - started
    stop = LIST_STOP if teacher.mode == "completion" else None
    inputs = [[{"role": "user", "content": j.prompt}] for j in jobs]
    llm.generate(inputs[:1], max_new_tokens=4, temperature=temperature, top_p=top_p, stop=stop)  # warm-up
    started = time.perf_counter()
    outs = llm.generate(inputs, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, stop=stop)
    gen_s = time.perf_counter() - started
    llm.unload()
    tokens = sum(sum(o["statistics"]["output_tokens"]) for o in outs)
    return {"slots": slots, "prompts": len(jobs), "tokens": tokens, "gen_s": round(gen_s, 2),
            "load_s": round(load_s, 2), "tok_s": round(tokens / gen_s, 2) if gen_s else 0.0}


def rows_per_minute(task: str, teacher: str, n: int, slots: int, max_new_tokens: int | None = None) -> dict:
    """``run_generate`` end to end in a scratch home: kept and label-consistent rows per minute."""
    from unittest.mock import patch

    from workbench.generate import GenerateConfig, run_generate
    from workbench.settings import get_settings

    home = tempfile.mkdtemp(prefix="bench-generate-")
    # patch.dict puts the environment back as it was, whatever happens inside
    with patch.dict(os.environ, WORKBENCH_HOME=home, WORKBENCH_DATASETS_DIR=f"{home}/datasets"):
        get_settings.cache_clear()
        try:
            started = time.perf_counter()
            result = run_generate(GenerateConfig(task=task, n=n, teacher=teacher, slots=slots, progress=False,
                                                 max_new_tokens=max_new_tokens))
            wall = time.perf_counter() - started
        finally:
            get_settings.cache_clear()
    m = result.manifest
    critic = _critic_counts(m)
    passed = critic.get("passed") if critic else None
    return {"n": n, "kept": result.counts.kept, "wall_s": round(wall, 1),
            "completion_tokens": (m.tokens or {}).get("completion"),
            "kept_per_min": round(60 * result.counts.kept / wall, 1),
            "critic": critic, "consistent": passed,
            "consistent_per_min": round(60 * passed / wall, 1) if passed is not None else None}


def _critic_counts(manifest: Any) -> dict | None:
    """The manifest's ``critic`` counts as a dict, or None for a workbench without the critic."""
    critic = getattr(manifest, "critic", None)
    if critic is None:
        extra = getattr(manifest, "model_extra", None) or {}
        critic = extra.get("critic")
    if critic is None:
        return None
    return critic.model_dump() if hasattr(critic, "model_dump") else dict(critic)


def run_teachers(task: str, n_prompts: int, single_prompts: int, slots: int, n_rows: int,
                 max_new_tokens: int | None, rows: bool = True) -> dict:
    """Every bundled teacher's figures (see the module docstring), as one dict."""
    figures: dict[str, Any] = {"task": task, "teachers": {}}
    for name, teacher in TEACHERS.items():
        spec, t, jobs = jobs_for(task, teacher, n_prompts)
        g = spec.generation
        mnt = max_new_tokens or g.max_new_tokens
        print(f"{name}: {len(jobs)} prompts ({t.mode}), up to {mnt} tokens each", flush=True)
        out: dict[str, Any] = {"spec": teacher, "mode": t.mode,
                               "contrastive_prompts": sum(j.contrast is not None for j in jobs)}
        out["batched"] = tokens_per_second(t, jobs, slots, mnt, g.temperature, g.top_p)
        print(f"  batched ({slots} slots): {out['batched']}", flush=True)
        if name == "qwen-coder-1.5b":
            out["single"] = tokens_per_second(t, jobs[:single_prompts], 1, mnt, g.temperature, g.top_p)
            out["ratio"] = round(out["batched"]["tok_s"] / max(out["single"]["tok_s"], 1e-9), 2)
            print(f"  single stream: {out['single']}; batched / single = {out['ratio']}x", flush=True)
        if rows:
            out["rows"] = rows_per_minute(task, teacher, n_rows, slots, max_new_tokens)
            print(f"  rows: {out['rows']}", flush=True)
        figures["teachers"][name] = out
    return figures


def table_rows(figures: dict, date: str, machine: str, pressure: str) -> list[str]:
    """One RESULTS.md row per teacher."""
    lines = []
    for name, f in figures["teachers"].items():
        single = f.get("single")
        ratio = (f"{single['tok_s']:.1f} / **{f['ratio']:.2f}x** ({'meets' if f['ratio'] >= RATIO_TARGET else 'MISSES'}"
                 f" {RATIO_TARGET}x)") if single else "-"
        r = f.get("rows")
        consistent = ("n/a (no critic in this workbench: manifest.critic absent)" if r and r["consistent"] is None
                      else f"{r['consistent_per_min']:.1f} ({r['consistent']} of {r['kept']})" if r else "-")
        kept = f"{r['kept_per_min']:.1f} ({r['kept']} in {r['wall_s']:.0f} s)" if r else "-"
        lines.append(f"| {date} | {machine} | {figures['task']} | {name} ({f['mode']}) | {f['batched']['prompts']} "
                     f"| {f['batched']['slots']} | {f['batched']['tok_s']:.1f} | {ratio} | {kept} | {consistent} "
                     f"| {pressure} |")
    return lines


HEADING = "## Generate: teachers"
SECTION = (f"{HEADING}: raw tokens/s and label-consistent rows/min (`python bench/generate.py`)\n\n"
           "| date | machine | task | teacher | prompts | slots | batched tok/s | single tok/s / batched÷single | "
           "kept rows/min | label-consistent rows/min (critic) | CPU pressure |\n"
           "|---|---|---|---|---|---|---|---|---|---|---|")
