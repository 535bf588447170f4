"""A reviewer logs into the local Argilla's UI in a real browser and labels a record.

Headless Debian Chromium driven by Playwright (no browser download); the SDK then sees the
response the browser submitted. The screenshot is kept under tests/artifacts/.
"""

from __future__ import annotations

import time

import pytest

rg = pytest.importorskip("argilla")

TEXTS = {"ui-0": "Where is my parcel? It has been a week.", "ui-1": "I was charged twice for my beans subscription.",
         "ui-2": "Please refund the grinder, it arrived broken."}


def test_reviewer_submits_a_label_in_the_ui_and_the_sdk_sees_it(local_argilla, browser_page, sign_in, artifacts):
    client = local_argilla.client()
    settings = rg.Settings(fields=[rg.TextField(name="text")],
                           questions=[rg.LabelQuestion("label", ["refund", "shipping", "billing"])],
                           guidelines="Pick the customer's intent.")
    dataset = rg.Dataset(name="ui-review", settings=settings, client=client,
                         workspace=rg.Workspace(name="ui", client=client).create()).create()
    dataset.records.log([rg.Record(id=rid, fields={"text": text},
                                   suggestions=[rg.Suggestion("label", "shipping", score=0.7, agent="teacher")])
                         for rid, text in TEXTS.items()])
    creds = local_argilla.credentials()

    page = browser_page
    sign_in(page, local_argilla.url, creds.username, creds.password)
    page.goto(f"{local_argilla.url}/dataset/{dataset.id}/annotation-mode")

    # The pending queue: three records, one shown, with the teacher's suggestion marked.
    page.get_by_text("1 of 3").wait_for(timeout=30000)
    # The order is shuffled per reviewer; the UI keeps neighbours in the DOM, so ask what is visible.
    shown = next(rid for rid, text in TEXTS.items() if page.get_by_text(text).is_visible())
    page.get_by_text("refund", exact=True).click()
    page.locator("button.button--submit").click()

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        record = next(r for r in dataset.records(with_responses=True) if r.id == shown)
        answers = record.responses["label"]  # a list per question, empty until someone answers
        if answers:
            break
        time.sleep(0.5)
    page.screenshot(path=str(artifacts / "argilla_ui_review.png"), full_page=True)
    assert [(a.value, getattr(a.status, "value", a.status)) for a in answers] == [("refund", "submitted")]
    owner = client.me
    assert str(answers[0].user_id) == str(owner.id)
    # The progress bar moved: one of three submitted.
    page.get_by_text("33.33%").wait_for(timeout=15000)
    assert not page.get_by_text(TEXTS[shown]).is_visible()
