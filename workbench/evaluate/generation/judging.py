"""The judge's pass over a generation task's evaluation: every reply, the references, and its check.

With the cells' models unloaded, the teacher judges every reply against the task's rubric
(:mod:`workbench.evaluate.judge`), the held-out references too (a sanity line: human-written
replies should rate high), and the teacher's suggestions in the latest reviewed version,
whose human decisions say how far to trust the judge (its :class:`Calibration`).

Example:
    >>> from workbench.evaluate import EvaluateConfig
    >>> from workbench.tasks import load_task
    >>> spec = load_task("support_replies")
    >>> judge_rows([], spec, [], EvaluateConfig(task=spec.name, judge=False)) is None   # switched off
    True
    >>> info = judge_rows(rows, spec, spec.heldout_examples()[:2], EvaluateConfig(task=spec.name))  # doctest: +SKIP
    >>> info["calibration"].status, info["calibration"].verdict[:27]                               # doctest: +SKIP
    ('uncalibrated', 'The judge is NOT calibrated')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.evaluate.generation.builders import default_teacher
from workbench.evaluate.generation.scoring import ReplyCellResult
from workbench.tasks import TaskSpec

if TYPE_CHECKING:
    from workbench.evaluate.config import EvaluateConfig


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


def judge_rows(rows: list[ReplyCellResult], spec: TaskSpec, heldout: list[dict],
               cfg: EvaluateConfig) -> dict[str, Any] | None:
    """Judge every cell's replies and the references, then check the judge on reviewed data.

    Fills each row's ``judge`` (mean score on [0, 1]), ``judge_pass`` (share passing) and
    per-item ``judge``; returns the judge's description with its ``calibration``, or ``None``
    when the judge is switched off (``judge=False``).
    """
    from workbench.evaluate.judge import Judge, calibrate, passes, to_score, uncalibrated

    if not cfg.judge:
        return None
    teacher = cfg.teacher or default_teacher()
    if spec.judge is None:
        return {"teacher": teacher, "calibration": uncalibrated(f"task {spec.name!r} has no 'judge:' rubric"),
                "skipped": "the task spec has no 'judge:' section (a rubric)"}
    reviewed, version = reviewed_for_calibration(spec, cfg.dataset, cfg.calibration_limit)
    judge = Judge(spec, teacher, cfg.threads)
    try:
        refs = []
        for i, h in enumerate(_progress(heldout, cfg, "judge replies")):
            for row in rows:  # one message at a time: its prompt prefix stays cached across cells
                rating = judge.rate(h["input"], row.predictions[i])
                row.items[i]["judge"] = round(to_score(rating), 4) if rating is not None else None
                row.items[i]["judge_rating"] = rating
            refs.append(judge.rate(h["input"], h["output"]))
        ratings = [judge.rate(r["input"], r["suggestion"]) for r in _progress(reviewed, cfg, "judge calibration")]
    finally:
        judge.close()
    for row in rows:
        scores = [i["judge"] for i in row.items if i.get("judge") is not None]
        rated = [i["judge_rating"] for i in row.items if i.get("judge_rating") is not None]
        row.judge = round(sum(scores) / len(scores), 4) if scores else None
        row.judge_pass = round(sum(passes(r, spec.judge.pass_rating) for r in rated) / len(rated), 4) \
            if rated else None
    done = [to_score(r) for r in refs if r is not None]
    if reviewed:
        calibration = calibrate(ratings, [r["decision"] for r in reviewed], [r.get("rating") for r in reviewed],
                                spec.judge.pass_rating)
        calibration.dataset = version
        calibration.items = [{"input": r["input"], "suggestion": r["suggestion"], "decision": r["decision"],
                              "rating": r.get("rating"), "judge_rating": j} for r, j in zip(reviewed, ratings)]
    else:
        calibration = uncalibrated(f"task {spec.name!r} has no reviewed records decided by people")
    return {**judge.info(), "reference_score": round(sum(done) / len(done), 4) if done else None,
            "calibration": calibration}


def _progress(items: list, cfg: EvaluateConfig, desc: str):
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, unit="item", disable=not cfg.progress)
