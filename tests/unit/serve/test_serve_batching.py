"""The micro-batcher: requests waiting together share one call, each gets its own answers, errors reach all."""

from __future__ import annotations

import asyncio
import threading

import pytest

from workbench.serve.batching import MicroBatcher


def test_requests_that_wait_together_share_one_call_and_get_their_own_answers():
    calls, gate = [], threading.Event()

    def upper(texts, params):
        gate.wait(5)
        calls.append(list(texts))
        return [t.upper() for t in texts]

    batcher = MicroBatcher(upper, max_batch=5)

    async def main():
        first = asyncio.ensure_future(batcher.submit(["a"]))
        await asyncio.sleep(0.05)  # the first call is running (held by the gate); the others queue
        rest = [asyncio.ensure_future(batcher.submit([f"b{i}", f"c{i}"])) for i in range(3)]
        await asyncio.sleep(0.05)
        gate.set()
        return await first, await asyncio.gather(*rest)

    first, rest = asyncio.run(main())
    assert first == ["A"] and rest == [["B0", "C0"], ["B1", "C1"], ["B2", "C2"]]
    # the three waiting requests: two fit in max_batch=5 texts, the third makes its own call
    assert calls == [["a"], ["b0", "c0", "b1", "c1"], ["b2", "c2"]]
    batcher.close()


def test_different_params_are_never_mixed_and_a_failing_call_fails_only_its_requests():
    seen = []

    def fn(texts, params):
        seen.append((params, list(texts)))
        if params == "bad":
            raise RuntimeError("model broke")
        return texts

    batcher = MicroBatcher(fn, max_batch=64)

    async def main():
        return await asyncio.gather(batcher.submit(["x"], 8), batcher.submit(["y"], "bad"), batcher.submit(["z"], 8),
                                    return_exceptions=True)

    x, y, z = asyncio.run(main())
    assert x == ["x"] and z == ["z"] and isinstance(y, RuntimeError)
    assert sorted(seen, key=str) == sorted([(8, ["x", "z"]), ("bad", ["y"])], key=str)
    batcher.close()


def test_the_model_runs_off_the_event_loop():
    loop_threads = []

    def fn(texts, params):
        loop_threads.append(threading.current_thread().name)
        return texts

    batcher = MicroBatcher(fn, name="demo")
    assert asyncio.run(batcher.submit(["a"])) == ["a"]
    assert loop_threads[0].startswith("serve-demo")
    batcher.close()


@pytest.mark.parametrize("window", [0.0, 0.02])
def test_a_lone_request_is_answered_with_or_without_a_window(window):
    batcher = MicroBatcher(lambda texts, params: texts, window=window)
    assert asyncio.run(batcher.submit(["only"])) == ["only"]
    batcher.close()
