"""RoutingService.decide in-process (no AGI): L1 hit, Redis hit, database miss, and the degraded paths.

Run: ``.venv/bin/python -m bench.routing_decide [numbers]`` (default 20,000). Seeds a throw-away PostgreSQL
database server-side (``generate_series``), uses Redis DB 14, prints p50/p99 per path in microseconds.
The end-to-end FastAGI figures are in ``bench/agi_route.py``.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import time

from sqlalchemy import create_engine, text

from bench.databases import throwaway_database
from callrouter.wiring import build_redis
from crm_core.db import make_engine, make_session_factory
from crm_core.metrics import Metrics
from routing.service import RoutingOptions, RoutingService

REDIS = "redis://127.0.0.1:6379/14"
DEAD_REDIS = "redis://127.0.0.1:1/0"


def seed(url: str, n: int) -> list[str]:
    with create_engine(url).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO managers (id, name, login, dial_target, role, active, ring_timeout_s,"
                " created_at, updated_at) SELECT i, 'm'||i, 'm'||i, 'PJSIP/'||(100+i), 'manager',"
                " true, 20, now(), now() FROM generate_series(1, 200) i"
            )
        )
        conn.execute(
            text(
                "INSERT INTO counterparties (id, name, manager_id, status, created_at, updated_at)"
                " SELECT i, 'c'||i, 1 + i % 200, 'regular', now(), now()"
                " FROM generate_series(1, :n) i"
            ),
            {"n": n},
        )
        conn.execute(
            text(
                "INSERT INTO phone_numbers (e164, counterparty_id, created_at)"
                " SELECT '+7900' || lpad(i::text, 7, '0'), i, now() FROM generate_series(1, :n) i"
            ),
            {"n": n},
        )
    return [f"+7900{i:07d}" for i in range(1, n + 1)]


def report(name: str, samples: list[float]) -> None:
    qs = statistics.quantiles(samples, n=100)
    print(f"{name:<34} n={len(samples):>7}  p50={qs[49] * 1e6:8.1f} us  p99={qs[98] * 1e6:8.1f} us")


async def measure(service: RoutingService, numbers: list[str]) -> list[float]:
    samples = []
    for n in numbers:
        started = time.perf_counter()
        await service.decide(n)
        samples.append(time.perf_counter() - started)
    return samples


async def run(url: str, numbers: list[str]) -> None:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    sample = numbers[: min(len(numbers), 5000)]

    async def service(redis_url: str | None, sessions_: object = sessions) -> RoutingService:
        client = build_redis(redis_url, 0.3) if redis_url else None
        svc = RoutingService(sessions_, Metrics(), RoutingOptions(key_prefix="bench:"), client)  # type: ignore[arg-type]
        await svc.start()
        return svc

    a = await service(REDIS)
    await a.invalidate_all()
    report("database miss (L1 and Redis cold)", await measure(a, sample))
    await asyncio.sleep(0.5)
    report("L1 hit", await measure(a, sample * 20))
    b = await service(REDIS)
    report("Redis hit (L1 cold)", await measure(b, sample))
    c = await service(DEAD_REDIS)
    report("Redis down -> database", await measure(c, sample[:2000]))
    dead = make_session_factory(make_engine("postgresql+psycopg2://postgres@127.0.0.1:1/none"))
    d = await service(DEAD_REDIS, dead)
    report("Redis and database down -> default", await measure(d, sample[:2000]))
    for s in (a, b, c, d):
        await s.stop()
    engine.dispose()


def main() -> None:
    logging.disable(logging.WARNING)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with throwaway_database("postgres", migrate=True) as url:
        numbers = seed(url, n)
        asyncio.run(run(url, numbers))


if __name__ == "__main__":
    main()
