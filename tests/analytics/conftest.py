"""Fixtures of the analytics tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.analytics.factories import Crm


@pytest.fixture
def crm(session: Session) -> Crm:
    return Crm(session)
