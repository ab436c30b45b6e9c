"""A fake Asterisk speaking FastAGI to the real server over real TCP, and the recorded request blocks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from crm_core.metrics import Metrics
from pbx_bridge.agi.client import AgiExchange
from pbx_bridge.agi.server import AgiLimits, FastAgiServer
from routing.decision import RouteDecision, RouteKind, RouteStep

DEFAULT = RouteDecision(RouteKind.DEFAULT, (RouteStep("Local/reception@agents", 30),), reason="default")
# Small limits so the fault tests finish quickly.
TEST_LIMITS = AgiLimits(header_timeout_s=0.3, reply_timeout_s=0.3, drain_timeout_s=0.3, max_line_bytes=2048)


def load_trace_blocks(traces_dir: Path) -> dict[str, bytes]:
    """Every recorded FastAGI request block, byte for byte (``agi_*`` lines and the blank line).

    Keyed ``<file>#<n>``; a ``.agi`` file holds one block per connection, each followed by ``#`` notes.
    """
    blocks: dict[str, bytes] = {}
    for path in sorted([*traces_dir.glob("*.agi"), *traces_dir.glob("sip/*.agi")]):
        chunks = [c for c in path.read_bytes().split(b"\n\n") if c.startswith(b"agi_")]
        for n, chunk in enumerate(chunks):
            blocks[f"{path.relative_to(traces_dir)}#{n}"] = chunk + b"\n\n"
    return blocks


Replier = Callable[[int, str], bytes | None]


def always_ok(_index: int, _command: str) -> bytes:
    return b"200 result=1\n"


@dataclass
class Session(AgiExchange):
    """What the fake Asterisk saw: the commands, the variables they set, whether the server closed."""

    closed_by_server: bool = False


async def fake_asterisk(
    port: int, block: bytes, reply: Replier = always_ok, *, read_timeout: float = 5.0
) -> Session:
    """Send ``block`` and answer each command with ``reply(i, command)`` (None: stop answering, wait)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    session = Session()
    try:
        writer.write(block)
        await writer.drain()
        while True:
            line = await asyncio.wait_for(reader.readline(), read_timeout)
            if not line:
                session.closed_by_server = True
                return session
            command = line.decode().rstrip("\n")
            session.record(command)
            answer = reply(len(session.commands) - 1, command)
            if answer is None:
                continue
            writer.write(answer)
            await writer.drain()
    finally:
        writer.close()


@dataclass
class RunningServer:
    server: FastAgiServer
    metrics: Metrics

    @property
    def port(self) -> int:
        return self.server.port

    def count(self, name: str, **labels: str) -> float:
        """A sample of one of the server's metrics (0 when never incremented)."""
        value = self.metrics.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value

    def faults(self) -> dict[str, float]:
        """Every ``agi_faults`` count by kind."""
        return {
            s.labels["kind"]: s.value
            for metric in self.metrics.agi_faults.collect()
            for s in metric.samples
            if s.name.endswith("_total")
        }


StartServer = Callable[..., Awaitable[RunningServer]]
