"""What one app holds (:class:`Service`): the config, the loaded students, a micro-batcher each,
the metrics and the API key; and the checks of a request against the service's limits.

Example:
    >>> service = Service(cfg, load_served(cfg), owned=True)              # doctest: +SKIP
    >>> asyncio.run(service.classify("support_intents", ["where is my box?"]))  # doctest: +SKIP
    [Classified(label='delivery_status', probabilities={...}, abstained=False)]
"""

from __future__ import annotations

from typing import Mapping

from fastapi import Request
from starlette.exceptions import HTTPException

from workbench.serve.batching import MicroBatcher
from workbench.serve.config import ServeConfig
from workbench.serve.keys import api_key
from workbench.serve.metrics import ServeMetrics
from workbench.serve.schemas import Classified
from workbench.serve.students import Served, ServeError
from workbench.train.predict import PredictInputError, check_inputs

CLASSIFY_BATCH = 32  # texts per forward pass: predict()'s default, so a request alone gets predict()'s numbers


class Refused(HTTPException):
    """A request the service will not run: ``status`` and the message that says why."""


class Service:
    """What one app holds: the config, the loaded students, a batcher each, the metrics and the key."""

    def __init__(self, cfg: ServeConfig, served: dict[str, Served], owned: bool):
        self.cfg, self.served, self.owned = cfg, served, owned
        self.key = api_key() if cfg.auth else None
        self.metrics = ServeMetrics()
        self.batchers = {task: MicroBatcher(self._call(s), cfg.max_batch, cfg.batch_window_ms / 1000, task,
                                            on_call=lambda n, t, task=task: self.metrics.batch(task, n, t))
                         for task, s in served.items()}

    @staticmethod
    def _call(served: Served):
        model = served.model
        if served.objective == "classify":
            def classify(texts: list[str], _params) -> list[tuple[str, dict[str, float]]]:
                probs = model.predict_proba(texts, batch_size=CLASSIFY_BATCH)
                return [(max(p, key=p.get), p) for p in probs]

            return classify

        def generate(texts: list[str], max_new_tokens: int) -> list[tuple[str, int | None, int | None]]:
            replies = model.predict(texts, batch_size=min(len(texts), 8), max_new_tokens=max_new_tokens)
            tok = getattr(model, "tokenizer", None)  # usage counts where the student has a tokenizer (cheap)
            if tok is None:
                return [(r, None, None) for r in replies]
            from workbench.train.sft import chat_prompt

            return [(r, len(tok(chat_prompt(tok, t), add_special_tokens=False)["input_ids"]),
                     len(tok(r, add_special_tokens=False)["input_ids"])) for t, r in zip(texts, replies)]

        return generate

    def student(self, task: str, objective: str, request: Request) -> Served:
        served = self.served.get(task)
        if served is None:
            raise Refused(404, f"task {task!r} is not served here; served: {', '.join(self.served)}")
        request.state.serve_task = task
        if served.objective != objective:
            hint = (f"POST /v1/chat/completions with model={task!r}" if served.objective == "sft"
                    else f"POST /v1/tasks/{task}/classify")
            raise Refused(400, f"task {task!r} is served by a{'n SFT' if served.objective == 'sft' else ' classify'} "
                               f"student; use {hint}")
        return served

    def texts(self, texts: list[str], what: str = "texts") -> list[str]:
        if len(texts) > self.cfg.max_texts:
            raise Refused(422, f"{what}: {len(texts)} in one request, more than this server's limit of "
                               f"{self.cfg.max_texts}; send them in several requests")
        if not texts:
            raise Refused(422, f"{what}: empty list; send at least one text")
        try:
            return check_inputs(texts, names=(what, "batch_size"))
        except PredictInputError as err:
            raise Refused(422, str(err)) from None

    def max_tokens(self, asked: int | None) -> int:
        if asked is not None and asked > self.cfg.max_new_tokens:
            raise Refused(422, f"max_tokens {asked} is more than this server's limit of {self.cfg.max_new_tokens}; "
                               "ask for fewer")
        return asked or self.cfg.max_new_tokens

    async def classify(self, task: str, texts: list[str]) -> list[Classified]:
        answers = await self.batchers[task].submit(texts)
        return [Classified(label=label, probabilities=probs) for label, probs in answers]

    async def reply(self, task: str, text: str, max_new_tokens: int) -> tuple[str, int | None, int | None]:
        return (await self.batchers[task].submit([text], max_new_tokens))[0]

    def close(self) -> None:
        for batcher in self.batchers.values():
            batcher.close()
        if self.owned:
            for served in self.served.values():
                served.close()


def check_router(cfg: ServeConfig, served: Mapping[str, Served]) -> None:
    """The router is a served classifier whose every label is another served task."""
    if not cfg.router:
        return
    router = served[cfg.router]
    if router.objective != "classify":
        raise ServeError(f"router {cfg.router!r} is an SFT student; a router is a classification task whose labels "
                         "are the served tasks")
    wrong = [lab for lab in router.labels or [] if lab not in served or lab == cfg.router]
    if wrong:
        raise ServeError(f"router {cfg.router!r} has labels that are not other served tasks: {', '.join(wrong)}; "
                         f"serve them too (--task {' --task '.join(wrong)}) or retrain the router with task "
                         "names as labels")


