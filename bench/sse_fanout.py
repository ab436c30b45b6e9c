"""Live updates: how fast a new missed call reaches N connected Server-Sent Events streams.

    .venv/bin/python -m bench.sse_fanout [--clients 200] [--strangers 50] [--rounds 5] [--redis-url URL]
        [--backend postgres|sqlite]

A real ``callrouter serve`` runs in a child process (a throw-away PostgreSQL database by default, Redis
for live events). This
process opens ``--clients`` streams that may see the call (its manager and directors) and ``--strangers``
streams of other managers, then plays the real AMI trace ``b`` (a call nobody answers) through the
call-tracking sink as another instance would: the missed call is committed, published through Redis and
fanned out by the server. Measured per stream: commit (publish) -> the event's data line read by the
client, and the time until the last stream had it. Strangers must receive nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.databases import throwaway_database
from callrouter.api.security import issue_access_token
from callrouter.live.bus import RedisEventBus
from callrouter.live.hub import EventHub
from callrouter.settings import DEVELOPMENT_API_KEY, Settings
from callrouter.wiring import Container
from crm_core.db import make_engine, make_session_factory
from crm_core.events import DomainEvent
from crm_core.metrics import Metrics
from crm_core.models import Manager, ManagerRole
from pbx_bridge.ami.call_tracking_sink import CallTrackingSink
from pbx_bridge.ami.parser import parse_messages

TRACE = Path(__file__).resolve().parent.parent / "tests" / "asterisk-traces" / "b.ami"
LINKED_PREFIX = "1795875461."
CALLER = "+79001234568"


class TimedBus(RedisEventBus):
    """The Redis bus, noting when each missed call was published (right after its commit)."""

    published: dict[int, float]

    def publish(self, event: DomainEvent) -> None:
        if event.name == "missed-call" and event.data.get("action") == "opened":
            self.published[int(event.data["missed_call"]["id"])] = time.perf_counter()
        super().publish(event)


@dataclass
class Stream:
    token: str
    arrivals: dict[int, float] = field(default_factory=dict)
    connected: asyncio.Event = field(default_factory=asyncio.Event)


async def read_stream(http: httpx.AsyncClient, stream: Stream) -> None:
    headers = {"Authorization": f"Bearer {stream.token}"}
    async with http.stream("GET", "/api/v1/events", headers=headers) as response:
        response.raise_for_status()
        event = ""
        async for line in response.aiter_lines():
            if line.startswith(": connected"):
                stream.connected.set()
            elif line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "missed-call" and '"opened"' in line:
                missed_id = int(line.split('"id":', 1)[1].split(",", 1)[0])
                stream.arrivals[missed_id] = time.perf_counter()


def round_frames(frames: list[Mapping[str, str]], n: int) -> list[dict[str, str]]:
    """Trace ``b`` as a new call: its ids shifted by ``n`` seconds and a caller of its own."""
    shifted = f"{int(LINKED_PREFIX[:-1]) + n}."
    caller = f"+7900{n:07d}"
    return [
        {k: v.replace(LINKED_PREFIX, shifted).replace(CALLER, caller) for k, v in frame.items()}
        for frame in frames
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(url: str, clients: int, strangers: int) -> tuple[list[int], list[int]]:
    """The rung manager and directors (who see the call), and other managers (who do not)."""
    sessions = make_session_factory(make_engine(url))
    with sessions.begin() as s:
        m2 = Manager(name="M2", login="m2", dial_target="Local/noanswer-m2@agents")
        directors = [Manager(name=f"D{i}", login=f"d{i}", role=ManagerRole.DIRECTOR) for i in range(9)]
        others = [Manager(name=f"O{i}", login=f"o{i}") for i in range(max(1, strangers))]
        s.add_all([m2, *directors, *others])
        s.flush()
        seeing = [m2.id, *(directors[i % len(directors)].id for i in range(clients - 1))]
        return seeing, [o.id for o in others][:strangers]


async def wait_ready(base: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base) as http:
        while True:
            try:
                if (await http.get("/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            await asyncio.sleep(0.1)


async def measure(url: str, redis_url: str, clients: int, strangers: int, rounds: int) -> dict[str, float]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    seeing, others = seed(url, clients, strangers)
    port = free_port()
    env = {
        **os.environ,
        "CALLROUTER_ENV": "development",
        "CALLROUTER_DATABASE_URL": url,
        "CALLROUTER_REDIS_URL": redis_url,
        "CALLROUTER_REDIS_KEY_PREFIX": prefix,
        "CALLROUTER_API_BIND": f"127.0.0.1:{port}",
        "CALLROUTER_AGI_BIND": f"127.0.0.1:{free_port()}",
        "CALLROUTER_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-c", "from callrouter.cli import main; main()", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base)
        streams = [Stream(issue_access_token(DEVELOPMENT_API_KEY, m)) for m in seeing]
        strange = [Stream(issue_access_token(DEVELOPMENT_API_KEY, m)) for m in others]
        limits = httpx.Limits(max_connections=len(streams) + len(strange) + 10)
        timeout = httpx.Timeout(30.0, read=None)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as http:
            readers = [asyncio.create_task(read_stream(http, s)) for s in (*streams, *strange)]
            async with asyncio.timeout(60):
                await asyncio.gather(*(s.connected.wait() for s in (*streams, *strange)))
            settings = Settings(env="development", database_url=url, redis_url=redis_url)
            metrics = Metrics()
            bus = TimedBus(redis_url, EventHub(metrics), metrics, prefix=prefix)
            bus.published = {}
            engine = make_engine(url)
            container = Container(
                settings=settings, engine=engine, sessions=make_session_factory(engine), live=bus
            )
            sink = CallTrackingSink(container.sessions, container.metrics)
            frames = parse_messages(TRACE.read_bytes())
            lat: list[float] = []
            last: list[float] = []
            for n in range(1, rounds + 1):
                for frame in round_frames(frames, n):
                    await sink.handle("main", frame)
                missed_id = max(bus.published)
                deadline = time.monotonic() + 10
                while any(missed_id not in s.arrivals for s in streams) and time.monotonic() < deadline:
                    await asyncio.sleep(0.005)
                t0 = bus.published[missed_id]
                arrivals = [s.arrivals[missed_id] - t0 for s in streams if missed_id in s.arrivals]
                if len(arrivals) < len(streams):
                    raise RuntimeError(f"only {len(arrivals)} of {len(streams)} streams got the missed call")
                lat.extend(arrivals)
                last.append(max(arrivals))
                await asyncio.sleep(0.5)
            leaked = sum(len(s.arrivals) for s in strange)
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            await bus.stop()
            engine.dispose()
    finally:
        server.terminate()
        server.wait(15)
    q = statistics.quantiles(lat, n=20)
    return {
        "p50": statistics.median(lat),
        "p95": q[18],
        "last_median": statistics.median(last),
        "last_max": max(last),
        "leaked": float(leaked),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--strangers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument(
        "--redis-url", default=os.environ.get("CALLROUTER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    args = parser.parse_args()
    with throwaway_database(args.backend, migrate=True) as url:
        result = asyncio.run(measure(url, args.redis_url, args.clients, args.strangers, args.rounds))
    ms = {key: value * 1000 for key, value in result.items()}
    print(
        "| streams (+ strangers) | rounds | commit -> stream p50 ms | p95 ms "
        "| all streams had it, median ms | worst round ms | events to strangers |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {args.clients} (+{args.strangers}) | {args.rounds} | {ms['p50']:.0f} | {ms['p95']:.0f} "
        f"| {ms['last_median']:.0f} | {ms['last_max']:.0f} | {result['leaked']:.0f} |"
    )


if __name__ == "__main__":
    main()
