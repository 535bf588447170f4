"""User story: the errors of an evaluation become the next round of data.

Planted errors (billing messages taken for promo ones, and back) make a plan; `generate
--plan` asks the bundled teacher for exactly those labels, in those amounts, and saves
them with the rows of the version before (a snapshot: training on the latest version
trains on everything).
"""

import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from workbench.generate import GenerateConfig, run_generate
from workbench.generate.filters import normalize
from workbench.next_round import NextRoundPlan
from workbench.store import record_id, save_version

pytestmark = pytest.mark.slow


def test_a_plan_from_planted_errors_drives_the_next_generation_round(tmp_path):
    y_true = ["billing_issue"] * 3 + ["promo_and_gifts"] + ["delivery_status"] * 6
    y_pred = ["promo_and_gifts"] * 3 + ["billing_issue"] + ["delivery_status"] * 6
    plan = NextRoundPlan.build("support_intents", y_true, y_pred, total=8)
    assert plan.labels == {"billing_issue": 4, "promo_and_gifts": 4}
    path = plan.write(tmp_path / "plan.yaml")
    # The version the evaluated model was trained on (rows as a user might save them: fewer columns).
    parent_rows = [{"id": record_id(lab, text), "text": text, "label": lab} for text, lab in [
        ("I was charged twice for my March box", "billing_issue"),
        ("my referral credit never showed up", "promo_and_gifts"),
        ("where is my parcel, tracking is stuck", "delivery_status")]]
    save_version("support_intents", parent_rows, {"teacher": "by hand"})

    result = run_generate(GenerateConfig(task="support_intents", plan=str(path), slots=8, batch_size=16,
                                         progress=False))
    rows = result.version.load().to_list()
    added = rows[len(parent_rows):]
    assert result.version.version == "v002" and [r["text"] for r in rows[:3]] == [r["text"] for r in parent_rows]
    m = result.manifest
    assert (m["parent_version"], m["parent_rows"], m["added"], m["rows"]) == ("v001", 3, len(added), len(rows))
    assert m["plan"] == str(path) and m["parameters"]["targets"] == plan.labels
    per_label = Counter(r["label"] for r in added)
    short = set(result.counts["short_labels"])
    assert set(per_label) <= {"billing_issue", "promo_and_gifts"} and per_label  # nothing unplanned
    for label, wanted in plan.labels.items():
        assert per_label[label] == wanted or (label in short and per_label[label] < wanted), (label, per_label)
    assert result.counts["kept"] == len(added) and result.counts["per_label"] == dict(sorted(per_label.items()))
    assert not {normalize(r["text"]) for r in added} & {normalize(r["text"]) for r in parent_rows}
    assert all(r["teacher"] for r in added) and all(r["teacher"] is None for r in rows[:3])

    # the CLI takes the same plan and returns the version it already made
    out = CliRunner().invoke(__import__("workbench.cli", fromlist=["app"]).app,
                             ["generate", "--task", "support_intents", "--plan", str(path), "--slots", "8",
                              "--batch-size", "16", "--json"])
    assert out.exit_code == 0, out.output[-2000:]
    d = json.loads(out.stdout.strip().splitlines()[-1])
    assert d["reused"] and d["version"] == result.version.version


def test_a_plan_with_an_unknown_label_fails_before_any_work(tmp_path):
    from workbench.cli import app

    (tmp_path / "plan.yaml").write_text("labels:\n  refund_please: 10\n")
    out = CliRunner().invoke(app, ["generate", "--task", "support_intents", "--plan", str(tmp_path / "plan.yaml")])
    assert out.exit_code == 2 and "refund_please" in out.output and "not labels of the task" in out.output
