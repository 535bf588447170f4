"""User story: three tiny students (an intent classifier, a reply drafter, a router whose labels are
those two tasks) are served as one HTTP service and answer like the students themselves.

Trained once for the module, tiny (a few steps each): the point is the service, not the models.
One test runs the real server (uvicorn on a free loopback port, called over HTTP); the others
call the app in-process.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from workbench.serve import ServeConfig, api_key, build_app, load_served, serve_in_background
from workbench.store import save_version
from workbench.tasks import load_task
from workbench.train import TrainConfig, load_student, run_train

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
ROUTER = "serve_router"
# Planted: a message for the intent classifier says "Classify:", one for the reply drafter "Draft a reply:".
PLANTED = {"support_intents": ["where is my parcel, it is late", "I was charged twice this month",
                               "please cancel my subscription", "how do I reset my password",
                               "my beans arrived stale", "can I skip the next box"],
           "support_replies": ["my grinder is broken, what now", "the box came open and beans spilled",
                               "can you help me pick a roast", "I moved house last week",
                               "the discount code does not work", "how long do beans keep"]}
PREFIX = {"support_intents": "Classify:", "support_replies": "Draft a reply:"}
SPEC = f"""name: {ROUTER}
type: classification
description: Which of the support students a message is for.
labels:
  - name: support_intents
    description: label the customer's intent
  - name: support_replies
    description: draft a reply to the customer
seeds: seeds.jsonl
templates:
  generate: generate.jinja
quality_bar:
  metric: macro_f1
  min: 0.8
"""


def _router_task(root: Path) -> Path:
    folder = root / "tasks" / ROUTER
    folder.mkdir(parents=True)
    (folder / "task.yaml").write_text(SPEC)
    shutil.copy(REPO / "prompts" / "support_intents" / "generate.jinja", folder)
    rows = [{"text": f"{PREFIX[label]} {text}", "label": label} for label, texts in PLANTED.items() for text in texts]
    (folder / "seeds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder / "task.yaml"


TINY = dict(max_steps=2, batch_size=8, max_length=64, validation_fraction=0.0, progress=False)


@pytest.fixture(scope="module")
def served(module_home):
    """(the three tasks' students loaded by name, as `workbench serve` loads them; their run folders)."""
    with module_home("serve_home") as root:
        intents = load_task("support_intents")
        save_version("support_intents", intents.seed_examples, {"teacher": "seeds-as-synthetic"})
        runs = {"support_intents": run_train(TrainConfig(task="support_intents", student="minilm-l6", **TINY))}
        replies = load_task("support_replies")
        save_version("support_replies", replies.seed_examples, {"teacher": "seeds-as-synthetic"})
        runs["support_replies"] = run_train(TrainConfig(task="support_replies", student="smollm2-135m",
                                                        **{**TINY, "max_steps": 1, "batch_size": 2}))
        router_yaml = _router_task(root)
        save_version(ROUTER, load_task(router_yaml).seed_examples, {"teacher": "seeds-as-synthetic"})
        runs[ROUTER] = run_train(TrainConfig(task=str(router_yaml), student="minilm-l6", **TINY))
        cfg = ServeConfig(tasks=["support_intents", "support_replies"], router=ROUTER, max_new_tokens=8)
        models = load_served(cfg)  # by task name: each task's latest finished run
        yield cfg, models, {t: r.run_dir for t, r in runs.items()}
        for m in models.values():
            m.close()


def headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key()}"}


def test_the_served_classifier_labels_the_heldout_set_as_predict_does(served):
    cfg, models, runs = served
    assert {t: Path(m.source) for t, m in models.items()} == runs  # the latest finished run of each task
    texts = [r["text"] for r in load_task("support_intents").heldout_examples()]
    client = TestClient(build_app(cfg, models))
    r = client.post("/v1/tasks/support_intents/classify", json={"texts": texts}, headers=headers())
    assert r.status_code == 200, r.text
    served_labels = [x["label"] for x in r.json()["results"]]
    assert len(served_labels) == len(texts) == 120
    assert served_labels == load_student(runs["support_intents"]).predict(texts)


def test_the_router_sends_each_planted_message_to_its_task_and_returns_both_answers(served):
    cfg, models, _ = served
    client = TestClient(build_app(cfg, models))
    for task, text in (("support_intents", "Classify: the parcel never came"),
                       ("support_replies", "Draft a reply: my kettle leaks")):
        got = client.post("/v1/route", json={"text": text}, headers=headers()).json()
        router = client.post(f"/v1/tasks/{ROUTER}/classify", json={"texts": [text]}, headers=headers()).json()
        assert got["router"]["label"] == router["results"][0]["label"] == got["task"] == task, got
        assert got["router"]["probability"] == pytest.approx(router["results"][0]["probabilities"][task])
        if task == "support_intents":
            direct = client.post("/v1/tasks/support_intents/classify", json={"texts": [text]}, headers=headers())
            assert got["result"] == direct.json()["results"][0]
        else:
            direct = client.post("/v1/chat/completions", headers=headers(), json={
                "model": "support_replies", "messages": [{"role": "user", "content": text}]})
            assert got["reply"] == direct.json()["choices"][0]["message"]["content"]


def test_the_real_server_answers_over_http_and_never_logs_the_key(served, caplog):
    cfg, models, _ = served
    key = api_key()
    with caplog.at_level(logging.INFO), serve_in_background(cfg.model_copy(update={"port": 0}), models) as server:
        assert server.url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=server.url, timeout=60) as http:
            assert http.get("/health").json()["status"] == "ok"
            refused = http.post("/v1/tasks/support_intents/classify", json={"texts": ["where is my box?"]},
                                headers={"Authorization": "Bearer wbs-not-the-key"})
            assert refused.status_code == 401 and key not in refused.text
            r = http.post("/v1/tasks/support_intents/classify", json={"texts": ["where is my box?"]},
                          headers=server.headers)
            assert r.status_code == 200 and r.json()["results"][0]["label"] in models["support_intents"].labels
            chat = http.post("/v1/chat/completions", headers=server.headers, json={
                "model": "support_replies", "max_tokens": 6,
                "messages": [{"role": "user", "content": "How do I skip my next box?"}]}).json()
            assert isinstance(chat["choices"][0]["message"]["content"], str)
            assert 0 < chat["usage"]["completion_tokens"] <= 6 and chat["usage"]["prompt_tokens"] > 5
            # a key pasted into a URL reaches the access log's request line: it must be masked there
            assert http.get(f"/health?api_key={key}").status_code == 200
            metrics = http.get("/metrics", headers=server.headers).text
    assert re.search(r'workbench_serve_requests_total\{endpoint="classify",status="200",task="support_intents"\} 1',
                     metrics)
    assert re.search(r'workbench_serve_requests_total\{endpoint="chat",status="200",task="support_replies"\} 1',
                     metrics)
    access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("/health?api_key=***" in line for line in access), access
    assert key not in caplog.text and all(key not in r.getMessage() for r in caplog.records)
