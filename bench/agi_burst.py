"""A cold burst: N simultaneous FastAGI requests from N distinct known numbers right after start.

Empty caches: a freshly started ``callrouter serve``.

Run: ``.venv/bin/python -m bench.agi_burst`` (``--help``: sizes, setups). For every setup (PostgreSQL + Redis,
PostgreSQL alone, the embedded default SQLite file) and every N: seed a throw-away database (numbers and
managers as in ``bench.agi_route``), start a fresh ``callrouter serve`` subprocess, wait for ``/health``, then
open N connections at once, each a recorded Asterisk request with its own caller, played by the fake Asterisk
of ``pbx_bridge.agi.client``. Reported: calls routed to the caller's personal manager out of N, degraded
answers (the server's ``callrouter_degraded_answers_total``), failed exchanges, decisions the server made
within the 300 ms deadline (``callrouter_route_decision_seconds``), and p50/p99/max of the time from
connecting to the first ``SET VARIABLE`` as the fake Asterisk sees it (accept queue and the client's own
scheduling included: what a caller waits before Asterisk can dial).
``--server-src DIR`` runs the server from another checkout (the "before" figures of docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import redis
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from bench.agi_route import MANAGERS, TRACE, number, pct, seed
from bench.databases import Backend, throwaway_database
from callrouter.event_loop import new_event_loop
from crm_core.migrations import upgrade
from pbx_bridge.agi.client import AgiExchange, place_request

REDIS_URL = os.environ.get("CALLROUTER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
SETUPS = ("postgres+redis", "postgres", "sqlite")
TEMPLATE_CALLER = b"+79001234511"


def expected_manager(n: int, counterparties: int) -> int:
    """The personal manager of number ``n`` as :func:`bench.agi_route.seed` assigns it."""
    return 1 + (1 + n % counterparties) % MANAGERS


def seed_sqlite(url: str, counterparties: int, numbers: int) -> None:
    """The same data as :func:`bench.agi_route.seed`, with SQLite's recursive CTE for ``generate_series``."""
    upgrade(url)
    series = "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :k) "
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                series + "INSERT INTO managers (id, name, login, dial_target, role, active, ring_timeout_s,"
                " created_at, updated_at) SELECT x, 'Manager ' || x, 'm' || x, 'PJSIP/' || (100 + x),"
                " 'manager', 1, 20, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM g"
            ),
            {"k": MANAGERS},
        )
        conn.execute(
            text(
                series + "INSERT INTO counterparties (id, name, manager_id, status, created_at, updated_at)"
                " SELECT x, 'Counterparty ' || x, 1 + x % :m, 'regular', CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP FROM g"
            ),
            {"m": MANAGERS, "k": counterparties},
        )
        conn.execute(
            text(
                series + "INSERT INTO phone_numbers (id, e164, counterparty_id, created_at)"
                " SELECT x, '+7900' || printf('%07d', x), 1 + x % :n, CURRENT_TIMESTAMP FROM g"
            ),
            {"n": counterparties, "k": numbers},
        )
    engine.dispose()


@contextmanager
def seeded(setup: str, counterparties: int, numbers: int) -> Iterator[str]:
    backend: Backend = "sqlite" if setup == "sqlite" else "postgres"
    with throwaway_database(backend) as url:
        (seed_sqlite if backend == "sqlite" else seed)(url, counterparties, numbers)
        yield url


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    db_url: str, redis_url: str | None, server_src: str | None, instances: int = 1
) -> Iterator[list[tuple[int, int]]]:
    """Fresh ``callrouter serve`` processes (one Redis key prefix, empty caches), started together;
    ``(agi_port, api_port)`` of each once its ``/health`` answers."""
    prefix = f"burst{os.getpid()}x{free_port()}:"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLROUTER_")}
    env.update(
        CALLROUTER_ENV="development",
        CALLROUTER_LOG_LEVEL="ERROR",
        CALLROUTER_DATABASE_URL=db_url,
        CALLROUTER_REDIS_KEY_PREFIX=prefix,
    )
    if redis_url:
        env["CALLROUTER_REDIS_URL"] = redis_url
    if server_src:
        env["PYTHONPATH"] = server_src
    command = [sys.executable, "-c", "from callrouter.cli import main; main()", "serve"]
    ports = [(free_port(), free_port()) for _ in range(instances)]
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as cwd:
        try:
            for agi_port, api_port in ports:
                binds = {
                    "CALLROUTER_API_BIND": f"127.0.0.1:{api_port}",
                    "CALLROUTER_AGI_BIND": f"127.0.0.1:{agi_port}",
                }
                procs.append(subprocess.Popen(command, env=env | binds, cwd=cwd, stdout=subprocess.DEVNULL))
            for proc, (_agi_port, api_port) in zip(procs, ports, strict=True):
                wait_healthy(proc, api_port)
            yield ports
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
            if redis_url:
                client = redis.Redis.from_url(redis_url)
                for key in client.scan_iter(f"{prefix}*"):
                    client.delete(key)
                client.close()


def wait_healthy(proc: subprocess.Popen[bytes], api_port: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{api_port}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("callrouter serve did not start")
        time.sleep(0.05)


@dataclass
class Burst:
    setup: str
    calls: int
    correct: int
    degraded: dict[str, int]
    in_time: int
    failed: int
    first_command: list[float]


async def burst(port: int, blocks: list[bytes]) -> list[AgiExchange | BaseException]:
    """Every request at once, each on its own connection."""
    calls = (place_request("127.0.0.1", port, block, timeout_s=10) for block in blocks)
    return list(await asyncio.gather(*calls, return_exceptions=True))


def server_view(api_port: int) -> tuple[dict[str, int], int]:
    """The server's degraded answers by reason, and its decisions within the 300 ms deadline (the
    ``callrouter_route_decision_seconds`` bucket ``le=0.3``; 0 from a server without that histogram)."""
    body = httpx.get(f"http://127.0.0.1:{api_port}/metrics", timeout=10).text
    degraded, in_time = {}, 0
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if family.name == "callrouter_degraded_answers" and sample.name.endswith("_total"):
                if sample.value:
                    degraded[sample.labels["reason"]] = int(sample.value)
            elif sample.name == "callrouter_route_decision_seconds_bucket" and sample.labels["le"] == "0.3":
                in_time = int(sample.value)
    return degraded, in_time


def run_burst(setup: str, db_url: str, ns: list[int], counterparties: int, args: argparse.Namespace) -> Burst:
    template = TRACE.read_bytes().split(b"\n\n")[0] + b"\n\n"
    blocks = [template.replace(TEMPLATE_CALLER, number(n).encode()) for n in ns]
    redis_url = REDIS_URL if setup == "postgres+redis" else None
    with serving(db_url, redis_url, args.server_src) as [(agi_port, api_port)]:
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            results = runner.run(burst(agi_port, blocks))
        degraded, in_time = server_view(api_port)
    exchanges = [r for r in results if isinstance(r, AgiExchange) and r.first_command_s is not None]
    correct = sum(
        r.variables.get("ROUTE_MANAGER_ID") == str(expected_manager(n, counterparties))
        for n, r in zip(ns, results, strict=True)
        if isinstance(r, AgiExchange)
    )
    return Burst(
        setup,
        len(ns),
        correct,
        degraded,
        in_time,
        len(ns) - len(exchanges),
        [r.first_command_s for r in exchanges if r.first_command_s is not None],
    )


def report(results: list[Burst]) -> None:
    print(
        f"{'setup':16} {'N':>5} {'correct':>8} {'degraded':>8} {'failed':>6} {'in 300ms':>8}"
        f" {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}  degraded by reason"
    )
    for r in results:
        times = r.first_command or [float("nan")]
        reasons = " ".join(f"{k}={v}" for k, v in sorted(r.degraded.items()))
        print(
            f"{r.setup:16} {r.calls:5d} {r.correct:8d} {sum(r.degraded.values()):8d}"
            f" {r.failed:6d} {r.in_time:8d}"
            f" {pct(times, 0.5):7.1f} {pct(times, 0.99):7.1f} {max(times) * 1000:7.1f}  {reasons}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[100, 500, 1000], help="burst sizes N")
    parser.add_argument("--setups", nargs="+", choices=SETUPS, default=list(SETUPS))
    parser.add_argument("--counterparties", type=int, default=13_000)
    parser.add_argument("--numbers", type=int, default=40_000)
    parser.add_argument("--server-src", help="run callrouter serve from this source tree (PYTHONPATH)")
    args = parser.parse_args()
    rng = random.Random(9)
    results: list[Burst] = []
    for setup in args.setups:
        with seeded(setup, args.counterparties, args.numbers) as db_url:
            for n in args.calls:
                picked = rng.sample(range(1, args.numbers + 1), n)
                results.append(run_burst(setup, db_url, picked, args.counterparties, args))
                report(results[-1:])
    print()
    report(results)
    print("time = connect to the first SET VARIABLE as the fake Asterisk sees it; deadline 300 ms")


if __name__ == "__main__":
    main()
