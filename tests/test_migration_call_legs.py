"""Migration 0008 gives calls recorded before it their one answered leg, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from alembic import command
from crm_core.migrations import alembic_config, upgrade
from tests.conftest import _create_pg_database, _drop_pg_database


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    name, url = _create_pg_database()
    try:
        yield url
    finally:
        _drop_pg_database(name)


def test_upgrade_backfills_one_leg_per_answered_record_and_downgrades(fresh_url: str) -> None:
    upgrade(fresh_url, "0006")
    engine = create_engine(fresh_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO managers (id, name, login, role, active, ring_timeout_s, created_at, updated_at)"
                " VALUES (7, 'M', 'm', 'manager', true, 20, '2026-11-28 10:00:00+00',"
                " '2026-11-28 10:00:00+00')"
            )
        )
        for rid, target, answered in ((1, "PJSIP/m1", "2026-11-28 10:00:05+00"), (2, None, None)):
            conn.execute(
                text(
                    "INSERT INTO call_records (id, pbx_system, linkedid, direction, started_at, answered_at,"
                    " ended_at, talk_seconds, disposition, answered_by_manager_id, answered_by_target,"
                    " unregistered_number, created_at) VALUES (:id, 'main', :lid, 'inbound',"
                    " '2026-11-28 10:00:00+00', :answered, '2026-11-28 10:01:00+00', :talk, :disp, :mid,"
                    " :target, false, '2026-11-28 10:01:00+00')"
                ),
                {
                    "id": rid,
                    "lid": f"1.{rid}",
                    "answered": answered,
                    "talk": 55.0 if answered else None,
                    "disp": "answered" if answered else "no_answer",
                    "mid": 7 if answered else None,
                    "target": target,
                },
            )
    upgrade(fresh_url)
    with engine.connect() as conn:
        legs = conn.execute(
            text(
                "SELECT call_record_id, position, target, manager_id, talk_seconds, approximate"
                " FROM call_legs"
            )
        ).all()
        flags = conn.execute(text("SELECT approximate, transferred_to FROM call_records ORDER BY id")).all()
    assert [tuple(row) for row in legs] == [(1, 0, "PJSIP/m1", 7, 55.0, False)]
    assert [tuple(row) for row in flags] == [(False, None), (False, None)]
    command.downgrade(alembic_config(fresh_url), "0006")
    engine.dispose()
