"""The set-based recompute against the written rules on a tricky data set, on SQLite and PostgreSQL.

The expected statuses and history rows come from a plain-Python reading of docs/analytics.md (purchases =
sale documents, or undocumented sales days, with a positive total, nothing after the reference day) fed to
``classify``; the recompute runs inside the database. Two reference days one minute apart around Moscow
midnight move the 90- and 180-day boundaries.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from crm_core.analytics.period import day_in
from crm_core.analytics.status import classify, recompute_statuses
from crm_core.models import ClientStatus, Counterparty, ShipmentKind, StatusCause
from crm_core.models.client_status import ClientStatusChange
from tests.analytics.factories import Crm

S = ClientStatus
TZ = "Europe/Moscow"
BEFORE_MIDNIGHT = datetime(2024, 6, 29, 20, 59, tzinfo=UTC)  # 23:59 in Moscow, June 29
AT_MIDNIGHT = datetime(2024, 6, 29, 21, 0, tzinfo=UTC)  # 00:00 in Moscow, June 30
D0 = day_in(BEFORE_MIDNIGHT, TZ)


class Line(NamedTuple):
    client: str
    age: int  # days before D0 (negative: after it)
    amount: str = "100"
    document: str | None = None
    kind: ShipmentKind = ShipmentKind.SALE


LINES = [
    Line("fresh90", 90),
    Line("old91", 91),
    Line("regular180", 400),
    Line("regular180", 180),
    Line("departed181", 300),
    Line("departed181", 181),
    Line("zero", 10, "0"),
    Line("zero-doc", 10, "0", "Z-1"),
    Line("zero-doc", 10, "0", "Z-1"),
    Line("zero-then-sale", 5, "0", "Z-2"),
    Line("zero-then-sale", 200, "50", "S-1"),
    Line("return-only", 10, kind=ShipmentKind.RETURN, document="R-1"),
    Line("sale-and-return", 100, document="S-2"),
    Line("sale-and-return", 10, document="R-2", kind=ShipmentKind.RETURN),
    Line("two-lines-one-doc", 20, "10", "S-3"),
    Line("two-lines-one-doc", 20, "15", "S-3"),
    Line("doc-over-two-days", 95, "10", "S-4"),
    Line("doc-over-two-days", 89, "10", "S-4"),
    Line("same-day-no-doc", 30, "1"),
    Line("same-day-no-doc", 30, "2"),
    Line("two-days-no-doc", 30),
    Line("two-days-no-doc", 31),
    Line("tomorrow", -1),
    Line("pinned-through-d0", 10),
    Line("pinned-forever", 10),
]
CLIENTS = sorted({line.client for line in LINES} | {"never"})
PINS = {"pinned-through-d0": (S.DEPARTED, D0), "pinned-forever": (S.REGULAR, None)}


def rule_status(client: str, today: date) -> S:
    """The status docs/analytics.md gives ``client`` on ``today``, computed without SQL."""
    Key = tuple[str | date, ...]
    documents: dict[Key, tuple[Decimal, date]] = defaultdict(lambda: (Decimal(0), date.min))
    for line in LINES:
        day = D0 - timedelta(days=line.age)
        if line.client != client or line.kind is not ShipmentKind.SALE or day > today:
            continue
        key: Key = (line.document,) if line.document else ("day", day)
        total, last = documents[key]
        documents[key] = (total + Decimal(line.amount), max(last, day))
    bought = [last for total, last in documents.values() if total > 0]
    return classify(len(bought), max(bought, default=None), today)


def _seed(crm: Crm) -> dict[str, Counterparty]:
    cards = {name: crm.counterparty(name) for name in CLIENTS}
    numbers: dict[str | None, int] = defaultdict(int)
    for line in LINES:
        numbers[line.document] += 1
        crm.shipment(
            cards[line.client],
            D0 - timedelta(days=line.age),
            line.amount,
            document=line.document,
            line=numbers[line.document] if line.document else None,
            kind=line.kind,
        )
    for name, (status, until) in PINS.items():
        cards[name].status, cards[name].status_pinned, cards[name].status_pinned_until = status, True, until
    crm.session.flush()
    return cards


def _statuses(session: Session) -> dict[str, S]:
    return dict(session.execute(select(Counterparty.name, Counterparty.status)).all())


def _history(session: Session) -> set[tuple[str, S, S, date, StatusCause]]:
    stmt = select(
        Counterparty.name,
        ClientStatusChange.from_status,
        ClientStatusChange.to_status,
        ClientStatusChange.day,
        ClientStatusChange.cause,
    ).join(Counterparty, Counterparty.id == ClientStatusChange.counterparty_id)
    return set(session.execute(stmt).all())


def _expected(day: date, before: dict[str, S]) -> dict[str, S]:
    pinned = {name for name, (_, until) in PINS.items() if until is None or until >= day}
    return {name: before[name] if name in pinned else rule_status(name, day) for name in CLIENTS}


def test_sql_recompute_matches_the_rules_around_moscow_midnight(session: Session, crm: Crm) -> None:
    _seed(crm)
    stored = _statuses(session)
    expected_history: set[tuple[str, S, S, date, StatusCause]] = set()
    for now in (BEFORE_MIDNIGHT, AT_MIDNIGHT):
        day = day_in(now, TZ)
        expected = _expected(day, stored)
        expected_history |= {
            (name, stored[name], expected[name], day, StatusCause.RECOMPUTE)
            for name in CLIENTS
            if expected[name] != stored[name]
        }

        result = recompute_statuses(session, day, now)
        session.expire_all()

        assert _statuses(session) == expected
        assert _history(session) == expected_history
        assert result.changed == sum(expected[n] != stored[n] for n in CLIENTS)
        stored = expected

    assert day_in(AT_MIDNIGHT, TZ) == D0 + timedelta(days=1)


def test_the_reference_reading_itself_at_the_boundaries() -> None:
    """Guards the expectations above against a wrong reference: the documented outcomes, literally."""
    d1 = D0 + timedelta(days=1)
    assert [rule_status(c, D0) for c in ("fresh90", "old91", "regular180", "departed181")] == [
        S.ONE_TIME_FRESH,
        S.ONE_TIME_OLD,
        S.REGULAR,
        S.DEPARTED,
    ]
    assert [rule_status(c, d1) for c in ("fresh90", "regular180", "doc-over-two-days")] == [
        S.ONE_TIME_OLD,
        S.DEPARTED,
        S.ONE_TIME_FRESH,
    ]
    assert {rule_status(c, D0) for c in ("never", "zero", "zero-doc", "return-only", "tomorrow")} == {
        S.POTENTIAL
    }
    assert rule_status("tomorrow", d1) is S.ONE_TIME_FRESH
    assert rule_status("zero-then-sale", D0) is S.ONE_TIME_OLD
    assert rule_status("sale-and-return", D0) is S.ONE_TIME_OLD
    assert rule_status("two-lines-one-doc", D0) is S.ONE_TIME_FRESH
    assert rule_status("same-day-no-doc", D0) is S.ONE_TIME_FRESH
    assert rule_status("two-days-no-doc", D0) is S.REGULAR


def test_dry_run_counts_moves_and_writes_nothing(session: Session, crm: Crm) -> None:
    _seed(crm)
    stored = _statuses(session)

    result = recompute_statuses(session, D0, BEFORE_MIDNIGHT, dry_run=True)
    session.expire_all()

    assert result.changed == sum(_expected(D0, stored)[n] != stored[n] for n in CLIENTS) > 0
    assert _statuses(session) == stored
    assert _history(session) == set()


def test_the_recompute_sends_the_same_statements_for_any_number_of_clients(
    session: Session, crm: Crm
) -> None:
    """Set-based: no statement per client or per batch of clients, and no client row read into Python."""
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    engine = session.get_bind().engine
    sent = []
    for clients in (3, 60):
        for i in range(clients):
            crm.shipment(crm.counterparty(f"c{clients}-{i}"), D0 - timedelta(days=i))
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            result = recompute_statuses(session, D0, BEFORE_MIDNIGHT)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert result.changed == clients
        sent.append(len(statements))

    assert sent[0] == sent[1] <= 8
