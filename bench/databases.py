"""Throw-away databases for the benchmarks: a temporary SQLite file or a fresh PostgreSQL database.

The PostgreSQL database is created next to ``CALLROUTER_BENCH_PG_ADMIN_URL`` (default: the local test
server) or next to the admin URL a benchmark passes in, and dropped afterwards even when the run fails.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from sqlalchemy import create_engine, text

from crm_core.migrations import upgrade

PG_ADMIN_URL = os.environ.get(
    "CALLROUTER_BENCH_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)

Backend = Literal["sqlite", "postgres"]


@contextmanager
def throwaway_database(
    backend: Backend, *, migrate: bool = False, admin_url: str | None = None
) -> Iterator[str]:
    """The URL of an empty database on ``backend``, gone afterwards; ``migrate`` upgrades it first.

    ``admin_url`` (PostgreSQL only) is the server's URL the new database is created from; default
    ``PG_ADMIN_URL``.
    """
    with _empty_database(backend, admin_url or PG_ADMIN_URL) as url:
        if migrate:
            upgrade(url)
        yield url


@contextmanager
def _empty_database(backend: Backend, admin_url: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    if backend != "postgres":
        raise ValueError(f"unknown benchmark backend {backend!r}: sqlite or postgres")
    name = f"callrouter_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin_url.rsplit("/", 1)[0] + "/" + name
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
