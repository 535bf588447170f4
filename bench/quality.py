"""Benchmark: does the loop pay? Synthetic data against the seeds alone, on real held-out rows.

One command, every arm measured in the same run, in one bench home (``.workbench/bench-quality``,
kept between runs: finished generations and train runs are reused, so a second run only scores):

- **Controls** (no teacher): zero-shot (MiniLM's nearest label description), the seed centroid
  (nearest seed-centroid), logistic regression on frozen MiniLM vectors of the seeds, and the
  student fine-tuned on the seeds alone: LoRA (``seeds_only``, the product's default student)
  and SetFit-style contrastive fine-tuning (``seeds_only_setfit``).
- **The loop**, per bundled teacher (Gemma 3 270M, Qwen2.5-Coder 1.5B): generate -> the auto
  reviewer's rule -> train, with today's settings (``loop_today``: no critic, no contrast or
  variety, every synthetic row, seeds once) and with the new
  defaults (``loop_new``: critic, contrastive and varied prompts, the synthetic:real cap, seeds
  weighted, validation on real rows), LoRA and SetFit (``loop_new_setfit``).
- ``loop_best``: of the loop arms, the one with the best macro-F1 on clinc_bank's
  ``validation.jsonl`` (never the held-out set); support_intents, which has no validation
  file, takes the same arm.

Each trained arm runs 3 training seeds; figures are macro-F1 mean and sd over seeds and a 95%
bootstrap interval over the held-out rows (of the seed mean), and each loop arm's paired
difference from ``seeds_only``. Targets (issue 14): on clinc_bank ``loop_best`` >= 0.93 and >=
``seeds_only`` + 2 points; on both tasks no default (``loop_new``) below ``seeds_only`` beyond
the interval. Results: bench/RESULTS.md and bench/results/quality.json, shaped
``tasks.<task>.arms.<arm>.{macro_f1_mean, macro_f1_sd, ci95}``.

    python bench/quality.py            # about an hour on a 2-core CPU the first time
    python bench/quality.py --quick    # fewer synthetic rows, one teacher (gemma3-270m)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TASKS = ("clinc_bank", "support_intents")
TEACHERS = ("gemma3-270m", "qwen-coder-1.5b")
SEEDS = (0, 1, 2)
# Synthetic rows asked per label, per teacher: Qwen's tokens cost about 5x Gemma's on this CPU.
ROWS_PER_LABEL = {"gemma3-270m": 8, "qwen-coder-1.5b": 4}
TARGET_F1, TARGET_GAIN = 0.93, 0.02
CONTROLS = ("zero_shot", "seed_centroid", "seeds_lr", "seeds_only", "seeds_only_setfit")
# Today's settings, as the product ran before issue 14: a variant of the task (``<task>_today``,
# the same seeds and held-out rows) with the critic, contrast and variety off, and the old training
# rule (seeds once, every synthetic row; validation stays on real rows, as the new rule has it).
TODAY = {"generation": {"critic": {"enabled": False}, "variety": {"enabled": False},
                        "contrastive": {"enabled": False}},
         "train": {"seed_weight": 1, "max_synthetic_per_real": 0}}


@dataclass
class Arm:
    """One arm's predictions on the held-out and validation rows, one list per training seed."""

    name: str
    heldout: list[list[str]] = field(default_factory=list)
    validation: list[list[str]] = field(default_factory=list)
    facts: dict = field(default_factory=dict)  # rows trained on, minutes, teacher...


def setup_env(home: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("WORKBENCH_PROMPTS_DIR", str(HERE.parent / "prompts"))
    os.environ.setdefault("WORKBENCH_MODELS_DIR", str(HERE.parent / ".workbench" / "models"))
    os.environ["WORKBENCH_HOME"], os.environ["WORKBENCH_DATASETS_DIR"] = str(home), str(home / "datasets")


def today_variant(task: str, home: Path) -> str:
    """``<task>_today``: the task's spec with :data:`TODAY` applied, its files by absolute path, in
    the bench home's prompts folder; returns its task.yaml path."""
    import shutil

    import yaml

    src = HERE.parent / "prompts" / task
    dst = home / "prompts" / f"{task}_today"
    dst.mkdir(parents=True, exist_ok=True)
    spec = yaml.safe_load((src / "task.yaml").read_text())
    for name in set(spec.get("templates", {}).values()):
        shutil.copy(src / name, dst / name)

    def absolute(node):
        if isinstance(node, dict):
            return {k: absolute(v) for k, v in node.items()}
        if isinstance(node, str) and node.startswith("../"):
            return str((src / node).resolve())
        return node

    from workbench.tasks import GenerationDefaults, TrainDefaults

    spec = absolute(spec)
    spec["name"] = f"{task}_today"
    fields = {"generation": GenerationDefaults.model_fields, "train": TrainDefaults.model_fields}
    for section, values in TODAY.items():
        for key, value in values.items():
            if key not in fields[section]:
                continue
            known = spec.setdefault(section, {})
            known[key] = {**known.get(key, {}), **value} if isinstance(value, dict) else value
    (dst / "task.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return str(dst / "task.yaml")


def embed_controls(spec) -> dict[str, Arm]:
    """The teacher-free, training-free controls (deterministic: one 'seed')."""
    from sklearn.linear_model import LogisticRegression

    from workbench.evaluate.strategies import EmbeddingScorer
    from workbench.models import embed, load_embedder

    held = [r["text"] for r in spec.heldout_examples()]
    val = [r["text"] for r in spec.validation_examples()]
    out = {}
    for name, build in (("zero_shot", EmbeddingScorer.from_descriptions), ("seed_centroid", EmbeddingScorer.from_seeds)):
        scorer = build(load_embedder(), spec)
        out[name] = Arm(name, [[max(p, key=p.get) for p in (scorer.score(t) for t in held)]],
                        [[max(p, key=p.get) for p in (scorer.score(t) for t in val)]] if val else [])
    seeds = spec.seed_examples
    lr = LogisticRegression(C=10, max_iter=2000).fit(embed([r["text"] for r in seeds]), [r["label"] for r in seeds])
    out["seeds_lr"] = Arm("seeds_lr", [list(lr.predict(embed(held)))], [list(lr.predict(embed(val)))] if val else [])
    return out


def trained(spec, name: str, configs: list, facts: dict | None = None) -> Arm:
    """Train (or reuse) one run per TrainConfig and predict the held-out and validation rows."""
    from workbench.train import run_train
    from workbench.train.predict import load_student

    held = [r["text"] for r in spec.heldout_examples()]
    val = [r["text"] for r in spec.validation_examples()]
    arm = Arm(name, facts=dict(facts or {}))
    started = time.perf_counter()
    for cfg in configs:
        result = run_train(cfg)
        student = load_student(result.run_dir, device="cpu")
        # macro-F1 is the gate-free figure (as in evaluate): argmax, not predict's out_of_scope
        arm.heldout.append([max(p, key=p.get) for p in student.predict_proba(held)])
        arm.validation.append([max(p, key=p.get) for p in student.predict_proba(val)] if val else [])
        arm.facts.setdefault("runs", []).append(result.run_id)
        del student
    arm.facts["minutes"] = round((time.perf_counter() - started) / 60, 2)
    return arm


def generated(task: str, teacher: str, per_label: int) -> tuple[str, dict]:
    """A synthetic version of ``task`` (a name or a variant's task.yaml; reused when it exists),
    auto-reviewed into a reviewed version; returns the reviewed ref and what generation cost and kept."""
    from workbench.generate import GenerateConfig, run_generate
    from workbench.tasks import load_task

    spec = load_task(task)
    cfg = GenerateConfig(task=task, n=per_label * len(spec.labels), teacher=f"llamacpp:{teacher}", seed=0,
                         progress=False)
    started = time.perf_counter()
    result = run_generate(cfg)
    minutes = (time.perf_counter() - started) / 60
    manifest = result.manifest.to_json_dict()
    ref = auto_review(spec, result.version)
    critic = manifest.get("critic") or {}
    return ref, {"synthetic": f"synthetic/{result.version.version}", "reviewed": ref, "reused": result.reused,
                 "generate_minutes": round(minutes, 2), "kept": (manifest.get("counts") or {}).get("kept"),
                 "critic": critic, "tokens": manifest.get("tokens"), "wall_seconds": manifest.get("wall_seconds")}


def auto_review(spec, version) -> str:
    """The ``auto`` review policy's rule (5 nearest seeds vote) on a synthetic version, saved as a
    reviewed version without an Argilla round trip: the same decisions the demo's reviewer makes."""
    from workbench.manifest import ReviewedManifest
    from workbench.review.policies import decisions
    from workbench.store import list_versions, save_version

    rows = [dict(r) for r in version.load()]
    for existing in list_versions(spec.name, "reviewed"):
        if existing.manifest.parent_synthetic_versions == [version.version]:
            return f"reviewed/{existing.version}"
    answers = decisions(spec, [{"text": r["text"], "suggestion": r["label"]} for r in rows])
    kept = [{"text": r["text"], "label": r["label"], "source": "synthetic", "decided_by": "auto"}
            for r, (status, _) in zip(rows, answers) if status == "submitted"]
    manifest = ReviewedManifest(kind="reviewed", task=spec.name, policy="auto",
                                parent_synthetic_versions=[version.version], reviewed=len(rows),
                                decisions={"accepted": len(kept), "discarded": len(rows) - len(kept)})
    saved = save_version(spec.name, kept, manifest, kind="reviewed")
    return f"reviewed/{saved.version}"


def summarize(spec, arms: dict[str, Arm], reference: str = "seeds_only") -> dict:
    """Per arm: macro-F1 mean and sd over seeds, the 95% interval of the seed mean, validation
    macro-F1, and the paired difference from ``reference``."""
    from workbench.evaluate.intervals import bootstrap_seeds, paired_seeds_difference
    from workbench.evaluate.metrics import classification_metrics

    y = [r["label"] for r in spec.heldout_examples()]
    yv = [r["label"] for r in spec.validation_examples()]
    out = {}
    for name, arm in arms.items():
        f1s = [classification_metrics(y, p, spec.label_names)["macro_f1"] for p in arm.heldout]
        ci = bootstrap_seeds("macro_f1", y, arm.heldout, spec.label_names)
        row = {"macro_f1_mean": round(statistics.mean(f1s), 4),
               "macro_f1_sd": round(statistics.stdev(f1s), 4) if len(f1s) > 1 else 0.0,
               "ci95": ci.to_list(), "seeds": len(f1s), "per_seed": f1s, **arm.facts}
        if yv and all(arm.validation):
            row["validation_macro_f1"] = round(statistics.mean(
                classification_metrics(yv, p, spec.label_names)["macro_f1"] for p in arm.validation), 4)
        if reference in arms and name != reference:
            d = paired_seeds_difference("macro_f1", y, arm.heldout, arms[reference].heldout, spec.label_names)
            row["vs_" + reference] = {"difference": round(d.value, 4), "ci95": d.to_list()}
        out[name] = row
    return out


def run_task(task: str, teachers: list[str], today: str | None, quick: bool, seeds: tuple[int, ...], home: Path,
             log, generate_only: bool = False, only: set[str] | None = None) -> dict:
    from workbench.tasks import load_task
    from workbench.train import TrainConfig

    spec = load_task(task)
    today_task = today_variant(task, home)
    known = TrainConfig.model_fields

    def configs(task_ref: str = task, **kw) -> list:
        extra = {k: v for k, v in kw.items() if k in known}
        return [TrainConfig(task=task_ref, seed=s, progress=False, **extra) for s in seeds]

    def rows(teacher: str) -> int:
        return max(1, ROWS_PER_LABEL.get(teacher, 8) // (2 if quick else 1))

    # Today's teacher with today's settings; every teacher with the new ones.
    data = {"today": generated(today_task, today, rows(today))} if today else {}
    data |= {t: generated(task, t, rows(t)) for t in teachers}
    log(f"{task}: generated " + json.dumps({k: v[1] for k, v in data.items()}, default=str))
    if generate_only:
        return {"arms": {}, "teachers": {k: v[1] for k, v in data.items()}}
    arms = embed_controls(spec)
    wanted = [("seeds_only", configs(dataset="seeds"), {}),
              ("seeds_only_setfit", configs(dataset="seeds", method="setfit"), {})]
    for t in teachers:
        wanted += [(f"loop_new_setfit:{t}", configs(dataset=data[t][0], method="setfit"), {"teacher": t}),
                   (f"loop_new:{t}", configs(dataset=data[t][0]), {"teacher": t})]
    if today:
        wanted.append((f"loop_today:{today}", configs(today_task, dataset=data["today"][0], **TODAY["train"]),
                       {"teacher": today}))
    for name, cfgs, facts in wanted:
        if only and name.split(":")[0] not in only and name not in only:
            continue
        arms[name] = trained(spec, name, cfgs, facts)
        log(f"{task}: {name} trained, {arms[name].facts}")
    return {"arms": summarize(spec, arms), "teachers": {k: v[1] for k, v in data.items()}}


def choose_best(tasks: dict) -> str | None:
    """The loop arm with the best validation macro-F1 on the first task that has validation rows."""
    for figures in tasks.values():
        loop = {k: v for k, v in figures["arms"].items() if k.startswith("loop_") and "validation_macro_f1" in v}
        if loop:
            return max(loop, key=lambda k: loop[k]["validation_macro_f1"])
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer synthetic rows, one teacher")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--teachers", default=None, help=f"the new settings' teachers; default {','.join(TEACHERS)} "
                        f"({TEACHERS[0]} with --quick); 'none' for none")
    parser.add_argument("--today", default=TEACHERS[0], help="the teacher of today's settings ('none': skip that arm)")
    parser.add_argument("--seeds", type=int, default=len(SEEDS))
    parser.add_argument("--home", default=str(HERE.parent / ".workbench" / "bench-quality"))
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--arms", default=None, help="only these trained arms (comma list, e.g. "
                        "seeds_only,loop_new_setfit); the training-free controls always run")
    parser.add_argument("--generate-only", action="store_true", help="make (or reuse) the synthetic data, then stop")
    args = parser.parse_args()
    from results import append_rows, machine, pressure, write_json  # bench/results.py

    home = Path(args.home).resolve()
    setup_env(home)
    teachers = [t for t in (args.teachers or (TEACHERS[0] if args.quick else ",".join(TEACHERS))).split(",")
                if t != "none"]
    today = None if args.today == "none" else args.today
    seeds = tuple(range(args.seeds))
    started, before = time.perf_counter(), pressure()

    def log(msg: str) -> None:
        print(f"[{(time.perf_counter() - started) / 60:5.1f} min] {msg}", file=sys.stderr, flush=True)

    import torch

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", os.cpu_count() or 1)))
    tasks = {t: run_task(t, teachers, today, args.quick, seeds, home, log, args.generate_only,
                          set(args.arms.split(",")) if args.arms else None) for t in args.tasks.split(",")}
    if args.generate_only:
        return 0
    best = choose_best(tasks)
    for figures in tasks.values():
        if best in figures["arms"]:
            figures["arms"]["loop_best"] = {**figures["arms"][best], "arm": best}
    targets = {}
    for task, f in tasks.items():
        arms = f["arms"]
        best, base = arms.get("loop_best"), arms.get("seeds_only")
        if best and base and task == "clinc_bank":
            targets[f"{task}: loop_best >= {TARGET_F1}"] = best["macro_f1_mean"] >= TARGET_F1
            targets[f"{task}: loop_best >= seeds_only + {TARGET_GAIN:.2f}"] = (
                best["vs_seeds_only"]["difference"] >= TARGET_GAIN)
        for name, v in arms.items():  # the defaults: never below seeds alone beyond the interval
            if name.startswith("loop_new") and "vs_seeds_only" in v:
                targets[f"{task}: {name} not below seeds_only"] = v["vs_seeds_only"]["ci95"][1] >= 0
    figures = {"date": dt.date.today().isoformat(), "targets": targets, "machine": machine(), "pressure_before": before,
               "pressure_after": pressure(), "minutes": round((time.perf_counter() - started) / 60, 1),
               "quick": args.quick, "seeds": len(seeds), "rows_per_label": ROWS_PER_LABEL, "loop_best_arm": best,
               "tasks": tasks}
    print(json.dumps({t: {a: (v["macro_f1_mean"], v["macro_f1_sd"], v["ci95"]) for a, v in f["arms"].items()}
                      for t, f in tasks.items()}, indent=1))
    if args.no_write:
        return 0
    write_json("quality", figures)
    rows = []
    for task, f in tasks.items():
        for arm, v in f["arms"].items():
            diff = v.get("vs_seeds_only")
            rows.append(f"| {figures['date']} | {task} | {arm} | {v['macro_f1_mean']:.3f} ± {v['macro_f1_sd']:.3f} | "
                        f"[{v['ci95'][0]:.3f}, {v['ci95'][1]:.3f}] | "
                        f"{'%+.1f [%+.1f, %+.1f]' % (100 * diff['difference'], 100 * diff['ci95'][0], 100 * diff['ci95'][1]) if diff else '-'} | "
                        f"{v.get('validation_macro_f1', '-')} | {'quick' if args.quick else 'full'}, {len(seeds)} seeds |")
    section = ("## Quality: does the loop pay (bench/quality.py)\n\n"
               "| date | task | arm | macro-F1 mean ± sd | 95% CI | vs seeds_only (pts) | validation | run |\n"
               "|---|---|---|---|---|---|---|---|\n")
    append_rows("## Quality: does the loop pay", section, rows)
    log(f"done; {machine()}; CPU pressure before: {before}; after: {pressure()}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main())
