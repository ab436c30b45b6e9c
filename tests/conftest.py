"""Shared fixtures: every database test runs on SQLite and on a throw-away PostgreSQL database.

PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) must be up: ``.ci/ensure-services`` starts them.
A missing server is an error, never a silent skip.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import fastapi.dependencies.models
import pytest
import redis
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from callrouter.logging_setup import configure_logging
from crm_core.db import make_engine
from crm_core.migrations import upgrade

PG_ADMIN_URL = os.environ.get(
    "CALLROUTER_TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
REDIS_TEST_URL = os.environ.get("CALLROUTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TRACES_DIR = Path(__file__).resolve().parent / "asterisk-traces"  # copy of shared/asterisk-traces


@pytest.fixture(scope="session", autouse=True)
def serve_logging() -> Iterator[None]:
    """Log as ``callrouter serve`` does (JSON at INFO): a bad ``extra`` field raises here as it would there.

    pytest's own handlers stay installed beside it, so ``caplog`` keeps working.
    """
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("INFO")
    root.handlers.extend(h for h in saved_handlers if h not in root.handlers)
    yield
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


_FASTAPI_CALLABLE_CACHES = [
    cached for cached in vars(fastapi.dependencies.models).values() if hasattr(cached, "cache_clear")
]


@pytest.fixture(autouse=True)
def release_test_apps() -> Iterator[None]:
    """Let each test's app go after the test.

    FastAPI memoizes what kind of callable every endpoint and dependency is, in LRU caches keyed by the
    callable (4,096 entries each). An app's closures are such callables, so hundreds of test apps stayed
    alive with everything they hold: the run grew to 3.7 GB and its final garbage collection took minutes
    on a busy machine. A service builds one app, so this only concerns test runs."""
    yield
    for cached in _FASTAPI_CALLABLE_CACHES:
        cached.cache_clear()


def _create_pg_database(admin_url: str = PG_ADMIN_URL, prefix: str = "callrouter_test") -> tuple[str, str]:
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, admin_url.rsplit("/", 1)[0] + "/" + name


def _drop_pg_database(name: str, admin_url: str = PG_ADMIN_URL) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def migrated_pg_database(admin_url: str = PG_ADMIN_URL, prefix: str = "callrouter_test") -> Iterator[str]:
    """A throw-away PostgreSQL database next to ``admin_url``, migrated to head, dropped on exit."""
    name, url = _create_pg_database(admin_url, prefix)
    try:
        upgrade(url)
        yield url
    finally:
        _drop_pg_database(name, admin_url)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run, dropped afterwards."""
    with migrated_pg_database() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file for this test run."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'callrouter.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of a migrated database; every test using it runs once per backend."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database of this test's own, for tests that commit (several processes, change feed)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        upgrade(url)
        yield url
        return
    with migrated_pg_database() as url:
        yield url


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@contextmanager
def rolled_back(eng: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back on exit."""
    with eng.connect() as conn:
        trans = conn.begin()
        try:
            yield conn
        finally:
            trans.rollback()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with rolled_back(engine) as conn:
        yield conn


@pytest.fixture
def sqlite_connection(sqlite_url: str) -> Iterator[Connection]:
    """Like ``connection``, on the SQLite file only (tests that replay much and need one backend)."""
    eng = make_engine(sqlite_url)
    try:
        with rolled_back(eng) as conn:
            yield conn
    finally:
        eng.dispose()


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    """A session factory whose commits become savepoints inside the test's rolled-back transaction."""
    return sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as s:
        yield s


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A dedicated Redis database index, flushed before and after the test."""
    client = redis.Redis.from_url(REDIS_TEST_URL)
    client.flushdb()
    try:
        yield REDIS_TEST_URL
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(scope="session")
def traces_dir() -> Path:
    """The real Asterisk recordings shared by the project."""
    assert TRACES_DIR.is_dir(), f"missing Asterisk traces at {TRACES_DIR}"
    return TRACES_DIR
