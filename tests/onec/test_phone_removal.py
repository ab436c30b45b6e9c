"""Phones removed in 1C are removed here, but only the numbers the sync created; routing follows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.models import ContactPerson, PhoneNumber
from crm_core.models.auth import AuditEntry
from crm_core.repositories.routing import load_number
from erp_bridge.onec import standin_data as d
from tests.onec.conftest import Base1C
from tests.onec.test_sync import card, client_name, sync


def numbers_of(session: Session, counterparty_id: int) -> dict[str, str | None]:
    stmt = select(PhoneNumber).where(PhoneNumber.counterparty_id == counterparty_id)
    return {p.e164: p.origin for p in session.scalars(stmt)}


def set_phones(entity: d.Entity, *phones: str) -> None:
    d.touch(entity)["КонтактнаяИнформация"] = d.contact_info(*phones)


def test_added_changed_and_removed_phone_follow_1c_and_a_manual_number_stays(
    sessions: sessionmaker[Session], base1c: Base1C
) -> None:
    sync(sessions, base1c)
    name = client_name(base1c, "vasilek")
    with sessions() as s:
        vasilek = card(s, name)
        assert numbers_of(s, vasilek.id) == {"+79120001122": "1c"}
        s.add(PhoneNumber(e164="+79990001122", counterparty_id=vasilek.id, label="мобильный"))
        s.commit()
        vasilek_id = vasilek.id
    entity = base1c.clients["vasilek"]
    set_phones(entity, "+7 912 000-11-22", "+7 912 000-33-44")  # added
    sync(sessions, base1c)
    with sessions() as s:
        assert numbers_of(s, vasilek_id) == {"+79120001122": "1c", "+79120003344": "1c", "+79990001122": None}
    set_phones(entity, "+7 912 000-55-66")  # both changed to another number
    forgotten: list[set[str]] = []
    report = sync(sessions, base1c, after_commit=lambda numbers, config: forgotten.append(numbers))
    assert report.of("clients").updated == 1
    assert {"+79120001122", "+79120003344", "+79120005566"} <= set().union(*forgotten)
    with sessions() as s:
        assert numbers_of(s, vasilek_id) == {"+79120005566": "1c", "+79990001122": None}
        assert load_number(s, "+79120001122") is None
        deleted = s.scalars(select(AuditEntry).where(AuditEntry.action == "sync-1c:delete")).all()
        assert {e.before["e164"] for e in deleted if e.before} == {"+79120001122", "+79120003344"}
    set_phones(entity)  # every phone removed in 1C
    sync(sessions, base1c)
    with sessions() as s:
        assert numbers_of(s, vasilek_id) == {"+79990001122": None}  # the manual number stays


def test_contact_person_phone_removed_in_1c_is_removed_here(
    sessions: sessionmaker[Session], base1c: Base1C
) -> None:
    sync(sessions, base1c)
    contact = base1c.server.sets[base1c.profile.contacts or ""][0]
    set_phones(contact, "+7 903 111-22-44")
    sync(sessions, base1c)
    with sessions() as s:
        person = s.scalars(select(ContactPerson)).one()
        own = select(PhoneNumber.e164).where(PhoneNumber.contact_person_id == person.id)
        assert set(s.scalars(own)) == {"+79031112244"}
        assert load_number(s, "+79031112233") is None


def test_number_moved_in_1c_from_one_client_to_another_moves_in_one_run(
    sessions: sessionmaker[Session], base1c: Base1C
) -> None:
    sync(sessions, base1c)
    set_phones(base1c.clients["vasilek"])
    romashka = base1c.clients["romashka"]
    set_phones(
        romashka, *[r["Представление"] for r in romashka["КонтактнаяИнформация"][:-1]], "+7 912 000-11-22"
    )
    report = sync(sessions, base1c)
    assert not [p for p in report.problems if "already belongs" in str(p)]
    with sessions() as s:
        moved = load_number(s, "+79120001122")
        assert moved is not None
        assert moved["counterparty_id"] == card(s, client_name(base1c, "romashka")).id
