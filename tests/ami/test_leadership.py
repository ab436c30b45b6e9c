"""AMI leadership on a real PostgreSQL: one consumer per PBX, failover, fencing, click-to-call on a
standby."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from callrouter.ami_leadership import AmiLeadership, LeadershipLost, Term, fenced_sessions
from crm_core.db import make_engine
from crm_core.events import DomainEvent
from crm_core.metrics import Metrics
from crm_core.repositories.ami_leases import claim_lease, holds_lease, lease_holder
from crm_core.services.screen_pop import Ringing
from pbx_bridge.ami.sink import AmiEventSink
from tests.ami.conftest import StandInFactory
from tests.ami.helpers import RecordingSink, fast_config, wait_until
from tests.ami.trace import Trace

pytestmark = pytest.mark.postgres
TTL = 1.2


class Published:
    """An event publisher that keeps what it was given."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    def publish(self, event: DomainEvent) -> None:
        self.events.append(event)


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def pbx(pg_engine: Engine) -> Iterator[str]:
    """A PBX name of this test's own; its rows are deleted afterwards (the database is the session's)."""
    name = f"pbx-{uuid.uuid4().hex[:8]}"
    yield name
    with pg_engine.begin() as conn:
        conn.execute(text("DELETE FROM active_calls WHERE pbx_system = :p"), {"p": name})
        conn.execute(text("DELETE FROM ami_leases WHERE pbx = :p"), {"p": name})


Elect = Callable[..., AmiLeadership]


@pytest.fixture
async def elect(pg_engine: Engine) -> AsyncIterator[Elect]:
    """``elect(port, pbx, holder)``: a started-later AmiLeadership with a RecordingSink per term."""
    made: list[AmiLeadership] = []

    def make(port: int, pbx: str, holder: str, sinks: list[RecordingSink] | None = None) -> AmiLeadership:
        def make_sink(sessions: sessionmaker[Session], ringing: Callable[[Ringing], None]) -> AmiEventSink:
            sink = RecordingSink()
            if sinks is not None:
                sinks.append(sink)
            return sink

        config = fast_config(port, pbx=pbx, events=None, ping_interval=60)
        leadership = AmiLeadership(
            [config],
            pg_engine,
            Published(),
            make_sink,
            lambda ring: None,
            Metrics(),
            ttl_s=TTL,
            holder=holder,
        )
        made.append(leadership)
        return leadership

    yield make
    for leadership in made:
        await leadership.stop()


def test_claim_renew_and_takeover_of_an_expired_lease(pg_engine: Engine, pbx: str) -> None:
    with pg_engine.begin() as conn:
        assert claim_lease(conn, pbx, "a", 30) == 1
        assert claim_lease(conn, pbx, "a", 30) == 1  # a renewal keeps the epoch
        assert claim_lease(conn, pbx, "b", 30) is None  # held by a
        assert lease_holder(conn, pbx) == "a"
        conn.execute(
            text("UPDATE ami_leases SET expires_at = now() - interval '1 second' WHERE pbx = :p"), {"p": pbx}
        )
        assert lease_holder(conn, pbx) is None
        assert claim_lease(conn, pbx, "b", 30) == 2  # expired: b takes it, next epoch
        assert holds_lease(conn, pbx, "b", 2, 5) and not holds_lease(conn, pbx, "a", 1, 5)


async def test_one_leader_per_pbx_and_a_standby_takes_over_a_crashed_leader(
    ami_standin: StandInFactory, elect: Elect, answered_trace: Trace, pbx: str
) -> None:
    standin = await ami_standin(answered_trace)
    standin.broadcast = True
    standin.stall()
    sinks_a: list[RecordingSink] = []
    sinks_b: list[RecordingSink] = []
    a, b = elect(standin.port, pbx, "a", sinks_a), elect(standin.port, pbx, "b", sinks_b)
    await a.start()
    await wait_until(lambda: a.leads == [pbx] and len(standin.event_sessions()) == 1)
    await b.start()
    await wait_until(lambda: standin.action_only_logins == 2)  # both keep an action-only link
    await asyncio.sleep(3 * b.tick_s)
    assert b.leads == [] and len(standin.event_sessions()) == 1
    assert [s["leader"] for s in a.states()] == [True] and [s["leader"] for s in b.states()] == [False]

    crashed = time.monotonic()
    await a.stop(release=False)  # its lease stays until it expires, as after kill -9
    await wait_until(lambda: b.leads == [pbx] and len(standin.event_sessions()) == 1, timeout=TTL + 3)
    takeover = time.monotonic() - crashed
    assert takeover < TTL + 2 * b.tick_s + 1.0
    await wait_until(lambda: standin.snapshots_sent == 2)  # a's and b's login snapshots
    standin.resume()
    await wait_until(lambda: len(sinks_b) == 1 and len(sinks_b[0].events) == answered_trace.event_count)
    assert sinks_b[0].log[0] == "snapshot"  # the new leader resyncs before the first event
    assert all(not s.events for s in sinks_a)  # the stalled PBX sent the crashed leader nothing


async def test_a_clean_stop_hands_the_pbx_over_at_once(
    ami_standin: StandInFactory, elect: Elect, answered_trace: Trace, pbx: str
) -> None:
    standin = await ami_standin(answered_trace)
    standin.broadcast = True
    a, b = elect(standin.port, pbx, "a"), elect(standin.port, pbx, "b")
    await a.start()
    await wait_until(lambda: a.leads == [pbx])
    await b.start()
    stopped = time.monotonic()
    await a.stop()
    await wait_until(lambda: b.leads == [pbx], timeout=TTL)
    assert time.monotonic() - stopped < TTL / 2 + 0.5  # no expiry to wait for


async def test_a_leader_cut_off_from_the_database_stops_consuming_by_its_deadline(
    ami_standin: StandInFactory,
    elect: Elect,
    answered_trace: Trace,
    pbx: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    standin = await ami_standin(answered_trace)
    standin.broadcast = True
    standin.stall()
    a = elect(standin.port, pbx, "a")
    await a.start()
    await wait_until(lambda: a.leads == [pbx] and len(standin.event_sessions()) == 1)

    def hang(pbx: str) -> int | None:
        time.sleep(TTL * 2)  # the database does not answer
        return None

    monkeypatch.setattr(a, "_claim_sync", hang)
    cut = time.monotonic()
    await wait_until(lambda: a.leads == [] and not standin.event_sessions(), timeout=TTL + 1)
    assert time.monotonic() - cut <= TTL + 0.3


def _expire(engine: Engine, pbx: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE ami_leases SET expires_at = now() - interval '1 second' WHERE pbx = :p"), {"p": pbx}
        )


_MARKER = text(
    "INSERT INTO active_calls (pbx_system, linkedid, state, updated_at) VALUES (:p, :l, '{}', now())"
)


def _write_marker(sessions: sessionmaker[Session], pbx: str, linkedid: str) -> None:
    with sessions.begin() as session:
        session.execute(_MARKER, {"p": pbx, "l": linkedid})


def _markers(engine: Engine, pbx: str) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT linkedid FROM active_calls WHERE pbx_system = :p ORDER BY id"), {"p": pbx}
        )
        return [r[0] for r in rows]


def test_a_write_of_a_term_that_is_over_is_refused(pg_engine: Engine, pbx: str) -> None:
    with pg_engine.begin() as conn:
        epoch = claim_lease(conn, pbx, "old", 30)
    assert epoch is not None
    fenced: list[int] = []
    term = Term(pbx, epoch, time.monotonic() + 30)
    sessions = fenced_sessions(pg_engine, Published(), "old", term, lambda: fenced.append(1))
    _write_marker(sessions, pbx, "while-leading")
    _expire(pg_engine, pbx)
    with pg_engine.begin() as conn:
        assert claim_lease(conn, pbx, "new", 30) == epoch + 1
    with pytest.raises(LeadershipLost):
        _write_marker(sessions, pbx, "after-takeover")
    assert _markers(pg_engine, pbx) == ["while-leading"]
    assert fenced == [1] and not term.valid()


def test_a_takeover_waits_for_the_write_in_flight(pg_engine: Engine, pbx: str) -> None:
    """The fence share-locks the lease row: a standby's claim cannot commit between the check and the
    commit of the old leader's write, so the write is never committed after the takeover."""
    with pg_engine.begin() as conn:
        epoch = claim_lease(conn, pbx, "old", 0.5)
    assert epoch is not None
    term = Term(pbx, epoch, time.monotonic() + 30)
    sessions = fenced_sessions(pg_engine, Published(), "old", term, lambda: None, idle_limit_s=10)
    claimed: list[tuple[float, int | None]] = []

    def take() -> None:
        with pg_engine.begin() as conn:
            got = claim_lease(conn, pbx, "new", 30)
        claimed.append((time.monotonic(), got))

    thread = threading.Thread(target=take)
    with sessions.begin() as session:
        session.execute(text("SELECT 1"))  # the fence has run and holds the row
        time.sleep(0.7)  # the lease runs out while the write is in flight
        thread.start()
        time.sleep(0.5)
        assert not claimed  # the claim waits for the row
        session.execute(_MARKER, {"p": pbx, "l": "x"})
        committed = time.monotonic()
    thread.join(5)
    assert claimed and claimed[0][0] >= committed and claimed[0][1] == epoch + 1
    assert _markers(pg_engine, pbx) == ["x"]


def test_a_leader_frozen_in_a_write_does_not_keep_the_lease_row_locked(pg_engine: Engine, pbx: str) -> None:
    with pg_engine.begin() as conn:
        epoch = claim_lease(conn, pbx, "frozen", 0.6)
    assert epoch is not None
    term = Term(pbx, epoch, time.monotonic() + 30)
    sessions = fenced_sessions(pg_engine, Published(), "frozen", term, lambda: None, idle_limit_s=0.3)
    session = sessions()
    session.execute(text("SELECT 1"))  # fenced: the row is share-locked, then the process "freezes"
    time.sleep(0.8)  # the lease expires; the database has ended the idle transaction meanwhile
    with pg_engine.begin() as conn:
        assert claim_lease(conn, pbx, "standby", 30) == epoch + 1  # not blocked by the frozen holder
    with pytest.raises(Exception, match=r"idle-in-transaction|terminat|closed"):
        session.execute(_MARKER, {"p": pbx, "l": "late"})
        session.commit()
    session.close()
    assert _markers(pg_engine, pbx) == []


async def test_click_to_call_works_on_a_standby(
    ami_standin: StandInFactory, elect: Elect, answered_trace: Trace, pbx: str
) -> None:
    standin = await ami_standin(answered_trace)
    standin.broadcast = True
    a, b = elect(standin.port, pbx, "a"), elect(standin.port, pbx, "b")
    await a.start()
    await wait_until(lambda: a.leads == [pbx])
    await b.start()
    client = b.action_client(pbx)
    await client.wait_logged_in(3)
    reply = await client.originate("PJSIP/m1", "+79001234516", "from-internal")
    assert reply["Message"] == "Originate successfully queued" and b.leads == []
    logins = [x for x in standin.actions if x.get("Action") == "Login"]
    assert sorted(x.get("Events", "") for x in logins) == ["call,dialplan,agent,cdr", "off", "off"]
