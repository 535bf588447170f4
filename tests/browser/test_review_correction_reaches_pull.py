"""A reviewer corrects the teacher's label in Argilla's UI; the next pull carries the correction."""

from __future__ import annotations

import pytest

from workbench.review import ReviewConfig, run_pull, run_push
from workbench.store import record_id, save_version
from workbench.tasks import load_task

rg = pytest.importorskip("argilla")


def test_a_label_corrected_in_the_ui_is_in_the_next_pull(local_argilla, browser_page, sign_in, artifacts,
                                                         monkeypatch):
    from workbench.settings import get_settings

    monkeypatch.setenv("WORKBENCH_ARGILLA_URL", local_argilla.url)
    monkeypatch.setenv("WORKBENCH_ARGILLA_API_KEY", local_argilla.credentials().api_key)
    get_settings.cache_clear()
    spec = load_task("support_intents")
    seeds = spec.seed_examples[:3]
    rows = [{"id": record_id(s["label"], s["text"]), "text": s["text"], "label": s["label"], "max_similarity": 0.4,
             "chars": len(s["text"])} for s in seeds]
    save_version(spec.name, rows, {"task": spec.name, "teacher": "llamacpp:gemma3-270m"})
    cfg = ReviewConfig(task=spec.name, dataset="ui-correct", progress=False)
    assert run_push(cfg).pushed == 3

    client = local_argilla.client()
    reviewer = rg.User(username="rita", password="rita-pass-123", role="annotator", client=client).create()
    reviewer.add_to_workspace(client.workspaces("workbench"))

    page = browser_page
    sign_in(page, local_argilla.url, "rita", "rita-pass-123")
    dataset = client.datasets("ui-correct", workspace="workbench")
    page.goto(f"{local_argilla.url}/dataset/{dataset.id}/annotation-mode")
    page.get_by_text("1 of 3").wait_for(timeout=30000)
    shown = next(r for r in rows if page.get_by_text(r["text"]).is_visible())
    corrected = next(lab for lab in spec.label_names if lab != shown["label"])
    page.get_by_text(corrected, exact=True).click()
    page.locator("button.button--submit").click()
    page.get_by_text("33.33%").wait_for(timeout=15000)
    page.screenshot(path=str(artifacts / "argilla_ui_correction.png"), full_page=True)

    pulled = run_pull(cfg)
    got = {r["id"]: r for r in pulled.version.load()}
    assert list(got) == [shown["id"]]
    row = got[shown["id"]]
    assert (row["label"], row["suggestion"], row["decision"]) == (corrected, shown["label"], "corrected")
    assert row["reviewers"] == ["rita"] and row["decided_by"] == "human"
    assert pulled.counts["unreviewed"] == 2
