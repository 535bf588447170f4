"""The service over HTTP (in-process, FastAPI's TestClient) with stand-in students: the key, the limits,
the endpoints' answers and refusals, the router, /metrics."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest
from fastapi.testclient import TestClient
from stand_ins import EchoGenerator, KeywordClassifier

from workbench.serve import ServeConfig, ServeError, api_key, build_app

INTENTS = ["billing_issue", "delivery_status"]


@pytest.fixture
def models():
    return {"intents": KeywordClassifier(INTENTS), "replies": EchoGenerator(),
            "router": KeywordClassifier(["intents", "replies"])}


def client(models, **cfg) -> TestClient:
    cfg = ServeConfig(**{"tasks": list(models), **cfg})
    return TestClient(build_app(cfg, models))


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key()}"}


def test_a_missing_or_wrong_key_is_401_and_health_needs_none(models):
    c = client(models)
    body = {"texts": ["a billing_issue"]}
    for headers in ({}, {"Authorization": "Bearer wbs-wrong"}, {"Authorization": api_key()}):
        r = c.post("/v1/tasks/intents/classify", json=body, headers=headers)
        assert r.status_code == 401 and "workbench serve --show-key" in r.json()["detail"]
        assert api_key() not in r.text and r.headers["www-authenticate"] == "Bearer"
    assert c.get("/metrics").status_code == 401 and c.get("/v1/models").status_code == 401
    assert c.get("/health").json() == {"status": "ok", "tasks": 3}
    assert c.post("/v1/tasks/intents/classify", json=body, headers=auth()).status_code == 200
    assert client(models, auth=False).post("/v1/tasks/intents/classify", json=body).status_code == 200


def test_classify_answers_each_text_with_label_probabilities_and_abstained(models):
    r = client(models).post("/v1/tasks/intents/classify", headers=auth(),
                            json={"texts": ["where is it: delivery_status", "charged twice billing_issue"]})
    assert r.status_code == 200
    got = r.json()
    assert got["task"] == "intents" and [x["label"] for x in got["results"]] == ["delivery_status", "billing_issue"]
    assert all(x["abstained"] is False and abs(sum(x["probabilities"].values()) - 1) < 1e-9 for x in got["results"])


def test_limits_are_4xx_with_a_message_naming_what_to_fix(models):
    c = client(models, max_body_bytes=2048, max_texts=3)
    big = {"texts": ["x" * 3000]}
    r = c.post("/v1/tasks/intents/classify", json=big, headers=auth())
    assert r.status_code == 413 and "limit of 2048 bytes" in r.json()["detail"]
    streamed = c.post("/v1/tasks/intents/classify", content=(json.dumps(big)[i:i + 500].encode()
                                                             for i in range(0, 3100, 500)),
                      headers={**auth(), "Content-Type": "application/json"})  # chunked: no Content-Length
    assert streamed.status_code == 413 and "limit of 2048 bytes" in streamed.json()["detail"]
    r = c.post("/v1/tasks/intents/classify", json={"texts": ["fine", "  "]}, headers=auth())
    assert r.status_code == 422 and r.json()["detail"].startswith("texts 2 of 2 is empty")
    r = c.post("/v1/tasks/intents/classify", json={"texts": ["a"] * 4}, headers=auth())
    assert r.status_code == 422 and "4 in one request, more than this server's limit of 3" in r.json()["detail"]
    assert c.post("/v1/tasks/intents/classify", json={"texts": []}, headers=auth()).status_code == 422
    assert c.post("/v1/tasks/intents/classify", json={"text": "a"}, headers=auth()).status_code == 422
    assert models["intents"].calls == []  # nothing refused reached the model


def test_unknown_task_is_404_and_the_wrong_objective_400(models):
    c = client(models)
    r = c.post("/v1/tasks/nope/classify", json={"texts": ["a"]}, headers=auth())
    assert r.status_code == 404 and "served: intents, replies, router" in r.json()["detail"]
    r = c.post("/v1/tasks/replies/classify", json={"texts": ["a"]}, headers=auth())
    assert r.status_code == 400 and "/v1/chat/completions" in r.json()["detail"]
    r = c.post("/v1/chat/completions", json={"model": "intents", "messages": [{"role": "user", "content": "a"}]},
               headers=auth())
    assert r.status_code == 400 and "/v1/tasks/intents/classify" in r.json()["detail"]


def test_chat_completions_answers_the_last_user_message_openai_style(models):
    c = client(models, max_new_tokens=16)
    body = {"model": "replies", "temperature": 0.7, "messages": [
        {"role": "system", "content": "be nice"}, {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"}, {"role": "user", "content": [{"type": "text", "text": "my beans"}]}]}
    r = c.post("/v1/chat/completions", json=body, headers=auth())
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["object"] == "chat.completion" and got["model"] == "replies"
    assert got["choices"][0]["message"] == {"role": "assistant", "content": "echo: my beans"}
    assert models["replies"].calls == [(["my beans"], 16)]
    r = c.post("/v1/chat/completions", json={**body, "max_tokens": 17}, headers=auth())
    assert r.status_code == 422 and "limit of 16" in r.json()["detail"]
    r = c.post("/v1/chat/completions", json={**body, "messages": [{"role": "user", "content": " "}]}, headers=auth())
    assert r.status_code == 422 and r.json()["detail"].startswith("messages[0].content 1 of 1 is empty")
    assert c.post("/v1/chat/completions", json={**body, "stream": True}, headers=auth()).status_code == 400


def test_the_router_picks_a_task_and_returns_both_answers(models):
    c = client(models, router="router")
    r = c.post("/v1/route", json={"text": "for intents: delivery_status please"}, headers=auth())
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["router"] == {"task": "router", "label": "intents", "probability": pytest.approx(0.9)}
    assert got["task"] == "intents" and got["result"]["label"] == "delivery_status" and "reply" not in got
    got = c.post("/v1/route", json={"text": "replies: hello"}, headers=auth()).json()
    assert got["task"] == "replies" and got["reply"] == "echo: replies: hello" and "result" not in got
    assert client(models).post("/v1/route", json={"text": "a"}, headers=auth()).status_code == 404


def test_a_router_label_that_is_not_a_served_task_is_refused_by_name(models):
    with pytest.raises(ServeError, match="not other served tasks: replies; serve them too"):
        build_app(ServeConfig(tasks=["intents", "router"], router="router"),
                  {"intents": models["intents"], "router": models["router"]})
    with pytest.raises(ServeError, match="router 'replies' is an SFT student"):
        build_app(ServeConfig(tasks=list(models), router="replies"), models)


def test_metrics_count_requests_per_task_endpoint_and_status_with_percentiles(models):
    c = client(models)
    for _ in range(3):
        c.post("/v1/tasks/intents/classify", json={"texts": ["a"]}, headers=auth())
    c.post("/v1/tasks/intents/classify", json={"texts": [""]}, headers=auth())
    c.post("/v1/tasks/intents/classify", json={"texts": ["a"]})
    c.post("/v1/tasks/made_up/classify", json={"texts": ["a"]}, headers=auth())
    text = c.get("/metrics", headers=auth()).text

    def value(sample: str) -> float:
        found = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
        assert found, f"{sample} not in\n{text}"
        return float(found.group(1))

    assert value('workbench_serve_requests_total{endpoint="classify",status="200",task="intents"}') == 3
    assert value('workbench_serve_requests_total{endpoint="classify",status="422",task="intents"}') == 1
    assert value('workbench_serve_requests_total{endpoint="classify",status="401",task="intents"}') == 1
    assert value('workbench_serve_requests_total{endpoint="classify",status="404",task="-"}') == 1
    assert value('workbench_serve_latency_seconds_count{endpoint="classify",task="intents"}') == 5
    p50, p99 = (value(f'workbench_serve_latency_seconds{{endpoint="classify",quantile="{q}",task="intents"}}')
                for q in ("0.5", "0.99"))
    assert 0 < p50 <= p99 < 5
    assert "# TYPE workbench_serve_latency_seconds summary" in text
    # a fresh app starts from zero: each app has a registry of its own
    assert "status=\"200\"" not in client(models).get("/metrics", headers=auth()).text


def test_requests_arriving_together_share_a_model_call(models):
    app = build_app(ServeConfig(tasks=list(models)), models)
    intents = models["intents"]
    intents.release.clear()  # hold the first call so the others arrive while it runs

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://serve", headers=auth()) as c:
            sends = [asyncio.ensure_future(c.post("/v1/tasks/intents/classify",
                                                  json={"texts": [f"{INTENTS[i % 2]} {i}"]})) for i in range(6)]
            await asyncio.sleep(0.2)
            intents.release.set()
            return await asyncio.gather(*sends)

    answers = asyncio.run(main())
    assert [r.json()["results"][0]["label"] for r in answers] == [INTENTS[i % 2] for i in range(6)]
    calls = [len(call) for call in intents.calls]
    assert sum(calls) == 6 and len(calls) < 6, calls  # six requests, fewer model calls
    text = asyncio.run(_metrics(app))
    assert f'workbench_serve_batch_requests_count{{task="intents"}} {float(len(calls))}' in text


async def _metrics(app) -> str:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://serve") as c:
        return (await c.get("/metrics", headers=auth())).text
