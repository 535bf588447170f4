"""The recommendation over the size ladder, and the Pareto front of the plot."""

from pathlib import Path

import pytest

from workbench.evaluate.ladder import build_matrix, recommend
from workbench.evaluate.report import pareto_front


def _row(model, strategy, f1, params, p50):
    return {"model": model, "strategy": strategy, "macro_f1": f1, "parameters": params, "latency_p50_ms": p50}


ROWS = [_row("teacher:gemma3-270m", "teacher", 0.91, 268_000_000, 150),
        _row("smollm2-135m", "retrieval", 0.85, 157_000_000, 2000),
        _row("minilm-l6", "finetuned", 0.82, 22_700_000, 20),
        _row("minilm-l6", "retrieval", 0.83, 22_700_000, 25),
        _row("minilm-l6", "prompt", 0.60, 22_700_000, 18)]


def test_smallest_meeting_the_bar_wins_then_the_faster():
    r = recommend(ROWS, "macro_f1", 0.8)
    assert r.meets_bar and (r.row["model"], r.row["strategy"]) == ("minilm-l6", "finetuned")
    assert "smallest of 4" in r.reason


def test_a_higher_bar_moves_up_the_ladder():
    r = recommend(ROWS, "macro_f1", 0.9)
    assert r.meets_bar and r.row["model"] == "teacher:gemma3-270m"


def test_nothing_meets_the_bar_gives_the_nearest_miss():
    r = recommend(ROWS, "macro_f1", 0.95)
    assert not r.meets_bar and r.row["strategy"] == "teacher"
    assert "0.040 short" in r.reason and r.to_dict()["value"] == 0.91


def test_pareto_front_keeps_only_undominated_points():
    pts = [(r["latency_p50_ms"], r["macro_f1"]) for r in ROWS]
    # prompt (18 ms, 0.60), finetuned (20, 0.82), retrieval (25, 0.83), teacher (150, 0.91); smollm2 is dominated
    assert pareto_front(pts) == [4, 2, 3, 0]


def test_matrix_skips_what_cannot_run_and_says_why():
    m = build_matrix(["prompt", "retrieval", "finetuned"], ["minilm-l6", "gemma3-270m"], "llamacpp:gemma3-270m",
                     runs=[], has_pool=False)
    assert [(c.strategy, c.model) for c in m.cells] == [("prompt", "minilm-l6"), ("prompt", "gemma3-270m")]
    assert Path(m.cells[1].source).suffix == ".gguf"
    why = {s["strategy"]: s["why"] for s in m.skipped}
    assert "workbench generate" in why["retrieval"] and "workbench train" in why["finetuned"]
    with pytest.raises(ValueError, match="unknown strategies"):
        build_matrix(["magic"], ["minilm-l6"], "llamacpp:gemma3-270m", runs=[], has_pool=True)


def test_generation_matrix_skips_the_encoder_with_a_reason():
    m = build_matrix(["teacher", "prompt", "fewshot", "finetuned"], ["minilm-l6", "smollm2-135m"],
                     "llamacpp:gemma3-270m", runs=[], has_pool=False, task_type="generation")
    assert [(c.strategy, c.model) for c in m.cells] == [("teacher", "teacher:gemma3-270m"),
                                                         ("prompt", "smollm2-135m"), ("fewshot", "smollm2-135m")]
    why = {(s["strategy"], s["model"]): s["why"] for s in m.skipped}
    assert "encoder" in why[("prompt", "minilm-l6")] and "cannot generate" in why[("fewshot", "minilm-l6")]
    assert "SFT run" in why[("finetuned", "-")]
    # an OpenAI-compatible teacher writes replies; a transformers one is not wired up here
    m = build_matrix(["teacher"], [], "openai:qwen@http://127.0.0.1:1/v1", runs=[], has_pool=False,
                     task_type="generation")
    assert [(c.model, c.source) for c in m.cells] == [("teacher:qwen", "openai:qwen@http://127.0.0.1:1/v1?mode=chat")]
    m = build_matrix(["teacher"], [], "transformers:/some/folder", runs=[], has_pool=False, task_type="generation")
    assert not m.cells and "llamacpp: or openai:" in m.skipped[0]["why"]


def test_a_remote_teacher_of_unknown_size_counts_as_the_largest():
    rows = [{"model": "teacher:gpt", "strategy": "teacher", "rouge_l": 0.5, "parameters": None, "latency_p50_ms": 9},
            {"model": "smollm2-135m", "strategy": "fewshot", "rouge_l": 0.4, "parameters": 135e6,
             "latency_p50_ms": 90}]
    assert recommend(rows, "rouge_l", 0.35).row["model"] == "smollm2-135m"
    r = recommend(rows, "rouge_l", 0.45)
    assert r.row["model"] == "teacher:gpt" and "size unknown" in r.reason


def _ci_row(model, f1, low, high, params, p50=10):
    return {**_row(model, "finetuned", f1, params, p50), "macro_f1_ci": [low, high], "predictions": ["x"] * 100}


def test_the_recommendation_needs_the_interval_to_clear_the_bar():
    small = _ci_row("small", 0.84, 0.78, 0.90, 22_000_000)  # meets the bar on its point estimate only
    big = _ci_row("big", 0.90, 0.86, 0.94, 135_000_000)  # its whole interval is above the bar
    r = recommend([small, big], "macro_f1", 0.8, heldout=100)
    assert r.meets_bar and r.status == "meets" and r.row["model"] == "big"
    assert "0.900 [0.860, 0.940]" in r.reason and "the smaller small finetuned" in r.reason
    assert "straddles the bar" in r.reason and "too small to tell" in r.reason


def test_a_straddling_interval_says_the_heldout_set_is_too_small_and_how_many_rows_would_tell():
    from workbench.evaluate.intervals import Interval, rows_needed

    small = _ci_row("small", 0.84, 0.78, 0.90, 22_000_000)
    r = recommend([small, _ci_row("worse", 0.7, 0.6, 0.8, 10_000_000)], "macro_f1", 0.8, heldout=100)
    assert not r.meets_bar and r.status == "uncertain" and r.row["model"] == "small"
    assert r.rows_needed == rows_needed(100, Interval(0.84, 0.78, 0.90), 0.84 - 0.8) and r.rows_needed > 100
    assert f"about {r.rows_needed:,} held-out rows would tell" in r.reason
    assert r.to_dict()["rows_needed"] == r.rows_needed and r.to_dict()["interval"] == [0.78, 0.90]


def test_below_the_bar_even_at_the_top_of_the_interval_is_a_miss():
    r = recommend([_ci_row("a", 0.70, 0.62, 0.79, 1), _ci_row("b", 0.75, 0.70, 0.81, 2)], "macro_f1", 0.8)
    assert not r.meets_bar and r.status == "misses" and r.row["model"] == "b" and "0.050 short" in r.reason
    assert recommend([], "macro_f1", 0.8).status == "none"
