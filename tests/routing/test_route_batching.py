"""The batch loader: identical keys share one request, concurrent keys share one batch, bounded in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from routing.batching import BatchLoader

END = 1e12  # no deadline


class Source:
    """A fake source recording every batch it was asked for; ``gate`` holds the answers back."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.ends: list[float] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail: Exception | None = None
        self.running = 0
        self.most_running = 0

    async def load_many(self, keys: list[str], end: float) -> Mapping[str, str]:
        self.ends.append(end)
        self.batches.append(keys)
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await self.gate.wait()
            if self.fail is not None:
                raise self.fail
            return {k: k.upper() for k in keys if k != "absent"}
        finally:
            self.running -= 1


async def test_concurrent_keys_share_one_batch_and_identical_keys_one_slot() -> None:
    source = Source()
    loader = BatchLoader(source.load_many, max_batch=100, max_in_flight=2)
    keys = [f"k{i}" for i in range(50)] * 2
    assert await asyncio.gather(*(loader.load(k, END) for k in keys)) == [k.upper() for k in keys]
    assert source.batches == [[f"k{i}" for i in range(50)]]


async def test_batches_are_bounded_in_size_and_in_flight() -> None:
    source = Source()
    source.gate.clear()
    loader = BatchLoader(source.load_many, max_batch=10, max_in_flight=2)
    calls = [asyncio.create_task(loader.load(f"k{i}", END)) for i in range(45)]
    await asyncio.sleep(0.01)
    assert [len(b) for b in source.batches] == [10, 10]  # the rest waits for a free slot
    source.gate.set()
    assert await asyncio.gather(*calls) == [f"K{i}" for i in range(45)]
    assert sorted(len(b) for b in source.batches) == [5, 10, 10, 10, 10]
    assert source.most_running == 2


async def test_keys_asked_while_a_batch_runs_go_together_into_the_next() -> None:
    source = Source()
    source.gate.clear()
    loader = BatchLoader(source.load_many, max_batch=100, max_in_flight=1)
    first = asyncio.create_task(loader.load("a", END))
    await asyncio.sleep(0.01)
    later = [asyncio.create_task(loader.load(k, END)) for k in ("b", "c", "d")]
    await asyncio.sleep(0.01)
    source.gate.set()
    assert [await first, *await asyncio.gather(*later)] == ["A", "B", "C", "D"]
    assert source.batches == [["a"], ["b", "c", "d"]]


async def test_a_failed_batch_fails_each_waiter_and_the_next_batch_runs_again() -> None:
    source = Source()
    source.fail = ConnectionError("down")
    loader = BatchLoader(source.load_many)
    results = await asyncio.gather(loader.load("a", END), loader.load("b", END), return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError, ConnectionError]
    source.fail = None
    assert await loader.load("a", END) == "A"
    with pytest.raises(KeyError):
        await loader.load("absent", END)


async def test_a_waiter_giving_up_does_not_cancel_the_shared_request() -> None:
    source = Source()
    source.gate.clear()
    loader = BatchLoader(source.load_many)
    impatient = asyncio.create_task(loader.load("a", END))
    patient = asyncio.create_task(loader.load("a", END))
    await asyncio.sleep(0.01)
    impatient.cancel()
    source.gate.set()
    assert await patient == "A"
    assert impatient.cancelled()
    assert source.batches == [["a"]]


async def test_close_cancels_what_is_in_flight() -> None:
    source = Source()
    source.gate.clear()
    loader = BatchLoader(source.load_many)
    waiting = asyncio.create_task(loader.load("a", END))
    await asyncio.sleep(0.01)
    await loader.close()
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_a_batch_is_bounded_by_the_earliest_deadline_of_its_waiters() -> None:
    source = Source()
    loader = BatchLoader(source.load_many)
    await asyncio.gather(loader.load("a", 30.0), loader.load("b", 10.0), loader.load("a", 20.0))
    assert source.ends == [10.0]
