"""Forgotten clients at their boundaries: what counts as contact, day 90/91 in Moscow, imported days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from crm_core.analytics.forgotten import ContactKind, ForgottenClient, forgotten_clients
from crm_core.models import CallDirection, CallDisposition, InteractionKind, ManagerRole
from crm_core.repositories.scoped import Viewer
from tests.analytics.factories import Crm

TODAY = date(2024, 6, 30)
MSK = "Europe/Moscow"
EVERYONE = Viewer(0, ManagerRole.DIRECTOR)
YESTERDAY = datetime(2024, 6, 29, 9, tzinfo=UTC)
# 30 June - 90 days = 1 April: a contact that (Moscow) day keeps the client, one on 31 March does not.
KEPT_DAY_STARTS = datetime(2024, 3, 31, 21, 0, tzinfo=UTC)  # 00:00 on 1 April in Moscow


def _forgotten(session: Session, viewer: Viewer = EVERYONE, **kw: object) -> dict[str, ForgottenClient]:
    today = kw.pop("today", TODAY)
    assert isinstance(today, date)
    return {c.name: c for c in forgotten_clients(session, viewer, today, MSK, **kw)}  # type: ignore[arg-type]


def test_a_note_is_not_contact_and_a_shipment_neither(session: Session, crm: Crm) -> None:
    noted, shipped = crm.counterparty("noted"), crm.counterparty("shipped")
    crm.interaction(noted, YESTERDAY, InteractionKind.NOTE)
    crm.shipment(shipped, TODAY)

    found = _forgotten(session)

    assert set(found) == {"noted", "shipped"}
    assert all(c.never_contacted and c.last_contact_kind is None for c in found.values())


@pytest.mark.parametrize("direction", [CallDirection.INBOUND, CallDirection.OUTBOUND])
def test_an_answered_call_either_way_is_contact_an_unanswered_one_is_not(
    session: Session, crm: Crm, direction: CallDirection
) -> None:
    answered, unanswered = crm.counterparty("answered"), crm.counterparty("unanswered")
    crm.call(YESTERDAY, cp=answered, direction=direction)
    for disposition in (CallDisposition.NO_ANSWER, CallDisposition.BUSY, CallDisposition.ABANDONED):
        crm.call(YESTERDAY, cp=unanswered, direction=direction, disposition=disposition)

    assert set(_forgotten(session)) == {"unanswered"}
    old = _forgotten(session, today=TODAY + timedelta(days=91))
    assert (old["answered"].last_contact_kind, old["answered"].days_silent) == (ContactKind.CALL, 92)


def test_an_internal_call_is_not_contact(session: Session, crm: Crm) -> None:
    card = crm.counterparty("internal")
    crm.call(YESTERDAY, cp=card, direction=CallDirection.INTERNAL)
    assert _forgotten(session)["internal"].never_contacted


@pytest.mark.parametrize(
    ("kind", "reported"),
    [
        (InteractionKind.CALL, ContactKind.CALL),
        (InteractionKind.MEETING, ContactKind.MEETING),
        (InteractionKind.MESSENGER, ContactKind.MESSAGE),
        (InteractionKind.EMAIL, ContactKind.MESSAGE),
    ],
)
def test_logged_calls_meetings_and_messages_are_contact(
    session: Session, crm: Crm, kind: InteractionKind, reported: ContactKind
) -> None:
    card = crm.counterparty("touched")
    crm.interaction(card, KEPT_DAY_STARTS - timedelta(seconds=1), kind)

    forgotten = _forgotten(session)["touched"]

    assert (forgotten.last_contact_kind, forgotten.days_silent, forgotten.never_contacted) == (
        reported,
        91,
        False,
    )
    crm.interaction(card, KEPT_DAY_STARTS, kind)
    assert "touched" not in _forgotten(session)


def test_day_90_keeps_day_91_forgets_in_moscow_time(session: Session, crm: Crm) -> None:
    kept, gone = crm.counterparty("kept"), crm.counterparty("gone")
    crm.call(KEPT_DAY_STARTS, cp=kept)  # 1 April 00:00 MSK: 90 days before 30 June
    crm.call(KEPT_DAY_STARTS - timedelta(seconds=1), cp=gone)  # 31 March 23:59:59 MSK: 91 days

    found = _forgotten(session)

    assert set(found) == {"gone"}
    assert found["gone"].days_silent == 91
    assert found["gone"].last_contact_at == KEPT_DAY_STARTS - timedelta(seconds=1)
    assert set(_forgotten(session, days=91)) == set()
    assert set(_forgotten(session, today=TODAY + timedelta(days=1))) == {"gone", "kept"}


def test_never_contacted_counts_from_the_creation_day(session: Session, crm: Crm) -> None:
    crm.counterparty("new enough", created_at=KEPT_DAY_STARTS)
    crm.counterparty("old enough", created_at=KEPT_DAY_STARTS - timedelta(seconds=1))

    found = _forgotten(session)

    assert list(found) == ["old enough"]
    assert (found["old enough"].never_contacted, found["old enough"].days_silent) == (True, 91)
    assert found["old enough"].last_contact_at is None


def test_an_imported_last_contact_counts_for_a_card_created_at_import(session: Session, crm: Crm) -> None:
    imported_today = datetime(2024, 6, 30, 8, tzinfo=UTC)
    crm.counterparty("stale", created_at=imported_today, last_contact_on=date(2024, 3, 31))
    crm.counterparty("recent", created_at=imported_today, last_contact_on=date(2024, 4, 1))
    crm.counterparty("never", created_at=imported_today)
    called = crm.counterparty("called since", created_at=imported_today, last_contact_on=date(2024, 1, 1))
    crm.call(YESTERDAY, cp=called)

    found = _forgotten(session)

    assert list(found) == ["stale"]
    stale = found["stale"]
    assert (stale.last_contact_kind, stale.days_silent, stale.never_contacted) == (
        ContactKind.IMPORTED,
        91,
        False,
    )
    assert stale.last_contact_at == datetime(2024, 3, 31, tzinfo=ZoneInfo(MSK))


def test_a_real_contact_on_the_imported_day_wins_and_later_data_is_not_read(
    session: Session, crm: Crm
) -> None:
    card = crm.counterparty("card", last_contact_on=date(2024, 3, 1))
    crm.interaction(card, datetime(2024, 3, 1, 9, tzinfo=UTC), InteractionKind.MEETING)
    crm.call(datetime(2024, 7, 1, 9, tzinfo=UTC), cp=card)  # after the reference day
    future = crm.counterparty("future import", last_contact_on=date(2024, 7, 2))

    found = _forgotten(session)

    assert found["card"].last_contact_kind is ContactKind.MEETING
    assert found["card"].days_silent == 121
    assert found["future import"].never_contacted and future.created_at.year == 2000


def test_archived_cards_are_left_out(session: Session, crm: Crm) -> None:
    crm.counterparty("archived", archived_at=YESTERDAY)
    assert _forgotten(session) == {}


def test_order_never_contacted_first_then_longest_silent(session: Session, crm: Crm) -> None:
    for name, day in (("b", date(2024, 1, 1)), ("a", date(2023, 1, 1)), ("c", date(2024, 2, 1))):
        crm.counterparty(name, last_contact_on=day)
    crm.counterparty("z never")

    names = [c.name for c in forgotten_clients(session, EVERYONE, TODAY, MSK)]

    assert names == ["z never", "a", "b", "c"]


def test_scoped_by_role(session: Session, crm: Crm) -> None:
    lead = crm.manager("Lead")
    anna, boris, other = crm.manager("Anna"), crm.manager("Boris"), crm.manager("Other")
    for m in (anna, boris):
        m.controller_id = lead.id
    session.flush()
    for owner in (anna, boris, other, None):
        crm.counterparty(f"client of {owner.name if owner else 'nobody'}", owner)

    def seen(who: int, role: ManagerRole, **kw: object) -> set[str]:
        return set(_forgotten(session, Viewer(who, role), **kw))

    assert seen(anna.id, ManagerRole.MANAGER) == {"client of Anna"}
    assert seen(lead.id, ManagerRole.CONTROLLER) == {"client of Anna", "client of Boris"}
    assert seen(lead.id, ManagerRole.CONTROLLER, manager_id=boris.id) == {"client of Boris"}
    assert len(seen(0, ManagerRole.ADMIN)) == 4
    assert seen(anna.id, ManagerRole.MANAGER, manager_id=boris.id) == set()
