"""Analytics at distributor scale: 13,000 counterparties with ~500,000 shipments on SQLite and PostgreSQL.

Calls and interactions over the last year feed the forgotten clients; a third of the cards are refined.
Run: ``.venv/bin/python -m bench.analytics [--backend sqlite|postgres|both]``. Prints seconds per step:
the first status recompute (every client moves off ``potential``), the steady daily recompute (nothing
changes), and the ABC/XYZ (12 months), RFM, forgotten-clients and KPI reports.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, text, update
from sqlalchemy.orm import Session

from bench.databases import Backend, throwaway_database
from crm_core.analytics.abc_xyz import abc_xyz_report
from crm_core.analytics.forgotten import forgotten_clients
from crm_core.analytics.kpi import manager_kpis
from crm_core.analytics.period import Period
from crm_core.analytics.rfm import rfm_report
from crm_core.analytics.status import recompute_statuses
from crm_core.db import make_engine
from crm_core.models import (
    CallDirection,
    CallDisposition,
    CallRecord,
    Counterparty,
    Interaction,
    InteractionKind,
    Manager,
    ManagerRole,
    Shipment,
)
from crm_core.repositories.scoped import Viewer

TODAY = date(2024, 6, 30)
EVERYONE = Viewer(0, ManagerRole.ADMIN)  # the whole company, as a director sees it
CHUNK = 10_000


def seed(session: Session, counterparties: int, shipments: int, rng: random.Random) -> None:
    """Managers, counterparties (a fifth never bought) and shipments skewed towards big clients."""
    session.execute(insert(Manager), [{"name": f"Manager {i}", "login": f"m{i}"} for i in range(1, 13)])
    created = datetime(2020, 1, 1, tzinfo=UTC)
    rows = [
        {"name": f"Client {i}", "manager_id": 1 + i % 12, "created_at": created}
        for i in range(counterparties)
    ]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(Counterparty), rows[start : start + CHUNK])
    buyers = list(range(1, int(counterparties * 0.8) + 1))
    weights = [1 / (rank**0.8) for rank in range(1, len(buyers) + 1)]
    first_day = TODAY - timedelta(days=3 * 365)
    batch: list[dict[str, Any]] = []
    for cid in rng.choices(buyers, weights, k=shipments):
        day = first_day + timedelta(days=rng.randrange(3 * 365 + 1))
        amount = Decimal(rng.randrange(1_000, 500_000)) / 100
        batch.append(
            {"counterparty_id": cid, "shipped_on": day, "product": "p", "quantity": 1, "amount": amount}
        )
        if len(batch) == CHUNK:
            session.execute(insert(Shipment), batch)
            batch = []
    if batch:
        session.execute(insert(Shipment), batch)
    seed_contacts(session, counterparties, shipments // 5, rng)
    session.commit()
    session.execute(text("ANALYZE"))  # planner statistics, as autovacuum would have them in production
    session.commit()


def seed_contacts(session: Session, counterparties: int, contacts: int, rng: random.Random) -> None:
    """``contacts`` call records (two thirds answered, inbound or outbound) and as many interactions of
    every kind (notes included) over the last year; a third of the cards refined in that year."""
    first = datetime.combine(TODAY - timedelta(days=365), datetime.min.time(), UTC)

    def moment() -> datetime:
        return first + timedelta(seconds=rng.randrange(365 * 86_400))

    def card() -> int:
        return rng.randrange(1, counterparties + 1)

    dispositions = [CallDisposition.ANSWERED, CallDisposition.ANSWERED, CallDisposition.NO_ANSWER]
    directions = [CallDirection.INBOUND, CallDirection.OUTBOUND]
    for start in range(0, contacts, CHUNK):
        count = min(CHUNK, contacts - start)
        calls = []
        for n in range(start, start + count):
            at = moment()
            calls.append(
                {
                    "pbx_system": "bench",
                    "linkedid": f"{n}.1",
                    "direction": rng.choice(directions),
                    "started_at": at,
                    "disposition": rng.choice(dispositions),
                    "counterparty_id": card(),
                }
            )
        session.execute(insert(CallRecord), calls)
        touches = [
            {"counterparty_id": card(), "kind": rng.choice(list(InteractionKind)), "occurred_at": moment()}
            for _ in range(count)
        ]
        session.execute(insert(Interaction), touches)
    refined = [
        {"id": cid, "refined_at": moment(), "refined_by_id": 1 + cid % 12}
        for cid in range(1, counterparties + 1, 3)
    ]
    for start in range(0, len(refined), CHUNK):
        session.execute(update(Counterparty), refined[start : start + CHUNK])


def timed(label: str, step: Callable[[], object]) -> None:
    started = time.perf_counter()
    outcome = step()
    print(f"  {label:<38} {time.perf_counter() - started:8.2f} s   {outcome}")


def run(backend: str, url: str, counterparties: int, shipments: int) -> None:
    engine = make_engine(url)
    now = datetime.combine(TODAY, datetime.min.time(), UTC)
    year = Period(date(2023, 7, 1), TODAY)
    with Session(engine) as session:
        started = time.perf_counter()
        seed(session, counterparties, shipments, random.Random(42))
        print(f"{backend}: {counterparties} counterparties, {shipments} shipments")
        print(f"  {'seed (not part of the figures)':<38} {time.perf_counter() - started:8.2f} s")

        def recompute() -> str:
            result = recompute_statuses(session, TODAY, now)
            session.commit()
            return f"{result.changed} of {result.total} changed"

        timed("status recompute, first run", recompute)
        timed("status recompute, daily (no change)", recompute)
        timed("ABC/XYZ, 12 months", lambda: f"{len(abc_xyz_report(session, year))} clients")
        timed("RFM, 12 months", lambda: f"{len(rfm_report(session, year))} clients")
        timed(
            "forgotten clients, 90 days",
            lambda: f"{len(forgotten_clients(session, EVERYONE, TODAY, 'UTC'))} clients",
        )
        timed("manager KPIs, 12 months", lambda: f"{len(manager_kpis(session, year, 'UTC'))} managers")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--counterparties", type=int, default=13_000)
    parser.add_argument("--shipments", type=int, default=500_000)
    args = parser.parse_args()
    backends: tuple[Backend, ...] = ("sqlite", "postgres")
    for name in backends:
        if args.backend in (name, "both"):
            with throwaway_database(name, migrate=True) as url:
                run(name, url, args.counterparties, args.shipments)


if __name__ == "__main__":
    main()
