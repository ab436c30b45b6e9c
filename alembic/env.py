"""Alembic environment: the URL comes from the caller (``callrouter db upgrade``) or from settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event

from alembic import context
from crm_core.db import make_engine
from crm_core.models import Base

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from callrouter.settings import Settings

    return Settings().database_url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_foreign_keys_off(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA foreign_keys=OFF")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_database_url())
    if engine.dialect.name == "sqlite":
        # batch mode rebuilds a table by copy, DROP and rename: with foreign keys on, the DROP would run
        # ON DELETE SET NULL / CASCADE on every referencing row (Alembic's batch documentation)
        event.listen(engine, "connect", _sqlite_foreign_keys_off)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
