"""Fixtures for call-tracking replays on the migrated SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import make_engine


@pytest.fixture
def sqlite_connection(sqlite_url: str) -> Iterator[Connection]:
    """A connection to the migrated SQLite file inside a transaction rolled back after the test."""
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()
    engine.dispose()


@contextmanager
def isolated(conn: Connection) -> Iterator[sessionmaker[Session]]:
    """Sessions whose writes are rolled back on exit, so each replay starts from the same database."""
    nested = conn.begin_nested()
    try:
        yield sessionmaker(bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint")
    finally:
        nested.rollback()
