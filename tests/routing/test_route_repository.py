"""The routing repository on SQLite and PostgreSQL: one query per number, the whole configuration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from crm_core.repositories.routing import load_number, load_routing_config, numbers_of_counterparty
from routing.decision import RouteStep
from routing.snapshot import RoutingConfig
from tests.routing.routing_helpers import World


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    conn = session.connection()
    event.listen(conn, "before_cursor_execute", record)
    yield seen
    event.remove(conn, "before_cursor_execute", record)


def test_counterparty_number_carries_the_personal_manager(session: Session, world: World) -> None:
    assert load_number(session, world.acme_phone) == {
        "e164": world.acme_phone,
        "counterparty_id": world.acme,
        "contact_person_id": None,
        "owner_manager_id": None,
        "number_list_id": None,
        "personal_manager_id": world.ann,
    }


def test_contact_number_resolves_to_its_counterparty_and_manager(session: Session, world: World) -> None:
    row = load_number(session, world.contact_phone)
    assert row is not None
    assert (row["counterparty_id"], row["personal_manager_id"]) == (world.acme, world.ann)
    assert row["contact_person_id"] is not None


def test_list_and_manager_numbers(session: Session, world: World) -> None:
    listed, own = load_number(session, world.blacklisted), load_number(session, world.ann_mobile)
    assert listed is not None and listed["number_list_id"] is not None
    assert listed["counterparty_id"] is None
    assert own is not None and own["owner_manager_id"] == world.ann


def test_unknown_number_is_none_in_one_query(session: Session, world: World, statements: list[str]) -> None:
    assert load_number(session, world.stranger) is None
    assert load_number(session, world.acme_phone) is not None
    assert len(statements) == 2


def test_configuration_holds_targets_managers_and_lists(session: Session, world: World) -> None:
    row = load_routing_config(session)
    config = RoutingConfig.from_row(row, RouteStep("PJSIP/fallback", 5))
    assert config.default_route == RouteStep("PJSIP/100", 30)
    assert config.group_route == RouteStep("PJSIP/200", 25)
    assert config.after_hours_route == RouteStep("PJSIP/900", 60)
    assert config.managers[world.ann].controller_id == world.bob
    assert not config.managers[world.carl].active
    assert {lst.name for lst in config.lists.values()} == {"blacklist", "candidates"}


def test_missing_settings_row_uses_the_built_in_default(session: Session) -> None:
    row = load_routing_config(session)
    assert row["settings"] is None
    fallback = RouteStep("PJSIP/fallback", 5)
    assert RoutingConfig.from_row(row, fallback).default_route == fallback


def test_numbers_of_counterparty_include_contacts(session: Session, world: World) -> None:
    assert sorted(numbers_of_counterparty(session, world.acme)) == [world.acme_phone, world.contact_phone]
