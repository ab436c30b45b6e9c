"""Sales reports over the API on SQLite and PostgreSQL: needs, funnel, chart summaries, roles and files."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from callrouter.api.schemas.analytics_sales import FunnelRowRead, NeedGroupRead
from crm_core.models import (
    ClientStatus,
    Counterparty,
    Deal,
    DealStage,
    DealStageName,
    Manager,
    Need,
    Shipment,
    StatusCause,
)
from crm_core.models.client_status import ClientStatusChange
from tests.analytics.factories import Crm
from tests.api.conftest import Staff, add_counterparty

API = "/api/v1/analytics"
# 21:30 UTC on 31 May is 00:30 on 1 June in Moscow (UTC+3): the next company day and month
LATE_MAY_UTC = datetime(2024, 5, 31, 21, 30, tzinfo=UTC)


def _csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def _xlsx(content: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    assert sheet is not None
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def _need(
    db: Session, cp: Counterparty, product: str, quantity: str | None, probability: int, **kw: Any
) -> None:
    db.add(
        Need(
            counterparty_id=cp.id,
            product=product,
            quantity=None if quantity is None else Decimal(quantity),
            probability=probability,
            created_at=kw.get("created_at", datetime(2024, 1, 10, tzinfo=UTC)),
        )
    )


def _needs_fixture(db: Session, staff: Staff) -> None:
    mine = add_counterparty(db, "Alpha", staff.manager, region="Kazan")
    theirs = add_counterparty(db, "Beta", staff.other, region="Moscow")
    _need(db, mine, "Cement", "100", 100)  # all of it
    _need(db, mine, "Cement", "40", 0)  # nothing expected
    _need(db, mine, "Sand", "10", 25)
    _need(db, mine, "Sand", None, 90)  # no quantity: counts as a need of 0
    _need(db, theirs, "Cement", "7", 50)
    _need(db, theirs, "Sand", "1000", 50, created_at=LATE_MAY_UTC)  # 1 June in Moscow
    db.commit()


def test_needs_expected_volume_by_dimension_and_reference_day(
    client: TestClient, staff: Staff, db: Session
) -> None:
    _needs_fixture(db, staff)
    h = staff.headers(staff.director)

    by_product = client.get(f"{API}/needs", params={"as_of": "2024-05-31", "by": "product"}, headers=h)

    assert by_product.status_code == 200, by_product.text
    assert [
        (g["product"], g["needs"], g["quantity"], g["expected_quantity"]) for g in by_product.json()["items"]
    ] == [
        ("Cement", 3, "147.000", "103.500"),
        ("Sand", 2, "10.000", "2.500"),
    ]
    assert all(g["region"] is None and g["manager_id"] is None for g in by_product.json()["items"])
    june = client.get(f"{API}/needs", params={"as_of": "2024-06-01", "by": "region"}, headers=h).json()
    assert [(g["region"], g["expected_quantity"]) for g in june["items"]] == [
        ("Moscow", "503.500"),
        ("Kazan", "102.500"),
    ]
    both = client.get(
        f"{API}/needs", params={"as_of": "2024-05-31", "by": ["manager", "product"]}, headers=h
    ).json()
    assert {(g["manager_name"], g["product"], g["expected_quantity"]) for g in both["items"]} == {
        ("Manager", "Cement", "100.000"),
        ("Manager", "Sand", "2.500"),
        ("Other", "Cement", "3.500"),
    }
    filtered = client.get(
        f"{API}/needs", params={"as_of": "2024-05-31", "region": "Kazan", "product": "Sand"}, headers=h
    ).json()
    assert [(g["region"], g["manager_id"], g["product"], g["needs"]) for g in filtered["items"]] == [
        ("Kazan", staff.manager.id, "Sand", 2)
    ]


def test_needs_scoped_by_role(client: TestClient, staff: Staff, db: Session) -> None:
    _needs_fixture(db, staff)
    params = {"as_of": "2024-06-30", "by": "manager"}

    def managers(who: Manager) -> set[int]:
        body = client.get(f"{API}/needs", params=params, headers=staff.headers(who)).json()
        return {g["manager_id"] for g in body["items"]}

    assert managers(staff.manager) == {staff.manager.id}
    assert managers(staff.controller) == {staff.manager.id}  # the team
    assert managers(staff.other) == {staff.other.id}
    assert managers(staff.director) == managers(staff.admin) == {staff.manager.id, staff.other.id}


def test_needs_export_every_row_as_csv_and_xlsx(client: TestClient, staff: Staff, db: Session) -> None:
    _needs_fixture(db, staff)
    params = {"as_of": "2024-06-30", "limit": 1}
    h = staff.headers(staff.admin)

    page = client.get(f"{API}/needs", params=params, headers=h).json()
    rows = _csv(client.get(f"{API}/needs", params={**params, "format": "csv"}, headers=h).content)
    table = _xlsx(client.get(f"{API}/needs", params={**params, "format": "xlsx"}, headers=h).content)

    assert (len(page["items"]), page["total"]) == (1, 4)
    assert list(rows[0]) == table[0] == list(NeedGroupRead.model_fields)
    assert len(rows) == len(table) - 1 == 4
    assert (rows[0]["region"], rows[0]["product"], rows[0]["expected_quantity"]) == (
        "Moscow",
        "Sand",
        "500.000",
    )
    assert table[1][:4] == ["Moscow", staff.other.id, "Other", "Sand"]


def test_needs_bad_input_is_a_clear_422(client: TestClient, staff: Staff) -> None:
    h = staff.headers(staff.director)
    for params in ({"by": "colour"}, {"as_of": "yesterday"}, {"format": "pdf"}, {"manager_id": 0}):
        answer = client.get(f"{API}/needs", params=params, headers=h)
        assert answer.status_code == 422, params
        assert answer.json()["error"]


def _deal(
    db: Session, cp: Counterparty, manager: Manager | None, *steps: tuple[DealStageName, datetime]
) -> Deal:
    deal = Deal(
        counterparty_id=cp.id,
        manager_id=manager.id if manager else None,
        title="d",
        stage=steps[-1][0],
        created_at=steps[0][1],
    )
    db.add(deal)
    db.flush()
    db.add_all(DealStage(deal_id=deal.id, stage=stage, entered_at=at) for stage, at in steps)
    return deal


def _at(day: int, month: int = 5) -> datetime:
    return datetime(2024, month, day, 9, tzinfo=UTC)


def _funnel_fixture(db: Session, staff: Staff) -> None:
    S = DealStageName
    mine = add_counterparty(db, "Alpha", staff.manager)
    theirs = add_counterparty(db, "Beta", staff.other)
    _deal(
        db,
        mine,
        staff.manager,
        (S.LEAD, _at(2)),
        (S.QUALIFICATION, _at(3)),
        (S.PROPOSAL, _at(4)),
        (S.WON, _at(20)),
    )
    _deal(db, mine, staff.manager, (S.LEAD, _at(5)), (S.QUALIFICATION, _at(6)), (S.LOST, _at(7)))
    _deal(db, mine, staff.manager, (S.LEAD, _at(8)))
    _deal(db, mine, staff.manager, (S.LEAD, _at(9)), (S.WON, _at(2, 6)))  # won in June
    _deal(db, theirs, staff.other, (S.LEAD, LATE_MAY_UTC))  # a June deal in Moscow time
    db.commit()


def _stages(rows: list[dict[str, Any]]) -> list[tuple[str, int, float | None]]:
    return [(r["stage"], r["deals"], r["conversion"]) for r in rows]


def test_funnel_reached_stages_conversion_and_empty_stages(
    client: TestClient, staff: Staff, db: Session
) -> None:
    _funnel_fixture(db, staff)
    h = staff.headers(staff.director)

    may = client.get(f"{API}/funnel", params={"as_of": "2024-05-31", "months": 1, "limit": 200}, headers=h)

    assert may.status_code == 200, may.text
    rows = may.json()["items"]
    assert {(r["month"], r["manager_id"]) for r in rows} == {("2024-05", staff.manager.id)}
    assert _stages(rows) == [
        ("lead", 4, None),
        ("qualification", 2, 0.5),
        ("proposal", 1, 0.5),  # the first deal skipped negotiation: it still passed proposal
        ("negotiation", 1, 1.0),
        ("won", 1, 1.0),  # the June win is not read on 31 May
        ("lost", 1, None),
    ]
    june = client.get(
        f"{API}/funnel", params={"as_of": "2024-06-30", "months": 2, "limit": 200}, headers=h
    ).json()["items"]
    per_group = {(r["month"], r["manager_id"], r["stage"]): (r["deals"], r["conversion"]) for r in june}
    assert per_group[("2024-05", staff.manager.id, "won")] == (2, 1.0)
    assert per_group[("2024-05", staff.manager.id, "qualification")] == (3, 0.75)
    # the late-May deal is June's; its empty stages have no conversion rather than a division by zero
    assert [per_group[("2024-06", staff.other.id, s.value)] for s in DealStageName] == [
        (1, None),
        (0, 0.0),
        (0, None),
        (0, None),
        (0, None),
        (0, None),
    ]


def test_funnel_totals_roles_and_exports(client: TestClient, staff: Staff, db: Session) -> None:
    _funnel_fixture(db, staff)
    params: dict[str, Any] = {"as_of": "2024-06-30", "months": 2, "per": "total"}

    total = client.get(f"{API}/funnel", params=params, headers=staff.headers(staff.admin)).json()
    own = client.get(
        f"{API}/funnel", params={**params, "per": "manager"}, headers=staff.headers(staff.manager)
    ).json()
    team = client.get(f"{API}/funnel", params=params, headers=staff.headers(staff.controller)).json()
    rows = _csv(
        client.get(
            f"{API}/funnel",
            params={**params, "per": "month_manager", "format": "csv", "limit": 1},
            headers=staff.headers(staff.director),
        ).content
    )

    assert _stages(total["items"])[:2] == [("lead", 5, None), ("qualification", 3, 0.6)]
    assert {r["manager_id"] for r in own["items"]} == {staff.manager.id}
    assert _stages(team["items"])[0] == ("lead", 4, None)
    assert list(rows[0]) == list(FunnelRowRead.model_fields)
    assert len(rows) == 12  # two groups of six rows, not one page
    assert (
        client.get(f"{API}/funnel", params={"per": "week"}, headers=staff.headers(staff.admin)).status_code
        == 422
    )
    assert (
        client.get(f"{API}/funnel", params={"months": 0}, headers=staff.headers(staff.admin)).status_code
        == 422
    )


def _sale(db: Session, cp: Counterparty, day: date, amount: int, doc: str) -> None:
    db.add(
        Shipment(
            counterparty_id=cp.id,
            shipped_on=day,
            product="p",
            quantity=1,
            amount=Decimal(amount),
            document_number=doc,
            line_number=1,
        )
    )


def test_status_distribution_follows_the_rule_and_pins(client: TestClient, staff: Staff, db: Session) -> None:
    fresh = add_counterparty(db, "Fresh", staff.manager)
    add_counterparty(db, "Potential", staff.manager)
    add_counterparty(db, "Pinned", staff.other, status=ClientStatus.REGULAR, status_pinned=True)
    _sale(db, fresh, date(2024, 3, 2), 100, "A1")  # 90 days before 31 May: still fresh
    db.commit()
    url = f"{API}/status-distribution"

    on_day = client.get(url, params={"as_of": "2024-05-31"}, headers=staff.headers(staff.director)).json()
    day_after = client.get(url, params={"as_of": "2024-06-01"}, headers=staff.headers(staff.director)).json()
    own = client.get(url, params={"as_of": "2024-05-31"}, headers=staff.headers(staff.manager)).json()

    counts = {r["status"]: r["clients"] for r in on_day["items"]}
    assert counts == {"potential": 1, "one_time_fresh": 1, "regular": 1, "one_time_old": 0, "departed": 0}
    assert on_day["as_of"] == "2024-05-31"
    assert {r["status"]: r["share"] for r in on_day["items"]}["potential"] == 0.3333
    assert {r["status"]: r["clients"] for r in day_after["items"]}["one_time_old"] == 1  # 91 days
    assert {r["status"]: r["clients"] for r in own["items"]}["regular"] == 0  # the pinned one is not theirs
    assert sum(r["clients"] for r in own["items"]) == 2


def test_status_transitions_per_month_from_the_history(client: TestClient, staff: Staff, db: Session) -> None:
    mine = add_counterparty(db, "Mine", staff.manager)
    theirs = add_counterparty(db, "Theirs", staff.other)
    P, F, OLD = ClientStatus.POTENTIAL, ClientStatus.ONE_TIME_FRESH, ClientStatus.ONE_TIME_OLD
    for cp, old, new, day in (
        (mine, P, F, date(2024, 4, 30)),
        (theirs, P, F, date(2024, 4, 1)),
        (mine, F, OLD, date(2024, 5, 1)),
        (theirs, F, OLD, date(2024, 6, 1)),  # after as_of: not read
    ):
        db.add(
            ClientStatusChange(
                counterparty_id=cp.id, from_status=old, to_status=new, day=day, cause=StatusCause.RECOMPUTE
            )
        )
    db.commit()
    params = {"as_of": "2024-05-31", "months": 2}

    everyone = client.get(
        f"{API}/status-transitions", params=params, headers=staff.headers(staff.director)
    ).json()
    own = client.get(f"{API}/status-transitions", params=params, headers=staff.headers(staff.manager)).json()
    one_month = client.get(
        f"{API}/status-transitions", params={**params, "months": 1}, headers=staff.headers(staff.director)
    ).json()
    rows = _csv(
        client.get(
            f"{API}/status-transitions",
            params={**params, "format": "csv"},
            headers=staff.headers(staff.admin),
        ).content
    )

    moves = [(r["month"], r["from_status"], r["to_status"], r["clients"]) for r in everyone["items"]]
    assert moves == [
        ("2024-04", "potential", "one_time_fresh", 2),
        ("2024-05", "one_time_fresh", "one_time_old", 1),
    ]
    assert [r["clients"] for r in own["items"]] == [1, 1]
    assert [r["month"] for r in one_month["items"]] == ["2024-05"]
    assert [(r["month"], r["clients"]) for r in rows] == [("2024-04", "2"), ("2024-05", "1")]


def test_abc_xyz_matrix_has_nine_cells_with_counts_and_revenue(
    client: TestClient, staff: Staff, db: Session
) -> None:
    steady = add_counterparty(db, "Steady", staff.manager)
    once = add_counterparty(db, "Once", staff.other)
    for month in range(1, 13):  # the same every month of 2023: X
        _sale(db, steady, date(2023, month, 10), 1000, f"S{month}")
    _sale(db, once, date(2023, 6, 10), 50, "O1")  # one month of twelve: Z, and C by share
    db.commit()
    url = f"{API}/abc-xyz"

    director = client.get(url, params={"as_of": "2024-01-15"}, headers=staff.headers(staff.director)).json()
    manager = client.get(url, params={"as_of": "2024-01-15"}, headers=staff.headers(staff.manager)).json()
    table = _xlsx(
        client.get(
            url, params={"as_of": "2024-01-15", "format": "xlsx"}, headers=staff.headers(staff.admin)
        ).content
    )

    cells = {(c["abc"], c["xyz"]): (c["clients"], c["revenue"]) for c in director["items"]}
    assert len(cells) == 9
    assert cells[("A", "X")] == (1, "12000.00")
    assert cells[("C", "Z")] == (1, "50.00")
    assert sum(n for n, _ in cells.values()) == 2
    assert sum(c["clients"] for c in manager["items"]) == 1
    assert table[0] == ["abc", "xyz", "clients", "revenue"] and len(table) == 10


def test_callback_trend_per_week_in_company_time(client: TestClient, staff: Staff, db: Session) -> None:
    crm = Crm(db)
    monday = datetime(2024, 3, 4, 6, tzinfo=UTC)  # Monday 4 March, 09:00 in Moscow
    crm.missed(staff.manager, monday, monday + timedelta(minutes=10))
    crm.missed(staff.manager, monday, monday + timedelta(minutes=30))
    crm.missed(staff.manager, monday, None)
    sunday_night = datetime(2024, 3, 3, 21, 30, tzinfo=UTC)  # 00:30 Monday in Moscow: this week
    crm.missed(staff.other, sunday_night, sunday_night + timedelta(minutes=60))
    crm.missed(staff.other, datetime(2024, 2, 28, 8, tzinfo=UTC), None)  # the week before
    db.commit()
    params = {"as_of": "2024-03-06", "step": "week", "periods": 2}
    url = f"{API}/callback-trend"

    director = client.get(url, params=params, headers=staff.headers(staff.director)).json()
    controller = client.get(url, params=params, headers=staff.headers(staff.controller)).json()
    months = client.get(
        url, params={**params, "step": "month", "periods": 3}, headers=staff.headers(staff.director)
    ).json()

    before, this = director["items"]
    assert (before["start"], before["end"], before["missed"], before["callback_rate"]) == (
        "2024-02-26",
        "2024-03-03",
        1,
        0.0,
    )
    assert (this["start"], this["end"], this["missed"], this["called_back"]) == (
        "2024-03-04",
        "2024-03-06",
        4,
        3,
    )
    assert (this["callback_rate"], this["median_callback_seconds"], this["p90_callback_seconds"]) == (
        0.75,
        1800.0,
        3240.0,
    )
    assert [p["missed"] for p in controller["items"]] == [0, 3]  # only the team's calls
    assert controller["items"][0]["callback_rate"] is None  # no calls: no rate
    assert [(p["start"], p["missed"]) for p in months["items"]] == [
        ("2024-01-01", 0),
        ("2024-02-01", 1),
        ("2024-03-01", 4),
    ]
    assert client.get(url, params={"step": "day"}, headers=staff.headers(staff.director)).status_code == 422
