"""Analytics at distributor scale: counterparties and shipment lines on SQLite and PostgreSQL.

Run: ``.venv/bin/python -m bench.analytics [--backend sqlite|postgres|both] [--counterparties N]
[--shipments N] [--skip-reports] [--skip-api]``. Defaults: 13,000 counterparties, 500,000 lines.

Data: a fifth of the counterparties never bought; calls (two thirds answered) and interactions of every kind
(a fifth of the line count each) over the last year feed the forgotten clients, a third of the cards refined;
documents of two lines (same client, same day), skewed
towards big clients over three years; 10 % of documents without a number (grouped by sales day), 3 % returns,
1 % zero amounts. PostgreSQL is seeded server-side (``INSERT ... SELECT generate_series``, foreign-key and
change-feed triggers off for the load through ``session_replication_role = replica``, then ``ANALYZE``);
SQLite by ``executemany`` of generated rows.

Each step prints rows, seconds, peak RSS of the process during the step (Linux ``VmHWM`` reset before it
through ``/proc/self/clear_refs``) and the SQL statements it sent. Steps: the first status recompute (most
clients move off ``potential``), the daily steady state (nothing changes), the next day (a few move),
ABC/XYZ, RFM, forgotten clients, KPIs and ``GET /api/v1/analytics/clients`` (first page, whole CSV export,
read as a stream).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, event, insert, text, update
from sqlalchemy.orm import Session, sessionmaker

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
)
from crm_core.repositories.scoped import Viewer

TODAY = date(2024, 6, 30)
SPAN_DAYS = 3 * 365
LINES_PER_DOCUMENT = 2
CHUNK = 10_000
EVERYONE = Viewer(0, ManagerRole.ADMIN)  # the whole company, as a director sees it


class Meter:
    """Counts the statements an engine sends and measures a step's seconds and peak RSS."""

    def __init__(self, engine: Engine) -> None:
        self.statements = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.statements += 1

    def step(self, label: str, work: Callable[[], str]) -> None:
        _reset_peak_rss()
        before, started = self.statements, time.perf_counter()
        outcome = work()
        seconds = time.perf_counter() - started
        print(
            f"  {label:<42} {seconds:8.2f} s  peak RSS {_peak_rss_mb():7.0f} MB"
            f"  {self.statements - before:6d} stmts   {outcome}",
            flush=True,
        )


def _reset_peak_rss() -> None:
    with contextlib.suppress(OSError):  # not Linux: the peak is the process's since start
        Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")


M = 2_147_483_647  # a prime (2^31 - 1): the pseudo-random draws below are (quadratic in the id) mod M


def _draw(column: str, a: int, b: int, c: int) -> str:
    """A deterministic pseudo-random integer in ``[0, M)`` from an id column, the same in both SQL dialects
    (64-bit integer arithmetic), so both backends get identical data and must give identical results."""
    return f"(((({column} * {column}) % {M}) * {a} + {column} * {b} + {c}) % {M})"


def _shipments_select(backend: str, counterparties: int) -> str:
    """Two lines per document: same client, same day; skewed towards low ids (u * u)."""
    buyers = max(1, int(counterparties * 0.8))
    skew = _draw("id", 7919, 104729, 13)
    cp = f"1 + ({buyers} * {skew} / {M}) * {skew} / {M}"
    offset = f"{_draw('id', 3571, 7907, 101)} % {SPAN_DAYS + 1}"
    first = (TODAY - timedelta(days=SPAN_DAYS)).isoformat()
    day = (
        f"DATE '{first}' + ({offset})::int"
        if backend == "postgres"
        else f"date('{first}', '+' || ({offset}) || ' days')"
    )
    kind = f"CASE WHEN {_draw('id', 2203, 911, 7)} % 100 < 3 THEN 'return' ELSE 'sale' END"
    nodoc = f"{_draw('id', 1223, 4513, 17)} % 100 < 10"
    amount = (
        f"CASE WHEN {_draw('id', 977, 331, 3)} % 100 = 0 THEN 0 ELSE 10 + {_draw('id', 61, 89, 5)} % 4990 END"
    )
    return (
        f"SELECT {cp} AS cp, {day} AS day, 'p', 1, {amount} AS amount, {kind}, "
        f"CASE WHEN {nodoc} THEN NULL ELSE 'D' || id END, CASE WHEN {nodoc} THEN NULL ELSE l END "
        "FROM docs CROSS JOIN (SELECT 1 AS l UNION ALL SELECT 2) lines"
    )


def _seed_sql(session: Session, backend: str, counterparties: int, lines: int) -> None:
    """Server-side generation (``generate_series`` on PostgreSQL, a recursive CTE on SQLite)."""
    series = (
        "docs(id) AS (SELECT generate_series(1::bigint, :n))"
        if backend == "postgres"
        else "docs(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM docs WHERE id < :n)"
    )
    with_ = "WITH RECURSIVE " if backend == "sqlite" else "WITH "
    created = datetime(2020, 1, 1, tzinfo=UTC)
    session.execute(
        text(
            f"INSERT INTO counterparties (name, manager_id, status, created_at, updated_at, "
            f"manager_pinned, status_pinned) {with_}{series} "
            "SELECT 'Client ' || id, 1 + id % 12, 'potential', :created, :created, false, false FROM docs"
        ).bindparams(bindparam("created", type_=Counterparty.created_at.type)),
        {"n": counterparties, "created": created},
    )
    session.execute(
        text(
            "INSERT INTO shipments (counterparty_id, shipped_on, product, quantity, amount, kind, "
            f"document_number, line_number) {with_}{series} {_shipments_select(backend, counterparties)}"
        ),
        {"n": lines // LINES_PER_DOCUMENT},
    )


def seed(session: Session, engine: Engine, backend: str, counterparties: int, lines: int) -> str:
    session.execute(
        insert(Manager),
        [{"name": f"Manager {i}", "login": f"m{i}"} for i in range(1, 13)]
        + [{"name": "Director", "login": "director", "role": ManagerRole.DIRECTOR}],
    )
    session.commit()
    if backend == "postgres":  # bulk load: no foreign-key checks nor change-feed triggers per row
        session.execute(text("SET session_replication_role = replica"))
    _seed_sql(session, backend, counterparties, lines)
    if backend == "postgres":
        session.execute(text("SET session_replication_role = DEFAULT"))
    session.commit()
    seed_contacts(session, counterparties, lines // 5, random.Random(42))
    session.commit()
    # planner statistics and hint bits, as autovacuum would have them in production
    if backend == "postgres":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        session.execute(text("ANALYZE"))
        session.commit()
    return "generated in SQL (calls, interactions and refined cards by a seeded generator)"


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


@contextmanager
def _api(url: str, engine: Engine) -> Iterator[Any]:
    """A test client of the real app as the director (sees every client)."""
    from fastapi.testclient import TestClient

    from callrouter.api.app import create_app
    from callrouter.api.security import issue_access_token
    from callrouter.settings import Settings
    from callrouter.wiring import Container

    settings = Settings(env="development", database_url=url)
    container = Container(settings=settings, engine=engine, sessions=sessionmaker(engine))
    with Session(engine) as session:
        director = session.scalars(text("SELECT id FROM managers WHERE login = 'director'")).one()
    headers = {"Authorization": f"Bearer {issue_access_token(settings.signing_key, director)}"}
    with TestClient(create_app(container), headers=headers) as client:
        yield client


def api_steps(meter: Meter, url: str, engine: Engine) -> None:
    with _api(url, engine) as client:
        params = {"as_of": TODAY.isoformat()}

        def first_page() -> str:
            response = client.get("/api/v1/analytics/clients", params={**params, "limit": 50})
            response.raise_for_status()
            return f"{len(response.json()['items'])} of {response.json()['total']} rows"

        def csv_export() -> str:
            size = rows = 0
            with client.stream("GET", "/api/v1/analytics/clients", params={**params, "format": "csv"}) as r:
                r.raise_for_status()
                for chunk in r.iter_bytes():
                    size += len(chunk)
                    rows += chunk.count(b"\n")
            return f"{rows - 1} rows, {size / 1e6:.1f} MB streamed"

        meter.step("GET /analytics/clients, first page", first_page)
        meter.step("GET /analytics/clients?format=csv (all)", csv_export)


def run(backend: str, url: str, counterparties: int, lines: int, reports: bool, api: bool) -> None:
    engine = make_engine(url)
    meter = Meter(engine)
    now = datetime.combine(TODAY, datetime.min.time(), UTC)
    year = Period(date(2023, 7, 1), TODAY)
    with Session(engine) as session:
        print(f"{backend}: {counterparties:,} counterparties, {lines:,} shipment lines", flush=True)
        meter.step(
            "seed + VACUUM/ANALYZE (not in the figures)",
            lambda: seed(session, engine, backend, counterparties, lines),
        )

        def recompute(day: date, at: datetime) -> Callable[[], str]:
            def work() -> str:
                result = recompute_statuses(session, day, at)
                session.commit()
                return f"{result.changed:,} of {result.total:,} changed"

            return work

        meter.step("status recompute, first run", recompute(TODAY, now))
        meter.step("status recompute, daily (no change)", recompute(TODAY, now))
        next_day = TODAY + timedelta(days=1)
        meter.step("status recompute, next day", recompute(next_day, now + timedelta(days=1)))
        if reports:
            meter.step("ABC/XYZ, 12 months", lambda: f"{len(abc_xyz_report(session, year)):,} clients")
            meter.step("RFM, 12 months", lambda: f"{len(rfm_report(session, year)):,} clients")
            meter.step(
                "forgotten clients, 90 days",
                lambda: f"{len(forgotten_clients(session, EVERYONE, TODAY, 'UTC')):,} clients",
            )
            meter.step(
                "manager KPIs, 12 months", lambda: f"{len(manager_kpis(session, year, 'UTC'))} managers"
            )
    if api:
        api_steps(meter, url, engine)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--counterparties", type=int, default=13_000)
    parser.add_argument("--shipments", type=int, default=500_000, help="shipment lines")
    parser.add_argument("--skip-reports", action="store_true", help="status recompute only (and the API)")
    parser.add_argument("--skip-api", action="store_true", help="no GET /api/v1/analytics/clients steps")
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}", flush=True)
    backends: tuple[Backend, ...] = ("sqlite", "postgres")
    for name in backends:
        if args.backend in (name, "both"):
            with throwaway_database(name, migrate=True) as url:
                run(name, url, args.counterparties, args.shipments, not args.skip_reports, not args.skip_api)


if __name__ == "__main__":
    main()
