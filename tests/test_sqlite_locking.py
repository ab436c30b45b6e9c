"""The embedded SQLite engine: writers wait for each other instead of failing, readers never wait."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text

from crm_core.db import make_engine, make_session_factory, reading
from crm_core.services.errors import InvalidInput

HOLD_S = 1.0


@pytest.fixture
def sqlite_file_engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}", busy_timeout_s=30)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        conn.execute(text("INSERT INTO t (v) VALUES ('first')"))
    return engine


def _hold_write_lock(engine: Engine, locked: threading.Event, release: threading.Event) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE t SET v = 'held'"))
        locked.set()
        release.wait(30)


def test_a_writer_waits_for_another_and_a_reader_does_not(sqlite_file_engine: Engine) -> None:
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(sqlite_file_engine, locked, release))
    holder.start()
    try:
        assert locked.wait(30)
        # a read-only transaction sees the last committed state while the writer holds the lock
        with make_session_factory(reading(sqlite_file_engine))() as reader:
            assert reader.execute(text("SELECT v FROM t")).scalar_one() == "first"
        # a deferred read-then-write transaction is what failed at once before: it must wait instead
        threading.Timer(HOLD_S, release.set).start()
        started = time.monotonic()
        with make_session_factory(sqlite_file_engine).begin() as writer:
            assert writer.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
            writer.execute(text("INSERT INTO t (v) VALUES ('second')"))
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join()
    assert waited >= HOLD_S * 0.9  # it waited for the other writer's commit ...
    with sqlite_file_engine.connect() as conn:  # ... and both writes are there
        assert sorted(conn.execute(text("SELECT v FROM t")).scalars()) == ["held", "second"]


def test_the_begin_mode_follows_the_engine(sqlite_file_engine: Engine) -> None:
    seen: list[str] = []

    def remember(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(sqlite_file_engine, "before_cursor_execute", remember)
    with sqlite_file_engine.begin() as conn:
        conn.execute(text("SELECT 1"))
    with reading(sqlite_file_engine).begin() as conn:
        conn.execute(text("SELECT 1"))
    assert [s for s in seen if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE", "BEGIN DEFERRED"]


@pytest.mark.parametrize("value", ["a\x00b", "lone \ud800 surrogate"])
def test_text_no_database_can_store_is_refused_before_the_driver(engine: Engine, value: str) -> None:
    with engine.connect() as conn, pytest.raises(InvalidInput) as refused:
        conn.execute(text("SELECT :v"), {"v": value})
    assert refused.value.error_id == "unstorable-text"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT :v"), {"v": "Ромашка"}).scalar_one() == "Ромашка"
