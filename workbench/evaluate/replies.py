"""Evaluating a generation task: every cell writes replies to the same held-out messages.

Per cell: the replies (greedy, up to ``max_new_tokens``), ROUGE-L, chrF and length ratio
against the held-out reference, latency p50/p95, throughput, peak memory, parameters and
size on disk. Then, with the model of the cells unloaded, the teacher judges every reply
against the task's rubric (:mod:`workbench.evaluate.judge`), the held-out references too
(a sanity line: human-written replies should rate high), and the teacher's suggestions in
the latest reviewed version, whose human decisions say how far to trust the judge.

Example:
    >>> from workbench.evaluate import EvaluateConfig, run_evaluate
    >>> result = run_evaluate(EvaluateConfig(task="support_replies", limit=20))   # doctest: +SKIP
    >>> result.judge["calibration"]["status"]                                      # doctest: +SKIP
    'uncalibrated'
"""

from __future__ import annotations

import gc
from pathlib import Path

from workbench.evaluate.config import EvaluateConfig
from workbench.evaluate.judge import Judge, calibrate, passes, to_score, uncalibrated
from workbench.evaluate.ladder import Cell
from workbench.evaluate.metrics import chrf, length_ratio, rouge_l
from workbench.evaluate.profile import profile_calls
from workbench.tasks import TaskSpec

COLUMNS = ["strategy", "model", "rouge_l", "chrf", "length_ratio", "judge", "latency_p50_ms", "latency_p95_ms",
           "throughput_per_s", "peak_mem_mb", "parameters", "disk_mb"]
# The longest reply a default evaluation writes: a full run must finish on a 2-core CPU.
MAX_NEW_TOKENS = 128


def max_new_tokens(spec: TaskSpec, cfg: EvaluateConfig) -> int:
    return cfg.max_new_tokens or min(spec.generation.max_new_tokens, MAX_NEW_TOKENS)


def shots(spec: TaskSpec, cfg: EvaluateConfig) -> list[dict]:
    """The few-shot seed pairs: the first ``shots`` seeds, the same for every message."""
    return spec.seed_examples[:cfg.shots or spec.generation.shots]


def build(cell: Cell, spec: TaskSpec, pool: list[dict], cfg: EvaluateConfig, new_tokens: int):
    """The generator of one cell, with retrieval's MiniLM index counted in its size."""
    from workbench.evaluate import generators as gen
    from workbench.evaluate.strategies import EmbeddingScorer
    from workbench.generate.teachers import TeacherSpec
    from workbench.models import prompt_mode

    examples = lambda text: []
    knn = None
    if cell.strategy in ("retrieval", "finetuned_retrieval"):
        from workbench.models import load_embedder

        knn = EmbeddingScorer.index(load_embedder("minilm-l6"), [r["input"] for r in pool])
        # Most similar last: nearest to the message the model answers.
        examples = lambda text: [pool[i] for i in knn.neighbours(text, cfg.k)[::-1]]
    elif cell.strategy in ("fewshot", "teacher"):
        seeds = shots(spec, cfg)
        examples = lambda text: seeds
    if cell.strategy == "teacher":
        teacher = TeacherSpec.parse(cfg.teacher or _default_teacher())
        if teacher.kind == "openai":
            return gen.OpenAIGenerator(teacher, spec, examples, new_tokens)
        g = gen.LlamaGenerator(Path(cell.source), spec, teacher.mode, examples, cfg.threads, new_tokens)
    elif cell.strategy in ("finetuned", "finetuned_retrieval"):
        g = gen.FineTunedGenerator(cell.source, new_tokens, examples if knn else None)
    else:
        g = gen.LlamaGenerator(Path(cell.source), spec, prompt_mode(cell.model), examples, cfg.threads, new_tokens)
    if knn is not None:
        g.parameters += knn.parameters
        g.disk_bytes += knn.disk_bytes
    return g


def _default_teacher() -> str:
    from workbench.settings import get_settings

    return get_settings().teacher


def score_cell(cell: Cell, spec: TaskSpec, heldout: list[dict], pool: list[dict], cfg: EvaluateConfig) -> dict:
    """Write a reply to every held-out message with one cell; quality and cost figures."""
    texts, refs = [r["input"] for r in heldout], [r["output"] for r in heldout]
    replies, g, costs = profile_calls(lambda: build(cell, spec, pool, cfg, max_new_tokens(spec, cfg)), "generate",
                                      texts)
    parameters, size, new_tokens = g.parameters, g.disk_bytes, g.new_tokens
    del g
    gc.collect()
    items = [{"rouge_l": round(rouge_l(p, r), 4), "chrf": round(chrf(p, r), 4),
              "length_ratio": round(length_ratio(p, r), 4)} for p, r in zip(replies, refs)]
    mean = lambda key: round(sum(i[key] for i in items) / len(items), 4)
    return {"strategy": cell.strategy, "model": cell.model, "rouge_l": mean("rouge_l"), "chrf": mean("chrf"),
            "length_ratio": mean("length_ratio"), "judge": None, "judge_pass": None, **costs,
            "parameters": parameters,
            "disk_mb": round(size / 2**20, 1) if size is not None else None,
            "new_tokens_mean": round(sum(new_tokens) / len(new_tokens), 1) if new_tokens else None,
            "predictions": replies, "items": items}


def reviewed_for_calibration(spec: TaskSpec, ref: str | None, limit: int) -> tuple[list[dict], str | None]:
    """Human-decided reviewed records with the teacher's suggestion: ``dataset`` when it names a
    reviewed version, else the latest reviewed version; ``([], None)`` when there is none."""
    from workbench.store import get_version, latest_version

    kind, _, version = (ref or "").rpartition("/")
    found = get_version(spec.name, version, "reviewed") if kind == "reviewed" else latest_version(spec.name,
                                                                                                  "reviewed")
    if found is None:
        return [], None
    rows = [r for r in found.load() if r.get("decided_by") == "human" and r.get("suggestion") and r.get("input")]
    return rows[:limit], f"reviewed/{found.version}"


def judge_rows(rows: list[dict], spec: TaskSpec, heldout: list[dict], cfg: EvaluateConfig) -> dict:
    """Judge every cell's replies and the references, then check the judge on reviewed data.

    Fills each row's ``judge`` (mean score on [0, 1]), ``judge_pass`` (share passing) and
    per-item ``judge``; returns the judge's description and its calibration.
    """
    teacher = cfg.teacher or _default_teacher()
    if spec.judge is None:
        return {"teacher": teacher, "calibration": uncalibrated(f"task {spec.name!r} has no 'judge:' rubric"),
                "skipped": "the task spec has no 'judge:' section (a rubric)"}
    reviewed, version = reviewed_for_calibration(spec, cfg.dataset, cfg.calibration_limit)
    judge = Judge(spec, teacher, cfg.threads)
    try:
        refs = []
        for i, h in enumerate(_progress(heldout, cfg, "judge replies")):
            for row in rows:  # one message at a time: its prompt prefix stays cached across cells
                rating = judge.rate(h["input"], row["predictions"][i])
                row["items"][i]["judge"] = round(to_score(rating), 4) if rating is not None else None
                row["items"][i]["judge_rating"] = rating
            refs.append(judge.rate(h["input"], h["output"]))
        ratings = [judge.rate(r["input"], r["suggestion"]) for r in _progress(reviewed, cfg, "judge calibration")]
    finally:
        judge.close()
    for row in rows:
        scores = [i["judge"] for i in row["items"] if i.get("judge") is not None]
        rated = [i["judge_rating"] for i in row["items"] if i.get("judge_rating") is not None]
        row["judge"] = round(sum(scores) / len(scores), 4) if scores else None
        row["judge_pass"] = round(sum(passes(r, spec.judge.pass_rating) for r in rated) / len(rated), 4) \
            if rated else None
    done = [to_score(r) for r in refs if r is not None]
    if reviewed:
        calibration = calibrate(ratings, [r["decision"] for r in reviewed], [r.get("rating") for r in reviewed],
                                spec.judge.pass_rating)
        calibration["dataset"] = version
        calibration["items"] = [{"input": r["input"], "suggestion": r["suggestion"], "decision": r["decision"],
                                 "rating": r.get("rating"), "judge_rating": j} for r, j in zip(reviewed, ratings)]
    else:
        calibration = uncalibrated(f"task {spec.name!r} has no reviewed records decided by people")
    return {**judge.info(), "reference_score": round(sum(done) / len(done), 4) if done else None,
            "calibration": calibration}


def _progress(items: list, cfg: EvaluateConfig, desc: str):
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, unit="item", disable=not cfg.progress)


def worst_replies(row: dict, heldout: list[dict], metric: str, n: int) -> list[dict]:
    """The held-out messages this row answers worst by ``metric``, with their texts."""
    scored = [{"input": h["input"], "reference": h["output"], "prediction": p, **item}
              for h, p, item in zip(heldout, row["predictions"], row["items"]) if item.get(metric) is not None]
    return sorted(scored, key=lambda e: e[metric])[:n]
