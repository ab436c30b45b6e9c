"""FastAGI routing under load: the real server over real TCP, fake-Asterisk clients in a second process.

Run: ``.venv/bin/python -m bench.agi_route`` (``--help``: sizes, calls, open-loop rate, concurrency).

Seeds a throw-away PostgreSQL database (server-side ``INSERT ... SELECT generate_series``), then for each
scenario starts a FastAGI server in this process and drives it from a client process that replays a
recorded Asterisk request per call (new TCP connection, headers, ``200 result=1`` to each ``SET VARIABLE``)
at a fixed arrival rate (open loop), plus a closed-loop run at ``--concurrency`` for the sustained maximum.
The cold cache runs both ways: closed loop (saturation) and open loop at ``--cold-rate`` with a fresh service
and numbers never asked before, so every call still misses to PostgreSQL (latency at a given load).

Reported per scenario: the exchange as Asterisk sees it (connect to close: headers, decision and the nine
``SET VARIABLE`` round trips) p50/p99/max, the decision alone (handler) p50/p99, the calls/s achieved, the
degraded answers, and the p50/p99 ratios to the no-lookup floor.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.pool import Pool
from pathlib import Path
from typing import cast

from prometheus_client import Histogram
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy import create_engine, text

from bench.databases import throwaway_database
from callrouter.event_loop import new_event_loop
from crm_core.db import make_engine, make_session_factory
from crm_core.metrics import Metrics
from crm_core.migrations import upgrade
from pbx_bridge.agi.handlers import default_decision, default_handler, routing_handler
from pbx_bridge.agi.protocol import AgiRequest
from pbx_bridge.agi.server import FastAgiServer
from routing.decision import RouteDecision, RouteStep
from routing.service import RoutingOptions, RoutingService

REDIS_URL = os.environ.get("CALLROUTER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
DEAD_REDIS_URL = "redis://127.0.0.1:1/0"
DEAD_PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:1/none?connect_timeout=1"
TRACE = Path(__file__).resolve().parents[1] / "tests" / "asterisk-traces" / "sip" / "s1.agi"
DEADLINE_S = 0.3
DEFAULT = default_decision("PJSIP/reception", 30)
MANAGERS = 200


# -- seeding ------------------------------------------------------------------------------------------


def number(n: int) -> str:
    return f"+7900{n:07d}"


def seed(url: str, counterparties: int, numbers: int) -> float:
    """Managers, counterparties and numbers (number n belongs to counterparty n mod N); seconds taken."""
    started = time.perf_counter()
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO managers (id, name, login, dial_target, role, active, ring_timeout_s,"
                " created_at, updated_at) SELECT g, 'Manager ' || g, 'm' || g, 'PJSIP/' || (100 + g),"
                " 'manager', true, 20, now(), now() FROM generate_series(1, :m) g"
            ),
            {"m": MANAGERS},
        )
        conn.execute(
            text(
                "INSERT INTO counterparties (id, name, manager_id, status, created_at, updated_at)"
                " SELECT g, 'Counterparty ' || g, 1 + g % :m, 'regular', now(), now()"
                " FROM generate_series(1, :n) g"
            ),
            {"m": MANAGERS, "n": counterparties},
        )
        conn.execute(
            text(
                "INSERT INTO phone_numbers (id, e164, counterparty_id, created_at)"
                " SELECT g, '+7900' || lpad(g::text, 7, '0'), 1 + g % :n, now() FROM generate_series(1, :k) g"
            ),
            {"n": counterparties, "k": numbers},
        )
        for table in ("managers", "counterparties", "phone_numbers"):  # later inserts take the next ids
            conn.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


# -- the fake Asterisk (client process) ----------------------------------------------------------------


class _FakeAsterisk(asyncio.Protocol):
    """One call as res_agi plays it: the request block, then one ``200 result=1`` per command line read.

    A protocol rather than streams so the client process spends little CPU per call (it shares the
    machine with the server it measures)."""

    def __init__(self, block: bytes, done: asyncio.Future[bool]) -> None:
        self._block = block
        self._done = done
        self._partial = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._transport.write(self._block)

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        lines = (self._partial + data).count(b"\n")
        self._partial = data[data.rfind(b"\n") + 1 :] if lines else self._partial + data
        if lines:
            self._transport.write(_OK_REPLY * lines)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._done.done():
            self._done.set_result(exc is None)


_OK_REPLY = b"200 result=1\n"


async def one_call(port: int, block: bytes) -> float:
    """One call's exchange in seconds; negative when the server dropped it (counted as failed)."""
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bool] = loop.create_future()
    try:
        await loop.create_connection(lambda: _FakeAsterisk(block, done), "127.0.0.1", port)
        clean = await done
    except ConnectionError:
        return -1.0
    return time.perf_counter() - started if clean else -1.0


async def drive(
    port: int, blocks: list[bytes], rate: float | None, concurrency: int
) -> tuple[list[float], float]:
    """Open loop at ``rate`` calls/s (None: closed loop with ``concurrency`` callers); latencies, wall."""
    latencies: list[float] = []
    started = time.perf_counter()
    if rate is None:
        queue = iter(blocks)

        async def caller() -> None:
            for block in queue:
                latencies.append(await one_call(port, block))

        await asyncio.gather(*(caller() for _ in range(concurrency)))
    else:
        tasks = []
        for i, block in enumerate(blocks):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one_call(port, block)))
        latencies = list(await asyncio.gather(*tasks))
    return latencies, time.perf_counter() - started


def loop_factory(kind: str) -> Callable[[], asyncio.AbstractEventLoop]:
    """``uvloop`` (what ``callrouter serve`` runs on) or the plain ``asyncio`` loop."""
    return new_event_loop if kind == "uvloop" else asyncio.new_event_loop


def client_process(
    port: int, blocks: list[bytes], rate: float | None, concurrency: int
) -> tuple[list[float], float]:
    """The fake Asterisk (a C program in real life): on uvloop so the load generator stays cheap."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(drive(port, blocks, rate, concurrency))


# -- scenarios (server process) ------------------------------------------------------------------------


Handler = Callable[[AgiRequest], Awaitable[RouteDecision]]


@dataclass
class Result:
    name: str
    mode: str
    calls: int
    calls_per_s: float
    exchange: list[float]
    decision: list[float]
    server: list[float]
    degraded: int
    failed: int


class _Samples:
    """Stands in for the server's ``route_latency`` histogram to keep every sample (percentiles)."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def observe(self, value: float) -> None:
        self.values.append(value)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def blocks_for(numbers: list[str], template: bytes) -> list[bytes]:
    return [template.replace(b"+79001234511", n.encode()) for n in numbers]


async def measure(
    name: str,
    handler: Handler,
    blocks: list[bytes],
    rate: float | None,
    concurrency: int,
    pool: Pool,
) -> Result:
    decision_times: list[float] = []
    degraded = 0

    async def timed(request: AgiRequest) -> RouteDecision:
        nonlocal degraded
        started = time.perf_counter()
        decision = await handler(request)
        decision_times.append(time.perf_counter() - started)
        degraded += decision.degraded is not None
        return decision

    metrics, server_times = Metrics(), _Samples()
    metrics.route_latency = cast(Histogram, server_times)  # headers read -> last reply, server side
    server = FastAgiServer(timed, DEFAULT, metrics, deadline_s=DEADLINE_S)
    await server.start("127.0.0.1", 0)
    try:
        pending = pool.apply_async(client_process, (server.port, blocks, rate, concurrency))
        while not pending.ready():
            await asyncio.sleep(0.01)
        latencies, wall = pending.get()
    finally:
        await server.close()
    degraded += int(
        sum(
            s.value
            for m in server.metrics.degraded_answers.collect()
            for s in m.samples
            if s.name.endswith("_total")
        )
    )
    mode = "closed" if rate is None else f"open {rate:g}/s"
    ok = [t for t in latencies if t >= 0]
    failed = len(latencies) - len(ok)
    return Result(
        name, mode, len(ok), len(ok) / wall, ok, decision_times, server_times.values, degraded, failed
    )


def redis_client(url: str) -> Redis:
    return Redis.from_url(
        url, socket_timeout=DEADLINE_S, socket_connect_timeout=DEADLINE_S, retry=Retry(NoBackoff(), 0)
    )


def routing_service(db_url: str, redis_url: str, prefix: str) -> RoutingService:
    engine = make_engine(db_url)
    options = RoutingOptions(
        deadline_s=DEADLINE_S, default_route=RouteStep("PJSIP/reception", 30), key_prefix=prefix
    )
    return RoutingService(make_session_factory(engine), Metrics(), options, redis_client(redis_url))


async def warm(service: RoutingService, numbers: list[str]) -> None:
    for n in numbers:
        await service.decide(n)


def report(results: list[Result]) -> None:
    floors = {r.mode: r for r in results if r.name == "floor (no lookup)"}
    print(
        f"{'scenario':34} {'mode':11} {'calls':>6} {'calls/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}"
        f" {'srv p50':>8} {'srv p99':>8} {'dec p50':>8} {'dec p99':>8} {'degraded':>8} {'failed':>6}"
        f" {'p50/floor':>9} {'p99/floor':>9}"
    )
    for r in results:
        p50, p99, worst = pct(r.exchange, 0.5), pct(r.exchange, 0.99), max(r.exchange) * 1000
        floor = floors.get(r.mode, floors["closed"])
        print(
            f"{r.name:34} {r.mode:11} {r.calls:6d} {r.calls_per_s:8.0f} {p50:7.2f} {p99:7.2f} {worst:7.1f}"
            f" {pct(r.server, 0.5):8.3f} {pct(r.server, 0.99):8.3f}"
            f" {pct(r.decision, 0.5):8.3f} {pct(r.decision, 0.99):8.3f} {r.degraded:8d} {r.failed:6d}"
            f" {p50 / pct(floor.exchange, 0.5):9.2f} {p99 / pct(floor.exchange, 0.99):9.2f}"
        )


async def run(args: argparse.Namespace, db_url: str, pool: Pool) -> list[Result]:
    """Every scenario closed loop; the floor and the warm cache also open loop at ``--rate``, the floor and
    the cold cache (fresh numbers) open loop at ``--cold-rate``."""
    template = TRACE.read_bytes().split(b"\n\n")[0] + b"\n\n"
    rng = random.Random(7)
    picked = [number(n) for n in rng.sample(range(1, args.numbers + 1), 5 * args.calls)]
    hot, cold, cold2, pg_down, cold_open = (picked[i * args.calls : (i + 1) * args.calls] for i in range(5))
    hot_set, unseeded = hot[:2000], [number(args.numbers + 1)]
    cycle = [hot_set[i % len(hot_set)] for i in range(args.calls)]
    prefix = f"bench{os.getpid()}:"
    results: list[Result] = []

    closed: tuple[float | None, ...] = (None,)

    async def bench(name: str, handler: Handler, numbers: list[str], rates: tuple[float | None, ...]) -> None:
        """One run per rate (None: closed loop), all over the same numbers."""
        blocks = blocks_for(numbers, template)
        for rate in rates:
            results.append(await measure(name, handler, blocks, rate, args.concurrency, pool))

    await bench("floor (no lookup)", default_handler(DEFAULT), hot, (None, args.rate, args.cold_rate))
    redis = redis_client(REDIS_URL)
    await redis.set(f"{prefix}key", "x")

    async def redis_get(_request: AgiRequest) -> RouteDecision:
        await redis.get(f"{prefix}key")
        return DEFAULT

    await bench("bare Redis GET", redis_get, hot, closed)

    async def with_service(
        name: str,
        db: str,
        cache: str,
        key: str,
        numbers: list[str],
        warm_up: list[str],
        rates: tuple[float | None, ...] = closed,
    ) -> None:
        service = routing_service(db, cache, prefix + key)
        await service.start()
        for n in warm_up:
            await service.decide(n)
        await asyncio.sleep(0.3)  # let background Redis writes of the warm-up finish
        await bench(name, routing_handler(service), numbers, rates)
        await service.stop()

    await with_service("warm cache (L1)", db_url, REDIS_URL, "warm:", cycle, hot_set, (None, args.rate))
    await with_service(
        "warm Redis (L2), cold L1", db_url, REDIS_URL, "warm:", cycle[: len(hot_set)], unseeded
    )
    await with_service("cold cache (PostgreSQL)", db_url, REDIS_URL, "cold:", cold, unseeded)
    cold_rate = (args.cold_rate,)
    await with_service("cold cache (PostgreSQL)", db_url, REDIS_URL, "cold2:", cold_open, unseeded, cold_rate)
    await with_service("Redis down (cold, PostgreSQL)", db_url, DEAD_REDIS_URL, "x:", cold2, unseeded)
    await with_service("(seeding Redis for the next run)", db_url, REDIS_URL, "pg:", [], pg_down[:2000])
    results = [r for r in results if not r.name.startswith("(")]
    pg_cycle = [pg_down[i % 2000] for i in range(args.calls)]
    await with_service("PostgreSQL down (Redis warm)", DEAD_PG_URL, REDIS_URL, "pg:", pg_cycle, [])
    await with_service("PostgreSQL + Redis down", DEAD_PG_URL, DEAD_REDIS_URL, "y:", cold, [])

    async for key in redis.scan_iter(f"{prefix}*"):
        await redis.delete(key)
    await redis.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counterparties", type=int, default=100_000)
    parser.add_argument("--numbers", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=5_000, help="calls per scenario")
    parser.add_argument("--rate", type=float, default=1_000, help="open-loop arrival rate, calls/s")
    parser.add_argument(
        "--cold-rate", type=float, default=300, help="open-loop arrival rate of the cold run, calls/s"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="callers in the closed-loop runs")
    parser.add_argument(
        "--loop", choices=("uvloop", "asyncio"), default="uvloop", help="server event loop (serve: uvloop)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # degraded answers are counted, not printed per call
    with throwaway_database("postgres") as db_url:  # migrated by seed(), inside the seeding figure
        seconds = seed(db_url, args.counterparties, args.numbers)
        print(f"seeded {args.counterparties:,} counterparties / {args.numbers:,} numbers in {seconds:.1f} s")
        with (
            multiprocessing.get_context("spawn").Pool(1) as pool,
            asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner,
        ):
            results = runner.run(run(args, db_url, pool))
    report(results)
    print(f"deadline {DEADLINE_S * 1000:g} ms; exchange = connect..close as Asterisk sees it; dec = handler")


if __name__ == "__main__":
    main()
