"""A small micro-batcher: requests that arrive together share one model call, in a worker thread.

Each served model has one :class:`MicroBatcher` and one thread of its own. A request
``await``s :meth:`MicroBatcher.submit` with its texts; when the model is free the batcher
(after waiting ``window`` seconds for more, unless ``max_batch`` texts already wait; 0 by
default) takes every request waiting, up to ``max_batch`` texts, calls the model once in its
thread and hands each request its own slice of the answers.
While that call runs, new requests queue up and form the next call, so under load batches
grow by themselves and a lone request never waits for company. The event loop never runs
the model, so it keeps accepting and answering requests meanwhile. Requests with different
``params`` (a chat request's ``max_tokens``) are never mixed in one call.

One thread per model also means one call at a time: a Hugging Face tokenizer must not be
used from two threads at once ("Already borrowed").

Example:
    >>> batcher = MicroBatcher(lambda texts, params: [t.upper() for t in texts], max_batch=8)
    >>> asyncio.run(batcher.submit(["hi", "there"]))
    ['HI', 'THERE']
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

Call = Callable[[list[str], Hashable], list[Any]]


@dataclass
class _Waiting:
    texts: list[str]
    params: Hashable
    future: asyncio.Future = field(repr=False)


class MicroBatcher:
    """Batches ``fn(texts, params) -> one answer per text`` over the requests waiting for it."""

    def __init__(self, fn: Call, max_batch: int = 64, window: float = 0.0, name: str = "model",
                 on_call: Callable[[int, int], None] | None = None):
        self.fn, self.max_batch, self.window = fn, max_batch, window
        self.on_call = on_call  # (requests, texts) of each model call: the batch-size metric
        self._waiting: list[_Waiting] = []
        self._draining = False
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"serve-{name}")

    async def submit(self, texts: list[str], params: Hashable = None) -> list[Any]:
        """The answers for ``texts``, in order, from a model call shared with whoever else is waiting."""
        loop = asyncio.get_running_loop()
        item = _Waiting(list(texts), params, loop.create_future())
        self._waiting.append(item)
        if not self._draining:
            self._draining = True
            loop.create_task(self._drain())
        return await item.future

    def _take(self) -> list[_Waiting]:
        """The first waiting request and the next ones with its params, up to ``max_batch`` texts."""
        first = self._waiting[0]
        taken, size = [], 0
        for item in self._waiting:
            if item.params != first.params or (taken and size + len(item.texts) > self.max_batch):
                continue
            taken.append(item)
            size += len(item.texts)
        self._waiting = [w for w in self._waiting if w not in taken]
        return taken

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                if self.window and sum(len(w.texts) for w in self._waiting) < self.max_batch:
                    await asyncio.sleep(self.window)  # let requests on their way join this call
                batch = [w for w in self._take() if not w.future.done()]  # a client that left is skipped
                if not batch:
                    continue
                texts = [t for w in batch for t in w.texts]
                if self.on_call:
                    self.on_call(len(batch), len(texts))
                try:
                    answers = await loop.run_in_executor(self._thread, self.fn, texts, batch[0].params)
                except Exception as exc:  # the model failed: every request of this call gets the error
                    for w in batch:
                        if not w.future.done():
                            w.future.set_exception(exc)
                    continue
                start = 0
                for w in batch:
                    if not w.future.done():
                        w.future.set_result(answers[start:start + len(w.texts)])
                    start += len(w.texts)
        finally:
            self._draining = False

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)
