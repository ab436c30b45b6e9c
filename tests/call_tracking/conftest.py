"""Fixtures of the call-tracking tests.

The sink commits (one transaction per event). On SQLite the shared ``sessions`` fixture turns those commits
into savepoints, but pysqlite emits no ``BEGIN`` of its own, so ``RELEASE SAVEPOINT`` would commit for real
and leak rows into later tests. ``engine`` is overridden here with SQLAlchemy's documented pysqlite recipe
(driver-level autocommit off, explicit ``BEGIN``), so every test's writes are rolled back on both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event

from crm_core.db import make_engine


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    if eng.dialect.name == "sqlite":

        @event.listens_for(eng, "connect")
        def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(eng, "begin")
        def _explicit_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN")

    yield eng
    eng.dispose()
