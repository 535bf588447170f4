"""The strategy and task type registries: a strategy is one builder and one entry."""

import pytest

from workbench.evaluate import classification, generation
from workbench.evaluate.cells import Strategy
from workbench.evaluate.config import STRATEGIES
from workbench.evaluate.ladder import build_matrix
from workbench.evaluate.task_types import TASK_TYPES, strategy_names, task_type


def test_the_strategy_names_come_from_the_registries():
    assert STRATEGIES == strategy_names() == tuple(classification.STRATEGIES)
    # seeds_lr (logistic regression on MiniLM vectors of the seeds) is a control of label tasks only
    assert list(generation.STRATEGIES) == [s for s in classification.STRATEGIES if s != "seeds_lr"]
    assert task_type("generation") is generation and set(TASK_TYPES) == {"classification", "generation"}
    with pytest.raises(ValueError, match="no evaluation for task type 'ranking'"):
        task_type("ranking")


def test_a_strategy_registered_with_one_builder_and_one_entry_shows_up_in_the_matrix(monkeypatch):
    def build_echo(cell, spec, pool, cfg):  # a scorer that always says the first label
        raise AssertionError("not built by the matrix")

    monkeypatch.setitem(classification.STRATEGIES, "echo", Strategy(build_echo))
    assert "echo" in strategy_names()
    m = build_matrix(["echo", "prompt"], ["minilm-l6", "smollm2-135m"], "llamacpp:gemma3-270m", runs=[],
                     has_pool=False)
    assert [(c.strategy, c.model) for c in m.cells] == [("echo", "minilm-l6"), ("echo", "smollm2-135m"),
                                                         ("prompt", "minilm-l6"), ("prompt", "smollm2-135m")]
    assert m.cells[0].source == "embedder" and m.cells[1].source.endswith(".gguf")
    # the other task type does not have it: skipped with the reason, not an error
    m = build_matrix(["echo"], ["smollm2-135m"], "llamacpp:gemma3-270m", runs=[], has_pool=False,
                     task_type="generation")
    assert not m.cells and "not a strategy of generation tasks" in m.skipped[0]["why"]


def test_an_entry_says_what_the_strategy_is_crossed_with(monkeypatch, tmp_path, make_run_info):
    import json

    run = tmp_path / "r1"
    run.mkdir()
    (run / "run.json").write_text(json.dumps(make_run_info(student="minilm-l6")))
    monkeypatch.setitem(classification.STRATEGIES, "distilled", Strategy(lambda *a: None, over="runs"))
    monkeypatch.setitem(classification.STRATEGIES, "nearest", Strategy(lambda *a: None, needs_pool=True))
    m = build_matrix(["distilled", "nearest"], ["minilm-l6"], "llamacpp:gemma3-270m", runs=[run], has_pool=False)
    assert [(c.strategy, c.model, c.source) for c in m.cells] == [("distilled", "minilm-l6 (r1)", str(run))]
    assert "workbench generate" in m.skipped[0]["why"] and m.skipped[0]["strategy"] == "nearest"
