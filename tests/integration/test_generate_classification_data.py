"""User story: generate a synthetic intents dataset with the bundled teacher, offline."""

import json
import subprocess
import sys

import pytest

from workbench.generate import GenerateConfig, run_generate
from workbench.store import latest_version
from workbench.tasks import load_task

pytestmark = pytest.mark.slow


def test_generate_saves_a_balanced_versioned_dataset_with_a_manifest():
    result = run_generate(GenerateConfig(task="support_intents", n=20, slots=16, batch_size=32, progress=False))
    rows = result.version.load()
    m = result.manifest
    labels = set(rows["label"])
    assert len(rows) == 20 and len(labels) == 10
    assert all(rows["label"].count(lab) == 2 for lab in labels)
    assert len(set(rows["id"])) == 20
    seeds = {r["text"].lower() for r in load_task("support_intents").seed_examples}
    assert not {t.lower() for t in rows["text"]} & seeds
    # the manifest accounts for every stage
    c = m["counts"]
    assert c["prompts"] >= 10 and c["parsed"] >= c["valid"] >= c["kept"] == 20
    assert c["parsed"] == sum(c["rejected"].values()) + c["surplus"] + c["kept"]  # every item accounted for
    assert c["per_label"] == {lab: 2 for lab in labels}
    critic = m.critic  # the label-consistency critic judged every candidate; its failures were dropped
    assert critic.checked == critic.passed + critic.failed
    assert critic.dropped == critic.failed == c["rejected"].get("critic", 0)
    assert {"critic_margin", "critic_vote", "critic_pass"} <= set(rows.column_names) and all(rows["critic_pass"])
    assert m["teacher"] == "llamacpp:gemma3-270m?mode=completion"
    assert set(m["template_hashes"]) == {"generate", "generate_chat"}
    assert m["tokens"]["completion"] > 0 and m["wall_seconds"] > 0 and m["parent_version"] is None
    assert m["seed"] == 0 and m["parameters"]["n"] == 20
    assert result.version.path.name == "v001" and (result.version.path / "manifest.json").is_file()

    # the same command again returns the saved version instead of a copy
    again = run_generate(GenerateConfig(task="support_intents", n=20, slots=16, batch_size=32, progress=False))
    assert again.reused and again.version.version == "v001" and latest_version("support_intents").version == "v001"


def test_cli_generate_json_last_line_for_a_generation_task():
    proc = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "generate", "--task", "support_replies", "--n", "6",
         "--slots", "8", "--batch-size", "16", "--json"],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["task"] == "support_replies" and out["version"] == "v001" and out["kept"] >= 1
    rows = latest_version("support_replies").load()
    assert set(rows.column_names) >= {"id", "input", "output", "teacher", "template"}
    assert all(len(o) >= 15 for o in rows["output"])
    manifest = latest_version("support_replies").manifest
    outputs = manifest["counts"]["outputs"]
    assert outputs["inputs"] == len(rows) + outputs["unanswered_inputs"] and manifest["counts"]["kept"] == len(rows)
