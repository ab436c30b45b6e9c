"""Where the routing service's database reads run: threads of their own and, on PostgreSQL, a pool of its own.

The call path never blocks the event loop on the database: every read runs in one of ``workers`` threads.
On PostgreSQL the number lookups and the change feed use their own autocommit pool (one round trip per
read: no pre-ping, no ``ROLLBACK`` on return); elsewhere (SQLite, or a test's shared connection) they use
the sessions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from crm_core.repositories.routing import NumberRow, load_numbers

T = TypeVar("T")
READER_NAME = "callrouter-routing"
"""The ``application_name`` of the lookup pool's connections (``pg_stat_activity``)."""


class RoutingDatabase:
    """Runs routing reads in ``routing-db`` threads; call :meth:`open` before and :meth:`close` after."""

    def __init__(self, sessions: Callable[[], Session], workers: int) -> None:
        self._sessions = sessions
        self._workers = workers
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="routing-db")
        self._reader: Engine | None = None

    def open(self) -> None:
        self._reader = self._lookup_pool()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._reader is not None:
            self._reader.dispose()

    def has_own_connections(self) -> bool:
        """False when the sessions share one connection (a test's transaction): nothing may then use it
        in the background."""
        with self._sessions() as session:
            return isinstance(session.get_bind(), Engine)

    async def read(self, within_s: float | None, fn: Callable[..., T], *args: Any) -> T:
        """``fn(session, *args)`` in a thread, nothing committed; TimeoutError after ``within_s``."""
        return await self._run(within_s, self._in_session, fn, *args)

    async def numbers(self, within_s: float, e164s: list[str]) -> dict[str, NumberRow]:
        """The owner rows of the known numbers among ``e164s`` (one query); TimeoutError: too slow."""
        return await self._run(within_s, self._read_numbers, e164s)

    async def committed(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(db, *args)`` in a thread on the lookup pool (autocommit) or in a session committed after."""
        return await self._run(None, self._committed, fn, *args)

    async def _run(self, within_s: float | None, fn: Callable[..., T], *args: Any) -> T:
        future = asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        if within_s is None:
            return await future
        async with asyncio.timeout(max(within_s, 0.001)):
            return await future

    def _lookup_pool(self) -> Engine | None:
        """A pool of its own when the sessions use a PostgreSQL engine (None: use the sessions).

        A connection the server dropped fails the read, which invalidates the pool; the read is retried once
        on a new connection (:meth:`_read_numbers`)."""
        with self._sessions() as session:
            bind = session.get_bind()
        if not isinstance(bind, Engine) or bind.dialect.name != "postgresql":
            return None
        return create_engine(
            bind.url,
            pool_size=self._workers,
            max_overflow=0,
            pool_pre_ping=False,
            pool_reset_on_return=None,
            isolation_level="AUTOCOMMIT",
            connect_args={"application_name": READER_NAME},
        )

    def _read_numbers(self, e164s: list[str]) -> dict[str, NumberRow]:
        if self._reader is None:
            return self._in_session(load_numbers, e164s)
        try:
            with self._reader.connect() as connection:
                return load_numbers(connection, e164s)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        with self._reader.connect() as connection:  # the server restarted since the last lookup
            return load_numbers(connection, e164s)

    def _in_session(self, fn: Callable[..., T], *args: Any) -> T:
        with self._sessions() as session:
            return fn(session, *args)

    def _committed(self, fn: Callable[..., T], *args: Any) -> T:
        if self._reader is not None:
            with self._reader.connect() as connection:
                return fn(connection, *args)
        with self._sessions() as session:
            result = fn(session, *args)
            session.commit()
            return result


def remaining(end: float) -> float:
    """Seconds left until the monotonic time ``end``."""
    return end - time.monotonic()
