"""User story: a team brings its own message log; the student labels it, people review only the
messages worth a look in Argilla, and the next student trains on them and knows what fits no intent.

One module-scoped round on a small copy of clinc_bank (its spec, a 300-message pool with planted
duplicates, a 120-row validation slice) against the local Argilla: import the pool, label, push 30,
review some through the SDK (accept, correct, "none of these"), pull, train a tiny run, predict.
"""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import pytest

from workbench.settings import get_settings

rg = pytest.importorskip("argilla")
pytestmark = pytest.mark.slow

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]
POOL = 300


def _small_clinc(root):
    """prompts/clinc_bank with a 300-message pool (plus an exact and a near copy) and 120 validation rows."""
    data = root / "data"
    shutil.copytree(REPO / "datasets" / "clinc_bank", data)
    texts = [json.loads(line)["text"] for line in (data / "unlabeled.jsonl").read_text().splitlines()][:POOL]
    texts += [texts[0], texts[1].upper() + "  "]  # an exact copy, and one that differs in case and spaces only
    (data / "unlabeled.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    away = (data / "out_of_scope.jsonl").read_text().splitlines()
    (data / "out_of_scope.jsonl").write_text("\n".join(away[:100]) + "\n")
    val = (data / "validation.jsonl").read_text().splitlines()
    (data / "validation.jsonl").write_text("\n".join(val[::5]) + "\n")
    spec_dir = root / "prompts" / "clinc_bank"
    shutil.copytree(REPO / "prompts" / "clinc_bank", spec_dir)
    yaml = (spec_dir / "task.yaml").read_text().replace("../../datasets/clinc_bank/", "../../data/")
    (spec_dir / "task.yaml").write_text(yaml)
    return root / "prompts"


@pytest.fixture(scope="module")
def round_one(module_home, local_argilla, tmp_path_factory):
    """(label result, pull result, train result), made once in a home of the module's own."""
    from workbench.label import LabelConfig, run_label
    from workbench.review import ReviewConfig, run_pull
    from workbench.tasks import load_task
    from workbench.train import TrainConfig, run_train

    prompts = _small_clinc(tmp_path_factory.mktemp("clinc"))
    mp = pytest.MonkeyPatch()
    with module_home("label_home"):
        mp.setenv("WORKBENCH_PROMPTS_DIR", str(prompts))
        mp.setenv("WORKBENCH_ARGILLA_URL", local_argilla.url)
        mp.setenv("WORKBENCH_ARGILLA_API_KEY", local_argilla.credentials().api_key)
        get_settings.cache_clear()
        spec = load_task("clinc_bank")
        from workbench.panels import LabelPanel

        panel = LabelPanel(LabelConfig(task="clinc_bank", budget=10, dataset="clinc-real", progress=False))
        panel.budget.value = 30  # as a person would, in the panel: 30 messages this round
        labelled = panel.run()
        assert panel.last_error is None, panel.log_text()
        client = local_argilla.client()
        dataset = client.datasets("clinc-real", workspace="workbench")
        records = {r.id: r for r in dataset.records(with_suggestions=True)}
        chosen = labelled.record.chosen
        # The reviewer: accepts 8 suggestions, corrects one, says "none of these" to one.
        me = client.me
        answers = {c.id: c.label for c in chosen[:8]}
        other = next(lab for lab in spec.label_names if lab != chosen[8].label)
        answers[chosen[8].id] = other
        answers[chosen[9].id] = "out_of_scope"
        for rid, label in answers.items():
            records[rid].responses.add(rg.Response("label", label, user_id=me.id, status="submitted"))
        dataset.records.log([records[rid] for rid in answers])
        pulled = run_pull(ReviewConfig(task="clinc_bank", dataset="clinc-real", progress=False))
        trained = run_train(TrainConfig(task="clinc_bank", max_steps=4, batch_size=16, progress=False))
        by_student = run_label(LabelConfig(task="clinc_bank", budget=5, model=str(trained.run_dir), push=False,
                                           progress=False))
        # Round two through the pipeline's label stage (its notebook, headless), as `pipeline run` does.
        from workbench.label.result import LabelRecord
        from workbench.notebook import PipelineConfig, run_pipeline

        piped = run_pipeline(PipelineConfig(task="clinc_bank", stages=["label"], progress=False,
                                            parameters={"budget": 30, "argilla_dataset": "clinc-real",
                                                        "interactive": False}))
        second = [p for p in labelled.run_dir.parent.iterdir() if p not in (labelled.run_dir, by_student.run_dir)]
        relabelled = (piped.records["label"], LabelRecord.read(second[0] / "label.json"))
        from workbench.store import latest_version

        pool_counts = latest_version("clinc_bank", "unlabeled").manifest.counts
        yield SimpleNamespace(labelled=labelled, records=records, answers=answers, other=other, pulled=pulled,
                              trained=trained, piped=relabelled[0], second=relabelled[1], panel=panel,
                              pool_counts=pool_counts, spec=spec, prompts=prompts, by_student=by_student)
    mp.undo()
    get_settings.cache_clear()


def test_the_panel_shows_the_confidence_histogram_and_the_intents_sent_to_review(round_one):
    labelled, panel = round_one.labelled, round_one.panel
    assert panel.plot.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "to review" in panel.summary.value and labelled.record.chosen[0].label in panel.summary.value
    assert f"chose 30 of {labelled.record.pool_size} pool messages" in panel.log_text()


def test_the_pool_is_versioned_without_duplicates_and_the_chosen_go_to_argilla(round_one):
    labelled, records, counts = round_one.labelled, round_one.records, round_one.pool_counts
    r = labelled.record
    assert r.pool_version == "v001" and counts.read == POOL + 2 and counts.kept == r.pool_size
    assert counts.exact_duplicates >= 1 and counts.near_duplicates >= 1  # the planted copies, at least
    assert r.model == "embeddings" and r.strategy == "default" and len(r.chosen) == 30
    assert len(set(r.per_label)) >= 20  # spread over the intents, not 30 copies of one confusion
    assert r.pushed == 30 and len(records) == 30
    one = records[r.chosen[0].id]
    assert one.metadata["source"] == "real" and one.metadata["version"] == "v001"
    assert one.suggestions["label"].value == r.chosen[0].label
    assert abs(one.metadata["confidence"] - r.chosen[0].confidence) < 1e-3
    assert (labelled.run_dir / "label.json").is_file()
    assert sum(r.confidence_histogram) == r.pool_size


def test_pull_keeps_the_real_messages_with_their_lineage_and_train_weighs_them(round_one):
    answers, other, pulled, trained = round_one.answers, round_one.other, round_one.pulled, round_one.trained
    rows = {row["id"]: row for row in pulled.version.load()}
    assert set(rows) == set(answers)
    assert all(row["source"] == "real" and row["pool_version"] == "v001" for row in rows.values())
    corrected = [row for row in rows.values() if row["decision"] == "corrected"]
    assert {row["label"] for row in corrected} >= {other, "out_of_scope"}
    assert pulled.version.manifest.pool_versions == ["v001"] and pulled.counts["sources"] == {"real": 10}
    info = trained.info
    assert info.dataset.pool_versions == ["v001"]
    assert info.rows.real == 9 and info.rows.dropped.get("out_of_scope") == 1
    assert info.hyperparameters.real_weight == 2


def test_the_trained_student_abstains_on_messages_that_fit_no_intent(round_one):
    from workbench.train import load_student

    trained = round_one.trained
    student = load_student(trained.run_dir)
    assert student.scope is not None and student.scope.record.validated_on == "validation file"
    away, home = student.predict_scoped(["what is the tallest mountain in europe",
                                         "how much money do i have in my checking account"])
    assert away.out_of_scope and away.label == "out_of_scope" and away.scope_score < student.scope.record.threshold
    assert not home.out_of_scope and home.label != "out_of_scope"
    # The evaluation's figures for such a run, CLINC150's protocol, on 100 held-out rows of each kind
    from workbench.evaluate.classification import out_of_scope_figures

    spec = round_one.spec
    held = spec.heldout_examples()[:100]
    figures = out_of_scope_figures(student.scope, spec, [r["text"] for r in held], [r["label"] for r in held],
                                   [r["label"] for r in held])
    assert 0.9 <= figures["in_scope_accuracy"] <= 1.0  # labels given as right: only the gate costs accuracy
    assert figures["oos_recall"] >= 0.6 and figures["oos_precision"] >= 0.8


def test_the_next_round_from_the_pipeline_skips_what_is_already_in_review(round_one):
    labelled, trained, records, second = round_one.labelled, round_one.trained, round_one.piped, round_one.second
    assert records["pool_version"] == "v001" and records["to_review"] == 30
    # Now a fine-tuned student exists: the better of it and the regression on the validation rows labels.
    compared = second.validation_accuracy
    assert set(compared) == {"embeddings", trained.run_dir.name} and compared[second.model] == max(compared.values())
    first = {c.id for c in labelled.record.chosen}
    again = {c.id for c in second.chosen}
    assert second.excluded == 30 and not first & again and second.pushed == 30
    # Asked for by name, the student labels (its probabilities temperature-scaled on validation).
    by_student = round_one.by_student.record
    assert by_student.model == trained.run_dir.name and len(by_student.chosen) == 5 and by_student.pushed is None


def test_the_cli_labels_saves_pseudo_labels_and_predict_says_out_of_scope(round_one, monkeypatch):
    from typer.testing import CliRunner

    from workbench.cli import app
    from workbench.store import latest_version

    monkeypatch.setenv("WORKBENCH_PROMPTS_DIR", str(round_one.prompts))
    get_settings.cache_clear()
    runner = CliRunner()
    bad = runner.invoke(app, ["label", "--task", "clinc_bank", "--strategy", "smartest", "--no-push"])
    assert bad.exit_code == 2 and "default, margin, cluster, random" in bad.output
    done = runner.invoke(app, ["label", "--task", "clinc_bank", "--budget", "5", "--strategy", "random",
                               "--model", "embeddings", "--no-push", "--pseudo-labels", "--json"])
    assert done.exit_code == 0, done.output
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(out["chosen"]) == 5 and out["pushed"] is None and out["pseudo_labels"] == "pseudo/v001"
    pseudo = latest_version("clinc_bank", "pseudo")
    rows = pseudo.load()
    assert len(rows) == out["pseudo_labelled"] > 0 and set(rows["decided_by"]) == {"model"}
    assert pseudo.manifest.target_precision == 0.95 and not {c["id"] for c in out["chosen"]} & set(rows["id"])
    said = runner.invoke(app, ["predict", "--run", str(round_one.trained.run_dir), "--json",
                               "--text", "what is the tallest mountain in europe"])
    assert said.exit_code == 0, said.output
    answer = json.loads(said.stdout.strip().splitlines()[-1])["predictions"][0]
    assert answer["prediction"] == "out_of_scope" and answer["out_of_scope"] and answer["scope_score"] < 1
