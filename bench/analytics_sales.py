"""The analytics page's reports at distributor scale, on SQLite and PostgreSQL.

13,000 counterparties with ~500,000 shipments (the seed of ``bench.analytics``), plus needs, deals with
their stage history, a year of status history and missed calls. Times each report the page asks for, as a
director sees it (everything) and as a controller of 2 of the 12 managers.

Run: ``.venv/bin/python -m bench.analytics_sales [--backend sqlite|postgres|both]``.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from bench.analytics import TODAY, seed
from bench.databases import Backend, throwaway_database
from crm_core.analytics import summaries
from crm_core.analytics.callback_trend import TrendStep, callback_trend
from crm_core.analytics.funnel import FunnelGrouping, funnel_report
from crm_core.analytics.needs import NeedDimension, needs_report
from crm_core.db import make_engine
from crm_core.models import (
    CallDirection,
    CallDisposition,
    CallRecord,
    ClientStatus,
    Counterparty,
    Deal,
    DealStage,
    DealStageName,
    Manager,
    ManagerRole,
    MissedCall,
    MissedReason,
    Need,
    StatusCause,
)
from crm_core.models.client_status import ClientStatusChange
from crm_core.repositories.scoped import Viewer
from crm_core.services import analytics_settings
from crm_core.services.analytics_settings import Thresholds

TZ = "Europe/Moscow"
CHUNK = 10_000
PATHS = [
    (DealStageName.LEAD,),
    (DealStageName.LEAD, DealStageName.QUALIFICATION),
    (DealStageName.LEAD, DealStageName.QUALIFICATION, DealStageName.PROPOSAL),
    (DealStageName.LEAD, DealStageName.QUALIFICATION, DealStageName.PROPOSAL, DealStageName.NEGOTIATION),
    (DealStageName.LEAD, DealStageName.PROPOSAL, DealStageName.WON),
    (DealStageName.LEAD, DealStageName.QUALIFICATION, DealStageName.LOST),
]


def _insert(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(model), rows[start : start + CHUNK])


def _instant(rng: random.Random, days_back: int) -> datetime:
    day = TODAY - timedelta(days=rng.randrange(days_back))
    return datetime.combine(day, day_time(), UTC) + timedelta(minutes=rng.randrange(24 * 60))


def seed_sales(session: Session, counterparties: int, rng: random.Random) -> None:
    """Needs (2 per client), deals (1 per 2 clients, with history), 1 status move per client, missed calls."""
    products = [f"Product {i}" for i in range(40)]
    regions = [f"Region {i}" for i in range(20)]
    ids = list(range(1, counterparties + 1))
    for start in range(0, counterparties, 1000):
        block = ids[start : start + 1000]
        session.execute(
            update(Counterparty)
            .where(Counterparty.id.in_(block))
            .values(region=regions[start // 1000 % len(regions)])
        )
    needs = [
        {
            "counterparty_id": cid,
            "product": rng.choice(products),
            "quantity": Decimal(rng.randrange(1, 1000)),
            "probability": rng.randrange(0, 101),
            "created_at": _instant(rng, 720),
        }
        for cid in ids
        for _ in range(2)
    ]
    _insert(session, Need, needs)
    managers = {cid: 1 + (cid - 1) % 12 for cid in ids}
    deals = [
        {
            "counterparty_id": cid,
            "manager_id": managers[cid],
            "title": "d",
            "stage": rng.choice(PATHS)[-1],
            "created_at": _instant(rng, 365),
        }
        for cid in ids[::2]
    ]
    _insert(session, Deal, deals)
    stages = []
    for deal_id, stage_now, created in session.execute(select(Deal.id, Deal.stage, Deal.created_at)):
        path = next(p for p in PATHS if p[-1] == stage_now)
        stages += [
            {"deal_id": deal_id, "stage": s, "entered_at": created + timedelta(days=3 * n)}
            for n, s in enumerate(path)
        ]
    _insert(session, DealStage, stages)
    statuses = list(ClientStatus)
    _insert(
        session,
        ClientStatusChange,
        [
            {
                "counterparty_id": cid,
                "from_status": rng.choice(statuses),
                "to_status": rng.choice(statuses),
                "day": TODAY - timedelta(days=rng.randrange(365)),
                "cause": StatusCause.RECOMPUTE,
                "at": datetime.now(UTC),
            }
            for cid in ids
        ],
    )
    calls = []
    for n in range(counterparties):
        at = _instant(rng, 365)
        calls.append(
            {
                "pbx_system": "main",
                "linkedid": f"bench.{n}",
                "direction": CallDirection.INBOUND,
                "caller_number": "+79001234567",
                "started_at": at,
                "disposition": CallDisposition.NO_ANSWER,
            }
        )
    _insert(session, CallRecord, calls)
    missed = []
    for record_id, started in session.execute(select(CallRecord.id, CallRecord.started_at)):
        back = started + timedelta(minutes=rng.randrange(1, 600)) if rng.random() < 0.85 else None
        missed.append(
            {
                "call_record_id": record_id,
                "caller_number": "+79001234567",
                "reason": MissedReason.MANAGER_NO_ANSWER,
                "assigned_manager_id": 1 + record_id % 12,
                "created_at": started,
                "called_back_at": back,
            }
        )
    _insert(session, MissedCall, missed)
    session.commit()
    session.execute(text("ANALYZE"))
    session.commit()


def timed(label: str, step: Callable[[], object]) -> None:
    started = time.perf_counter()
    outcome = step()
    print(f"  {label:<44} {time.perf_counter() - started:8.2f} s   {outcome}")


def _reports(
    session: Session, viewer: Viewer, managers: set[int | None] | None, limits: Thresholds
) -> list[tuple[str, Callable[[], str]]]:
    """What the analytics page asks for, as ``viewer``: (label, step printing its result size)."""

    def needs() -> str:
        return f"{len(needs_report(session, viewer, TODAY, TZ, list(NeedDimension)))} groups"

    def funnel() -> str:
        rows = funnel_report(session, viewer, TODAY, TZ, 12, FunnelGrouping.MONTH_MANAGER)
        return f"{len(rows)} rows"

    def distribution() -> str:
        shares = summaries.status_distribution(session, viewer, TODAY, limits)
        return f"{sum(s.clients for s in shares)} clients"

    def transitions() -> str:
        return f"{len(summaries.status_transitions(session, viewer, TODAY, 12))} rows"

    def matrix() -> str:
        cells = summaries.abc_xyz_matrix(session, viewer, TODAY, limits)
        return f"{sum(c.clients for c in cells)} clients"

    def trend() -> str:
        points = callback_trend(session, TODAY, TZ, TrendStep.WEEK, 12, managers)
        return f"{sum(p.missed for p in points)} missed"

    return [
        ("needs by region x manager x product", needs),
        ("funnel, 12 months per month x manager", funnel),
        ("status distribution", distribution),
        ("status transitions, 12 months", transitions),
        ("ABC x XYZ matrix", matrix),
        ("callback trend, 12 weeks", trend),
    ]


def run(backend: str, url: str, counterparties: int, shipments: int) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        started = time.perf_counter()
        seed(session, counterparties, shipments, random.Random(42))
        seed_sales(session, counterparties, random.Random(7))
        controller = Manager(name="Controller", login="controller", role=ManagerRole.CONTROLLER)
        session.add(controller)
        session.flush()
        session.execute(update(Manager).where(Manager.id.in_([1, 2])).values(controller_id=controller.id))
        session.commit()
        print(
            f"{backend}: {counterparties} counterparties, {shipments} shipments, {2 * counterparties} needs"
        )
        print(f"  {'seed (not part of the figures)':<44} {time.perf_counter() - started:8.2f} s")
        limits = analytics_settings.thresholds(session)
        team: set[int | None] = {1, 2, controller.id}
        for who, viewer, managers in (
            ("director", Viewer(0, ManagerRole.DIRECTOR), None),
            ("controller", Viewer(controller.id, ManagerRole.CONTROLLER), team),
        ):
            for label, report in _reports(session, viewer, managers, limits):
                timed(f"{who}: {label}", report)
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
