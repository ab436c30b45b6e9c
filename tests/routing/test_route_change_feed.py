"""The routing change feed: triggers record every routing-relevant write, readers see each change once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.orm import Session

from crm_core.db import make_engine
from crm_core.models import ContactPerson, Counterparty, Manager, NumberList, PhoneNumber
from crm_core.models.routing_changes import RoutingChange
from crm_core.models.routing_config import RoutingSettings
from crm_core.repositories.routing_changes import (
    FeedChanges,
    FeedPosition,
    feed_end,
    prune_changes,
    read_changes,
)
from tests.routing.routing_helpers import World


def rows_after(session: Session, change: object) -> set[str | None]:
    """The feed rows ``change`` leaves: numbers, None (configuration), ``*`` (everything).

    Read by id inside the test's transaction (readers' positions are for committed data: see below)."""
    last = session.scalar(select(func.coalesce(func.max(RoutingChange.id), 0)))
    if isinstance(change, str):
        session.execute(text(change))
    elif change is not None:
        session.execute(change)  # type: ignore[call-overload]
    session.flush()
    return set(session.scalars(select(RoutingChange.e164).where(RoutingChange.id > last)))


def test_number_writes_name_the_number(session: Session, world: World) -> None:
    number = PhoneNumber.e164
    added = "INSERT INTO phone_numbers (e164, counterparty_id, created_at)"
    assert rows_after(session, f"{added} VALUES ('+79005550001', {world.acme}, CURRENT_TIMESTAMP)") == {
        "+79005550001"
    }
    moved = update(PhoneNumber).where(number == "+79005550001").values(counterparty_id=world.beta)
    assert rows_after(session, moved) == {"+79005550001"}
    renumbered = update(PhoneNumber).where(number == "+79005550001").values(e164="+79005550002")
    assert rows_after(session, renumbered) == {"+79005550001", "+79005550002"}
    labelled = update(PhoneNumber).where(number == "+79005550002").values(label="x")
    assert rows_after(session, labelled) == set()  # not routing-relevant
    assert rows_after(session, delete(PhoneNumber).where(number == "+79005550002")) == {"+79005550002"}


def test_a_new_personal_manager_names_the_counterpartys_numbers(session: Session, world: World) -> None:
    acme = update(Counterparty).where(Counterparty.id == world.acme)
    reassigned = rows_after(session, acme.values(manager_id=world.bob))
    assert reassigned == {world.acme_phone, world.contact_phone}  # its own and its contact's
    assert rows_after(session, acme.values(name="Acme Ltd")) == set()
    contact = session.scalars(select(ContactPerson.id)).one()
    moved = update(ContactPerson).where(ContactPerson.id == contact).values(counterparty_id=world.beta)
    assert rows_after(session, moved) == {world.contact_phone}
    removed = rows_after(session, delete(Counterparty).where(Counterparty.id == world.beta))
    assert removed == {world.beta_phone, world.contact_phone}


def test_configuration_writes_name_the_configuration(session: Session, world: World) -> None:
    for change in (
        update(Manager).where(Manager.id == world.ann).values(dial_target="PJSIP/111"),
        update(RoutingSettings).values(cache_ttl_s=60),
        update(NumberList).where(NumberList.name == "blacklist").values(target="PJSIP/1"),
        "INSERT INTO routing_holidays (day, name) VALUES ('2031-01-01', 'New Year')",
    ):
        assert rows_after(session, change) == {None}, change
    login = update(Manager).where(Manager.id == world.ann).values(password_hash="x")
    assert rows_after(session, login) == set()  # not routing-relevant
    assert "*" in rows_after(session, delete(Manager).where(Manager.id == world.carl))


@pytest.fixture
def committed(fresh_db_url: str) -> Iterator[Engine]:
    """An engine on a database of its own, with one counterparty: these tests commit."""
    engine = make_engine(fresh_db_url)
    with Session(engine) as session:
        session.add(Counterparty(id=1, name="Acme"))
        session.commit()
    yield engine
    engine.dispose()


def add_number(session: Session, e164: str) -> None:
    session.add(PhoneNumber(e164=e164, counterparty_id=1))
    session.flush()


def test_each_committed_change_is_read_once_even_when_commits_come_out_of_order(committed: Engine) -> None:
    with Session(committed) as reader:
        position = feed_end(reader)
    early, late = Session(committed), Session(committed)
    try:
        add_number(early, "+79007770001")  # takes its id (and transaction id) first ...
        if committed.dialect.name == "sqlite":
            early.commit()  # (SQLite has one writer: the second waits for the first)
        add_number(late, "+79007770002")
        late.commit()  # ... but commits last on PostgreSQL
        with Session(committed) as reader:
            first = read_changes(reader, position)
        early.commit()
        with Session(committed) as reader:
            second = read_changes(reader, first.position)
            third = read_changes(reader, second.position)
    finally:
        early.close()
        late.close()
    assert first.numbers | second.numbers == {"+79007770001", "+79007770002"}
    assert not first.numbers & second.numbers
    assert third.numbers == frozenset()


def test_more_rows_than_asked_for_means_everything(committed: Engine) -> None:
    with Session(committed) as session:
        start = feed_end(session)
        for i in range(12):
            add_number(session, f"+7900666{i:04d}")
        session.commit()
        assert read_changes(session, start, limit=20).numbers == {f"+7900666{i:04d}" for i in range(12)}
        overflow = read_changes(session, start, limit=10)
        assert overflow.everything
        assert read_changes(session, overflow.position) == FeedChanges(overflow.position)


def test_the_first_read_sees_what_is_still_in_the_feed(committed: Engine) -> None:
    with Session(committed) as session:
        session.execute(update(Counterparty).values(name="Acme Ltd"))
        add_number(session, "+79009990001")
        session.execute(text("UPDATE routing_settings SET cache_ttl_s = 60"))
        session.execute(text("INSERT INTO routing_holidays (day, name) VALUES ('2031-01-01', 'New Year')"))
        session.commit()
        found = read_changes(session, FeedPosition())
        assert (found.numbers, found.config, found.everything) == ({"+79009990001"}, True, False)


def test_old_rows_are_pruned(committed: Engine) -> None:
    with Session(committed) as session:
        add_number(session, "+79008880001")
        session.commit()
        assert prune_changes(session, datetime.now(UTC) - timedelta(hours=1)) == 0
        assert prune_changes(session, datetime.now(UTC) + timedelta(minutes=1)) >= 1
        session.commit()
        assert session.scalar(select(func.count()).select_from(RoutingChange)) == 0
        assert read_changes(session, FeedPosition()).numbers == frozenset()
