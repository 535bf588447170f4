"""Case 8: a byte that is not UTF-8 in a seeds file or a task.yaml is one `error:` line naming the
file, the byte's offset and line, and the fix; `tasks validate` with no argument still reports
every task, good or bad; `generate` says the same."""

import shutil
from pathlib import Path

from typer.testing import CliRunner

from workbench.cli import app
from workbench.settings import get_settings

REPO = Path(__file__).resolve().parents[2]


def _prompts(tmp_path, monkeypatch):
    """Both bundled tasks under a prompts folder of their own, seeds and held-out files beside them."""
    prompts, data = tmp_path / "prompts", tmp_path / "data"
    for task in ("support_intents", "support_replies"):
        shutil.copytree(REPO / "prompts" / task, prompts / task)
        shutil.copytree(REPO / "datasets" / task, data / task)
        yaml = prompts / task / "task.yaml"
        yaml.write_text(yaml.read_text().replace("../../datasets/", "../../data/"))
    monkeypatch.setenv("WORKBENCH_PROMPTS_DIR", str(prompts))
    get_settings.cache_clear()
    return prompts, data


def _one_error_line(out, *parts):
    assert isinstance(out.exception, SystemExit), out.exc_info  # not an uncaught UnicodeDecodeError
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output and "UnicodeDecodeError" not in out.output, out.output
    errors = [line for line in out.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, out.output
    for part in parts:
        assert part in errors[0], (part, out.output)
    return errors[0]


def test_a_non_utf8_byte_names_the_file_the_offset_and_the_fix(tmp_path, monkeypatch):
    """Case 8: seeds file and task.yaml, for validate (one task, all tasks) and generate."""
    prompts, data = _prompts(tmp_path, monkeypatch)
    seeds = data / "support_intents" / "seeds.jsonl"
    good = seeds.read_bytes()
    lines = good.count(b"\n")
    seeds.write_bytes(good + '{"text": "caf\xe9 order late", "label": "delivery_status"}\n'.encode("latin-1"))
    runner = CliRunner()

    line = _one_error_line(runner.invoke(app, ["tasks", "validate", "support_intents"]),
                           str(seeds), "field 'seeds'", "byte 0xe9", f"offset {len(good) + 13}",
                           f"line {lines + 1}", "save the file as UTF-8")
    # generate stops at the same place with the same words (before any teacher loads).
    assert _one_error_line(runner.invoke(app, ["generate", "--task", "support_intents", "--n", "4"])) == line

    # With no argument: a line per task, the good one reported too, exit code 2.
    out = runner.invoke(app, ["tasks", "validate"])
    assert isinstance(out.exception, SystemExit) and out.exit_code == 2, out.exc_info
    assert "ok  support_replies" in out.output, out.output
    bad = [ln for ln in out.output.splitlines() if ln.startswith("ERR support_intents:")]
    assert len(bad) == 1 and str(seeds) in bad[0] and "save the file as UTF-8" in bad[0], out.output

    # A task.yaml with a latin-1 byte in a comment.
    seeds.write_bytes(good)
    spec = prompts / "support_replies" / "task.yaml"
    spec.write_bytes(b"# r\xe9ponses\n" + spec.read_bytes())
    _one_error_line(runner.invoke(app, ["tasks", "validate", "support_replies"]),
                    str(spec), "byte 0xe9 at offset 3 (line 1)", "save the file as UTF-8")
    out = runner.invoke(app, ["tasks", "validate", "--json"])
    assert out.exit_code == 2 and '"valid": ["support_intents"]' in out.output, out.output
