"""Engine and session factory, built from a URL by the composition root (never at import time).

On SQLite (the embedded default) several processes and threads write one file. What makes that safe:

* WAL, so readers never wait for a writer and a writer never waits for readers;
* every transaction starts with ``BEGIN IMMEDIATE`` (it takes the write lock up front, waiting up to the
  busy timeout), unless it runs on :func:`reading` (plain ``BEGIN``, for work that only reads). A deferred
  transaction that reads and then writes cannot wait for the lock: SQLite fails it at once with
  ``database is locked`` when another writer committed in between;
* a busy timeout long enough for the longest writer (an import commits its whole file at once).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from crm_core.repositories.text_match import register_sqlite_functions
from crm_core.storable_text import refuse_unstorable_parameters

SQLITE_BUSY_TIMEOUT_S = 30.0
_BEGIN_OPTION = "sqlite_begin"


def _sqlite_connect_hook(busy_timeout_s: float) -> Any:
    def configure(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling never emits BEGIN before a SAVEPOINT, which breaks nested
        # transactions; SQLAlchemy's documented recipe: driver autocommit off, BEGIN emitted by us (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.close()

    return configure


def _begin_sqlite_transaction(connection: Connection) -> None:
    mode = connection.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, *, busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S, **kwargs: Any) -> Engine:
    """An engine for ``url``; text a database cannot store is refused (:mod:`crm_core.storable_text`).

    On SQLite foreign keys are enforced, WAL is on, savepoints nest, transactions take the write lock up
    front and wait up to ``busy_timeout_s`` for it (see the module docstring)."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": busy_timeout_s})
    else:
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "before_cursor_execute", refuse_unstorable_parameters)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect_hook(busy_timeout_s))
        event.listen(engine, "connect", register_sqlite_functions)
        event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def reading(engine: Engine) -> Engine:
    """``engine`` for work that only reads: on SQLite its transactions take no lock (plain ``BEGIN``).

    Writing in such a transaction is allowed but may fail with ``database is locked`` under concurrent
    writers; use the engine itself for anything that writes."""
    return engine.execution_options(**{_BEGIN_OPTION: "DEFERRED"})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)
