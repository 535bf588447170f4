"""The llama.cpp layer below the stages: its shared rules, and that it imports no stage."""

import ast
from pathlib import Path

from workbench.llamacpp import shared_prefix

WORKBENCH = Path(__file__).resolve().parents[2] / "workbench"
STAGES = ("generate", "review", "train", "label", "export", "evaluate", "panels", "cli", "notebook")


def test_a_prompt_keeps_the_prefix_it_shares_with_the_cached_one():
    assert shared_prefix([], [5, 6, 7]) == 0
    assert shared_prefix([1, 2, 3, 9], [1, 2, 3, 4, 5]) == 3
    assert shared_prefix([1, 2], [1, 2, 3]) == 2
    # the same prompt again: its last token is decoded once more, for fresh logits
    assert shared_prefix([1, 2, 3], [1, 2, 3]) == 2
    assert shared_prefix([1, 2, 3, 4], [1, 2]) == 1


def test_the_layer_and_the_registry_import_no_stage():
    for path in [*(WORKBENCH / "llamacpp").glob("*.py"), WORKBENCH / "models.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                parts = name.split(".")
                assert not (parts[0] == "workbench" and len(parts) > 1 and parts[1] in STAGES), (path.name, name)
