"""The HTTP service: :func:`build_app` turns a :class:`ServeConfig` into a FastAPI app.

Endpoints (every one but ``/health`` and the API docs needs ``Authorization: Bearer <key>``
unless the server runs with ``--no-auth``):

- ``GET /health``: ``{"status": "ok", "tasks": N}``.
- ``GET /v1/models``: the served tasks (OpenAI's model list, plus objective, format, labels).
- ``POST /v1/tasks/{task}/classify`` ``{"texts": [...]}``: per text the label, every label's
  probability and ``abstained`` (false until tasks declare out-of-scope).
- ``POST /v1/chat/completions``: OpenAI-compatible, for SFT students (``model`` = the task);
  the last user message is the input, the greedy reply is ``choices[0].message.content``.
- ``POST /v1/route`` ``{"text"}``: the router's pick (label, probability) and that task's answer.
- ``GET /metrics``: Prometheus text (:mod:`workbench.serve.metrics`).

Mistakes are 4xx with ``{"detail": "<what is wrong and the fix>"}``: 401 (no or wrong key),
404 (a task not served), 400 (a task of the other objective, streaming), 413 (body over
``max_body_bytes``), 422 (an empty text, too many texts, a bad body).

Example:
    >>> from fastapi.testclient import TestClient
    >>> client = TestClient(build_app(ServeConfig(tasks=["support_intents"], auth=False)))   # doctest: +SKIP
    >>> client.post("/v1/tasks/support_intents/classify", json={"texts": ["where is my box?"]}).json()  # doctest: +SKIP
    {'task': 'support_intents', 'results': [{'label': 'delivery_status', 'probabilities': {...}, 'abstained': False}]}
"""

from __future__ import annotations

import time
import uuid
from contextlib import asynccontextmanager
from typing import Any, Mapping

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPBearer
from starlette.exceptions import HTTPException

from workbench.serve.config import ServeConfig, is_loopback
from workbench.serve.keys import matches
from workbench.serve.schemas import (ChatRequest, ClassifyRequest, ClassifyResponse, RouteRequest, RouteResponse,
                                     RouterChoice)
from workbench.serve.service import Refused, Service, check_router
from workbench.serve.students import Served, ServeError, load_served
from workbench.train.predict import PredictInputError

PUBLIC = {"/health", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"}

def _endpoint(path: str) -> str:
    for prefix, name in (("/v1/tasks/", "classify"), ("/v1/chat/", "chat"), ("/v1/route", "route"),
                         ("/v1/models", "models")):
        if path.startswith(prefix):
            return name
    return ""


def too_large(limit: int) -> str:
    return f"request body is larger than this server's limit of {limit} bytes; send fewer or shorter texts per request"


class _Guard:
    """Pure ASGI middleware: the key check and the body size limit before anything is read, and the
    per-request metrics. (Starlette's own body limit answers 413 in plain text, and replaces any
    JSON answer with it.)"""

    def __init__(self, app, service: Service):
        self.app, self.service = app, service

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        service, path, started = self.service, scope["path"], time.perf_counter()
        if service.key and path not in PUBLIC:
            headers = dict(scope.get("headers") or [])
            if not matches(headers.get(b"authorization", b"").decode("latin-1"), service.key):
                response = JSONResponse({"detail": "missing or wrong API key: send 'Authorization: Bearer <key>' "
                                                   "(its owner sees it with `workbench serve --show-key`)"},
                                        status_code=401, headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return self._count(scope, path, 401, started)
        limit = service.cfg.max_body_bytes
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:  # told up front: refused before a byte is read
            await JSONResponse({"detail": too_large(limit)}, status_code=413)(scope, receive, send)
            return self._count(scope, path, 413, started)
        status, seen = 500, 0
        scope.setdefault("state", {})

        async def receive_limited():
            # A chunked body has no Content-Length: count as it streams in. The HTTPException
            # passes through FastAPI's body reading to the handler that words it.
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise Refused(413, too_large(limit))
            return message

        async def send_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive_limited, send_status)
        finally:
            self._count(scope, path, status, started)

    def _count(self, scope, path: str, status: int, started: float) -> None:
        endpoint = _endpoint(path)
        if not endpoint:
            return
        task = scope.get("state", {}).get("serve_task")
        if task is None and endpoint == "classify":
            task = path.split("/")[3] if path.count("/") >= 4 else None
        task = task if task in self.service.served else "-"  # callers' typos do not become label values
        self.service.metrics.observe(task, endpoint, status, time.perf_counter() - started)


def build_app(cfg: ServeConfig, models: Mapping[str, Any] | None = None) -> FastAPI:
    """The app serving ``cfg``'s tasks; ``models`` (task -> loaded student or :class:`Served`) skips loading.

    Models given here stay the caller's (not closed on shutdown); models the app loads are its own.
    """
    if not cfg.auth and not is_loopback(cfg.host):
        raise ServeError(f"--no-auth is refused on host {cfg.host!r}: anyone who reaches it could use the models; "
                         "keep the API key, or bind 127.0.0.1")
    if models is None:
        served, owned = load_served(cfg), True
    else:
        served = {t: m if isinstance(m, Served) else Served(t, m, "given") for t, m in models.items()}
        owned = False
        missing = [t for t in cfg.served_tasks() if t not in served]
        if missing:
            raise ServeError(f"no model given for {', '.join(missing)}")
    try:
        check_router(cfg, served)
    except ServeError:
        if owned:
            for s in served.values():
                s.close()
        raise
    service = Service(cfg, served, owned)

    @asynccontextmanager
    async def lifespan(_app):
        yield
        service.close()

    app = FastAPI(title="workbench serve", lifespan=lifespan,
                  dependencies=[Depends(HTTPBearer(auto_error=False))])  # the docs' Authorize button
    app.state.service = service
    app.add_middleware(_Guard, service=service)
    _handlers(app, cfg)
    _routes(app, service)
    return app


def _handlers(app: FastAPI, cfg: ServeConfig) -> None:
    @app.exception_handler(HTTPException)
    async def refused(_request, exc: HTTPException):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(PredictInputError)
    async def bad_input(_request, exc: PredictInputError):
        return JSONResponse({"detail": str(exc)}, status_code=422)


def _routes(app: FastAPI, service: Service) -> None:
    cfg = service.cfg

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "tasks": len(service.served)}

    @app.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> PlainTextResponse:
        from prometheus_client import CONTENT_TYPE_LATEST

        return PlainTextResponse(service.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": t, "object": "model", "owned_by": "workbench",
                                            **{k: v for k, v in s.describe().items() if k != "task"},
                                            "router": t == cfg.router} for t, s in service.served.items()]}

    @app.post("/v1/tasks/{task}/classify", response_model=ClassifyResponse)
    async def classify(task: str, body: ClassifyRequest, request: Request) -> ClassifyResponse:
        service.student(task, "classify", request)
        return ClassifyResponse(task=task, results=await service.classify(task, service.texts(body.texts)))

    @app.post("/v1/chat/completions")
    async def chat(body: ChatRequest, request: Request) -> dict[str, Any]:
        service.student(body.model, "sft", request)
        if body.stream:
            raise Refused(400, "stream=true is not supported: ask without streaming")
        users = [i for i, m in enumerate(body.messages) if m.role == "user"]
        if not users:
            raise Refused(422, "messages: no user message; the last user message is the student's input")
        text = service.texts([body.messages[users[-1]].text()], what=f"messages[{users[-1]}].content")[0]
        limit = service.max_tokens(body.max_completion_tokens or body.max_tokens)
        reply, prompt_tokens, completion_tokens = await service.reply(body.model, text, limit)
        usage = None if prompt_tokens is None else {
            "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}
        cut = completion_tokens is not None and completion_tokens >= limit
        return {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
                "model": body.model, "usage": usage,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                             "finish_reason": "length" if cut else "stop"}]}

    @app.post("/v1/route", response_model=RouteResponse, response_model_exclude_none=True)
    async def route(body: RouteRequest, request: Request) -> RouteResponse:
        if not cfg.router:
            raise Refused(404, "no router is served here: start the server with --router TASK")
        service.student(cfg.router, "classify", request)
        text, limit = service.texts([body.text], what="text")[0], service.max_tokens(body.max_tokens)
        (choice,) = await service.classify(cfg.router, [text])
        chosen = service.served[choice.label]
        answer = RouteResponse(router=RouterChoice(task=cfg.router, label=choice.label,
                                                   probability=choice.probabilities[choice.label]),
                               task=choice.label, objective=chosen.objective)
        if chosen.objective == "classify":
            (answer.result,) = await service.classify(choice.label, [text])
        else:
            answer.reply = (await service.reply(choice.label, text, limit))[0]
        return answer
