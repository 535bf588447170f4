"""A user opens 01_generate.ipynb in JupyterLab, runs it, and generates from the panel.

Real JupyterLab on loopback, real kernel, headless Debian Chromium. Every assertion looks
inside the output area of the panel's cell: the cell's source holds the same words.
"""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.slow


def test_generate_panel_in_jupyterlab_fills_the_sample_table(jupyterlab, browser_page, artifacts):
    try:
        _run_notebook_and_generate(jupyterlab, browser_page, artifacts)
    except Exception:
        browser_page.screenshot(path=str(artifacts / "jupyterlab_generate_panel_failed.png"), full_page=True)
        raise


def _run_notebook_and_generate(jupyterlab, page, artifacts):
    url, token = jupyterlab
    # Start the notebook's kernel first (JupyterLab attaches to the session of that path), so the
    # page never races its own kernel start; wait until it has imported and answers.
    import httpx

    api = httpx.Client(base_url=url, headers={"Authorization": f"token {token}"}, timeout=30)
    session = api.post("/api/sessions", json={"path": "01_generate.ipynb", "type": "notebook",
                                              "kernel": {"name": "python3"}}).json()
    for _ in range(240):
        if api.get(f"/api/kernels/{session['kernel']['id']}").json().get("execution_state") == "idle":
            break
        time.sleep(0.5)
    page.set_default_timeout(60_000)
    page.goto(f"{url}/lab/tree/01_generate.ipynb?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell")
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=120_000)

    page.click(".jp-Notebook")  # focus the notebook, then Run > Run All Cells
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

    # The panel is the output of the cell that builds it: find its Generate button there.
    output = page.locator(".jp-Cell .jp-OutputArea-output").filter(has=page.locator("button:has-text('Generate')"))
    button = output.locator("button:has-text('Generate')")
    button.wait_for(timeout=180_000)
    assert output.count() == 1
    rows = output.locator(".widget-inline-hbox:has(label:has-text('rows')) input")
    rows.fill("8")
    rows.press("Enter")  # the widget syncs its value on Enter
    button.click()

    sample = output.locator("table").first
    sample.locator("tr").nth(1).wait_for(timeout=600_000)  # a header and at least one row of data
    status = output.locator(".widget-html-content").filter(has_text="done: generating")
    status.wait_for(timeout=60_000)
    assert "8 rows" in output.inner_text(), output.inner_text()[:2000]
    texts = sample.locator("tr td:first-child").all_inner_texts()
    assert len(texts) == 8 and all(len(t) >= 12 for t in texts), texts  # min_chars of the task spec
    assert output.locator("text=rejected").count() >= 1
    page.screenshot(path=str(artifacts / "jupyterlab_generate_notebook.png"))
    page.set_viewport_size({"width": 1280, "height": 1500})  # room for the whole panel
    output.screenshot(path=str(artifacts / "jupyterlab_generate_panel.png"))
