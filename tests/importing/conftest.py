"""Helpers for the import tests: CSV text to a source, managers as data."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.importing import COUNTERPARTY_COLUMNS, CsvSource, read_csv
from crm_core.models.counterparties import Counterparty
from crm_core.models.people import Manager
from crm_core.models.phones import PhoneNumber

HEADER = "external_id,name,tax_id,phones,manager,status"


def counterparty_csv(*lines: str, header: str = HEADER) -> CsvSource:
    """A counterparty source from data lines under ``header`` (line 1); the first data line is line 2."""
    return read_csv("\n".join((header, *lines)).encode(), COUNTERPARTY_COLUMNS)


def counts(session: Session) -> tuple[int, int]:
    """(counterparties, phone numbers) stored."""
    return (
        session.scalar(select(func.count()).select_from(Counterparty)) or 0,
        session.scalar(select(func.count()).select_from(PhoneNumber)) or 0,
    )


@pytest.fixture
def add_manager(session: Session) -> Callable[[str], Manager]:
    """Store a manager with this login."""

    def add(login: str) -> Manager:
        manager = Manager(login=login, name=login.title())
        session.add(manager)
        session.flush()
        return manager

    return add
