"""A sink that records what the AMI client hands over, client settings tuned for fast tests, and a
check that a client stops promptly."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from pbx_bridge.ami.client import AmiClient
from pbx_bridge.ami.link import AmiLinkConfig

STOP_BOUND = 0.3  # seconds: stop() must return well under a second, whatever the link is doing


class RecordingSink:
    """Implements ``AmiEventSink``; ``delay`` makes it slow, ``fail_on`` makes it raise on an event name."""

    def __init__(self, delay: float = 0.0, fail_on: str | None = None) -> None:
        self.delay, self.fail_on = delay, fail_on
        self.events: list[dict[str, str]] = []
        self.snapshots: list[list[dict[str, str]]] = []
        self.log: list[str] = []  # "event" / "snapshot", in the order they were handled
        self.pbxs: Counter[str] = Counter()  # events handled per PBX

    async def handle(self, pbx: str, message: Mapping[str, str]) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if message.get("Event") == self.fail_on:
            raise RuntimeError(f"sink refuses {self.fail_on}")
        self.events.append(dict(message))
        self.log.append("event")
        self.pbxs[pbx] += 1

    async def handle_batch(self, pbx: str, messages: Sequence[Mapping[str, str]]) -> int:
        """Each event in turn; one that fails is counted and does not stop the others."""
        failed = 0
        for message in messages:
            try:
                await self.handle(pbx, message)
            except RuntimeError:
                failed += 1
        return failed

    async def reconcile(
        self, pbx: str, live_channels: Sequence[Mapping[str, str]], continuous: bool = False
    ) -> None:
        self.snapshots.append([dict(c) for c in live_channels])
        self.log.append("snapshot")


def fast_config(port: int, **overrides: Any) -> AmiLinkConfig:
    """A link to the stand-in with timeouts short enough for tests."""
    values: dict[str, Any] = {
        "pbx": "main",
        "host": "127.0.0.1",
        "port": port,
        "username": "bridge",
        "secret": "bridge-secret",
        "connect_timeout": 1.0,
        "action_timeout": 0.5,
        "ping_interval": 0.1,
        "ping_timeout": 0.2,
        "backoff_initial": 0.05,
        "backoff_max": 0.2,
    }
    values.update(overrides)
    return AmiLinkConfig(**values)


async def wait_until(predicate: Any, timeout: float = 3.0) -> None:
    """Poll ``predicate()`` until true; fail the test after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


def ami_tasks() -> list[asyncio.Task[Any]]:
    """The AMI clients' tasks still alive (all of them are named ``ami-*``)."""
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("ami-") and not t.done()]


async def stop_promptly(client: AmiClient) -> float:
    """Stop ``client``; fail unless it returned within :data:`STOP_BOUND` with every task ended."""
    started = time.perf_counter()
    await client.stop()
    elapsed = time.perf_counter() - started
    assert elapsed < STOP_BOUND, f"stop() took {elapsed:.3f} s"
    assert not ami_tasks()
    assert not client.running and not client.state.connected and not client.state.logged_in
    return elapsed
