"""Escalation worker: latency from a committed missed call to its step-0 send, and outbox throughput.

    .venv/bin/python -m bench.escalation_latency [--pg-url postgresql+psycopg2://postgres@127.0.0.1:5432/test]

Runs on a throw-away SQLite file (the embedded default) and, with ``--pg-url``, on a throw-away PostgreSQL
database created next to that URL. The worker runs with its production defaults (1 s poll, database clock)
and a channel that only records when each message arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from bench.databases import throwaway_database
from crm_core.db import make_engine, make_session_factory
from crm_core.models import CallDirection, CallDisposition, CallRecord, Manager, MissedCall, MissedReason
from crm_core.services.escalation import PolicyStep, Recipient, set_policy
from crm_core.services.notification_outbox import OutgoingMessage
from pbx_bridge.notifications.worker import EscalationWorker, WorkerConfig


class ArrivalChannel:
    name = "email"

    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}

    def address_for(self, recipient: Recipient) -> str | None:
        return "bench@example.com"

    async def send(self, message: OutgoingMessage) -> str | None:
        self.arrivals[message.missed_call_id] = time.perf_counter()
        return None


def add_missed(sessions: sessionmaker[Session], manager_id: int, n: int) -> int:
    with sessions.begin() as s:
        now = datetime.now(UTC)
        rec = CallRecord(
            pbx_system="bench",
            linkedid=f"b.{n}",
            direction=CallDirection.INBOUND,
            started_at=now,
            disposition=CallDisposition.NO_ANSWER,
            caller_number="+79160000000",
        )
        s.add(rec)
        s.flush()
        mc = MissedCall(
            call_record_id=rec.id,
            caller_number="+79160000000",
            reason=MissedReason.BUSY,
            assigned_manager_id=manager_id,
            created_at=now,
            last_attempt_at=now,
        )
        s.add(mc)
        s.flush()
        return mc.id


async def measure(url: str, calls: int, burst: int) -> tuple[list[float], float]:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions.begin() as s:
        set_policy(s, [PolicyStep(0, ("assigned_manager",), ("email",))])
        manager = Manager(name="Bench", login=f"bench-{uuid.uuid4().hex[:6]}")
        s.add(manager)
        s.flush()
        manager_id = manager.id
    channel = ArrivalChannel()
    worker = EscalationWorker(
        sessions, [channel], WorkerConfig(public_base_url="http://bench", timezone="UTC")
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    committed: dict[int, float] = {}
    for n in range(calls):  # one at a time, at a pace unrelated to the poll interval
        mc = await asyncio.to_thread(add_missed, sessions, manager_id, n)
        committed[mc] = time.perf_counter()
        await asyncio.sleep(0.137)
    while len(channel.arrivals) < calls:
        await asyncio.sleep(0.05)
    latencies = [channel.arrivals[i] - t for i, t in committed.items()]
    ids = [await asyncio.to_thread(add_missed, sessions, manager_id, calls + n) for n in range(burst)]
    start = time.perf_counter()
    while not all(i in channel.arrivals for i in ids):
        await asyncio.sleep(0.01)
    throughput = burst / (time.perf_counter() - start)
    stop.set()
    await task
    engine.dispose()
    return latencies, throughput


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg-url")
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--burst", type=int, default=500)
    args = parser.parse_args()
    print("| backend | commit -> send p50 s | p95 s | max s | burst deliveries/s |")
    print("|---|---|---|---|---|")
    for backend, pg in (("SQLite", None), ("PostgreSQL", args.pg_url)):
        if backend == "PostgreSQL" and pg is None:
            continue
        with throwaway_database("sqlite" if pg is None else "postgres", migrate=True, admin_url=pg) as url:
            lat, rate = asyncio.run(measure(url, args.calls, args.burst))
        q = statistics.quantiles(lat, n=20)
        print(f"| {backend} | {statistics.median(lat):.2f} | {q[18]:.2f} | {max(lat):.2f} | {rate:.0f} |")


if __name__ == "__main__":
    main()
