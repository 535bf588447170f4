"""Case 11: a `heldout:` that is the seeds file, or shares rows with it, is refused on load,
naming how many rows overlap: the held-out score would be a lie."""

import json

from typer.testing import CliRunner

from workbench.cli import app


def _validate(task_copy):
    out = CliRunner().invoke(app, ["tasks", "validate", str(task_copy)])
    assert isinstance(out.exception, SystemExit) and out.exit_code == 2, out.exc_info
    assert "Traceback" not in out.output
    return out.output.strip()


def _edit(task_copy, old, new):
    spec = task_copy / "task.yaml"
    assert old in spec.read_text()
    spec.write_text(spec.read_text().replace(old, new))


def test_heldout_rows_shared_with_the_seeds_are_refused(task_copy):
    """Case 11: the seeds file as held-out, then 12 seeds copied into the held-out file (case and spacing changed)."""
    _edit(task_copy, "heldout: ../data/heldout.jsonl", "heldout: ../data/seeds.jsonl")
    error = _validate(task_copy)
    assert error.startswith("error: ") and "field 'heldout'" in error and "seeds file itself" in error, error
    assert "held-out score would be a lie" in error

    _edit(task_copy, "heldout: ../data/seeds.jsonl", "heldout: ../data/heldout.jsonl")
    data = task_copy.parent / "data"
    seeds = [json.loads(line) for line in (data / "seeds.jsonl").read_text().splitlines() if line.strip()]
    held = [json.loads(line) for line in (data / "heldout.jsonl").read_text().splitlines() if line.strip()]
    leaked = [{"text": "  " + r["text"].upper() + " ", "label": r["label"]} for r in seeds[:12]]
    (data / "heldout.jsonl").write_text("".join(json.dumps(r) + "\n" for r in held + leaked))
    error = _validate(task_copy)
    assert f"field 'heldout': 12 of its {len(held) + 12} rows are also in the seeds" in error, error
    assert str(data / "seeds.jsonl") in error and "remove them" in error, error
