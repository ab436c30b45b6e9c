"""One consumer per PBX across every ``callrouter serve`` on one PostgreSQL: leases, terms, fencing.

Each instance runs, per PBX, a loop that claims the PBX's row in ``ami_leases`` (database clock, TTL
``CALLROUTER_AMI_LEASE_TTL_S``). The holder is the leader: it opens the event link (login, snapshot, events)
feeding call tracking and renews the lease every TTL/6. Everyone else is a standby and retries the claim at
the same pace; a lease left unrenewed for a TTL (the leader died, froze, or lost the database) is taken by
the first standby, whose link then starts with a ``CoreShowChannels`` snapshot like any reconnect.

A leader stops consuming at once when a renewal says another instance holds the lease, and by itself when
its own deadline passes (the last renewal that succeeded, plus the TTL, measured from when it was sent)
without a renewal: a frozen or cut-off leader never keeps going. Two leaders can still overlap for the
moment it takes to notice, so every call-tracking transaction is **fenced**: it starts by share-locking
the lease row with this term's holder and epoch (:func:`~crm_core.repositories.ami_leases.holds_lease`)
and is refused when they no longer match. The share lock holds until commit, so a takeover waits for a
write in flight and a write never commits after a takeover. A leader frozen in the middle of such a
transaction would hold the row forever (its TCP connection stays up), so the transaction also sets
``idle_in_transaction_session_timeout`` (TTL/3): PostgreSQL ends the frozen session and frees the row.
Screen pops (``ringing``) are only announced while the term's own deadline has not passed.

Click-to-call does not depend on leadership: every instance keeps an action-only link per PBX
(``Events: off``) for ``Originate``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from crm_core.db import make_session_factory
from crm_core.events import EventPublisher, connect_publisher
from crm_core.metrics import Metrics
from crm_core.repositories.ami_leases import claim_lease, holds_lease, release_lease
from crm_core.services.screen_pop import Ringing
from pbx_bridge.ami.call_tracking_writer import CommitRefused
from pbx_bridge.ami.client import AmiClient
from pbx_bridge.ami.errors import AmiUnknownPbx
from pbx_bridge.ami.link import AmiLinkConfig
from pbx_bridge.ami.sink import AmiEventSink

log = logging.getLogger(__name__)

SinkFactory = Callable[[sessionmaker[Session], Callable[[Ringing], None]], AmiEventSink]
"""Builds a term's sink from its fenced sessions and its gated screen-pop callback."""


class LeadershipLost(CommitRefused):
    """A call-tracking transaction was refused: this instance no longer holds the PBX's lease.

    A :class:`CommitRefused`, so the sink fails the whole batch instead of blaming its events one by one."""


def instance_id() -> str:
    """A holder name unique to this process: host, pid and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclasses.dataclass
class Term:
    """One uninterrupted leadership of ``pbx`` with ``epoch``; valid until ``deadline`` (monotonic)."""

    pbx: str
    epoch: int
    deadline: float

    def valid(self) -> bool:
        return time.monotonic() < self.deadline


class _NoEvents:
    """The sink of an action-only link: it never receives events."""

    async def handle_batch(self, pbx: str, messages: Sequence[Mapping[str, str]]) -> int:
        """Nothing to do: nothing is lost either."""
        return 0

    async def reconcile(
        self, pbx: str, live_channels: Sequence[Mapping[str, str]], continuous: bool = False
    ) -> None:
        """Nothing to do."""


def action_only(config: AmiLinkConfig) -> AmiLinkConfig:
    """The link for actions only (``Events: off``, no snapshot), named ``<pbx>:actions`` in logs and
    metrics."""
    return dataclasses.replace(
        config, pbx=f"{config.pbx}:actions", event_mask="off", events=frozenset(), recheck_interval=0
    )


class AmiLeadership:
    """Elects this instance (or not) per PBX and runs the event link of every PBX it leads."""

    def __init__(
        self,
        configs: Sequence[AmiLinkConfig],
        engine: Engine,
        publisher: EventPublisher,
        make_sink: SinkFactory,
        ringing: Callable[[Ringing], None],
        metrics: Metrics,
        *,
        ttl_s: float = 3.0,
        holder: str | None = None,
    ) -> None:
        self._configs = {c.pbx: c for c in configs}
        if len(self._configs) != len(configs):
            raise ValueError("PBX name configured more than once")
        self._engine, self._publisher, self._make_sink = engine, publisher, make_sink
        self._ringing, self._metrics = ringing, metrics
        self.ttl_s, self.tick_s = ttl_s, ttl_s / 6
        self.holder = holder or instance_id()
        self._actions = {p: AmiClient(action_only(c), _NoEvents(), metrics) for p, c in self._configs.items()}
        self._leading: dict[str, AmiClient] = {}
        self._terms: dict[str, Term] = {}
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def pbxs(self) -> list[str]:
        return list(self._configs)

    @property
    def leads(self) -> list[str]:
        """The PBXs whose events this instance consumes now."""
        return [p for p in self._configs if p in self._leading]

    def action_client(self, pbx: str) -> AmiClient:
        """The action-only link to ``pbx`` (raises :class:`AmiUnknownPbx`)."""
        try:
            return self._actions[pbx]
        except KeyError:
            raise AmiUnknownPbx(f"no AMI link configured for PBX {pbx!r}") from None

    async def start(self) -> None:
        for pbx in self._configs:
            self._metrics.ami_leader.labels(pbx=pbx).set(0)
            await self._actions[pbx].start()
            self._tasks.append(asyncio.create_task(self._elect(pbx), name=f"ami-leadership-{pbx}"))

    async def stop(self, release: bool = True) -> None:
        """Stop the loops and links; hand the leases back (``release``) so that a standby takes over at
        once."""
        tasks, self._tasks = self._tasks, []
        terms = list(self._terms.values())  # before the loops end their terms
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(client.stop() for client in self._actions.values()))
        for term in terms if release else ():
            try:
                async with asyncio.timeout(1.0):
                    await asyncio.to_thread(self._release, term)
            except (TimeoutError, SQLAlchemyError) as exc:
                log.warning("AMI lease of %s not released: %r", term.pbx, exc)

    def states(self) -> list[dict[str, Any]]:
        """Per PBX for ``/ready``: the event link when leading, else the action-only link; ``leader``."""
        out = []
        for pbx in self._configs:
            client = self._leading.get(pbx) or self._actions[pbx]
            state = {**client.state.as_dict(), "pbx": pbx, "leader": pbx in self._leading}
            out.append({**state, "queue_depth": client.queue_depth})
        return out

    async def _elect(self, pbx: str) -> None:
        """Standby until the lease is ours, lead until it is not, forever."""
        while True:
            term = await self._try_claim(pbx)
            if term is None:
                await asyncio.sleep(self.tick_s)
                continue
            await self._lead(term)

    async def _claim(self, pbx: str, budget: float | None = None) -> Term | None:
        """Claim or renew: the term this gives, ``None`` when another instance holds the lease.

        Raises :class:`TimeoutError` or :class:`~sqlalchemy.exc.SQLAlchemyError` when the database does not
        answer within ``budget`` seconds (default: the TTL).
        """
        sent = time.monotonic()
        async with asyncio.timeout(budget if budget is not None else self.ttl_s):
            epoch = await asyncio.to_thread(self._claim_sync, pbx)
        return None if epoch is None else Term(pbx, epoch, sent + self.ttl_s)

    async def _try_claim(self, pbx: str) -> Term | None:
        try:
            return await self._claim(pbx)
        except (TimeoutError, SQLAlchemyError) as exc:
            log.warning("AMI lease of %s: claim failed: %r", pbx, exc)
            return None

    def _claim_sync(self, pbx: str) -> int | None:
        with self._engine.begin() as conn:
            return claim_lease(conn, pbx, self.holder, self.ttl_s)

    def _release(self, term: Term) -> None:
        with self._engine.begin() as conn:
            release_lease(conn, term.pbx, self.holder, term.epoch)

    async def _lead(self, term: Term) -> None:
        """Consume ``term.pbx``'s events while the lease is renewed; stop at once when it is not."""
        pbx = term.pbx
        self._terms[pbx] = term
        gate = self._ringing

        def ringing(ring: Ringing) -> None:
            if term.valid():
                gate(ring)

        fenced = self._metrics.ami_fenced.labels(pbx=pbx)
        sessions = fenced_sessions(
            self._engine, self._publisher, self.holder, term, fenced.inc, idle_limit_s=self.ttl_s / 3
        )
        sink = self._make_sink(sessions, ringing)
        client = AmiClient(self._configs[pbx], sink, self._metrics)
        self._leading[pbx] = client
        self._metrics.ami_leader.labels(pbx=pbx).set(1)
        self._metrics.ami_leadership.labels(pbx=pbx, change="acquired").inc()
        log.info("leading AMI events of %s (epoch %d)", pbx, term.epoch, extra={"pbx": pbx})
        try:
            await client.start()
            await self._renew_until_lost(term)
        finally:
            self._leading.pop(pbx, None)
            self._metrics.ami_leader.labels(pbx=pbx).set(0)
            await client.stop()
            self._terms.pop(pbx, None)
        self._metrics.ami_leadership.labels(pbx=pbx, change="lost").inc()
        log.warning("no longer leading AMI events of %s (epoch %d)", pbx, term.epoch, extra={"pbx": pbx})

    async def _renew_until_lost(self, term: Term) -> None:
        while True:
            await asyncio.sleep(max(0.0, min(self.tick_s, term.deadline - time.monotonic())))
            if not term.valid():
                return  # frozen or starved past the deadline: another instance may lead by now
            try:
                renewed = await self._claim(term.pbx, budget=term.deadline - time.monotonic())
            except (TimeoutError, SQLAlchemyError) as exc:
                log.warning("AMI lease of %s: renewal failed: %r", term.pbx, exc)
                continue  # try again until the deadline
            if renewed is None or renewed.epoch != term.epoch:
                return  # another holder, or another epoch: the lease changed hands since this term began
            term.deadline = renewed.deadline


def fenced_sessions(
    engine: Engine,
    publisher: EventPublisher,
    holder: str,
    term: Term,
    on_fenced: Callable[[], None],
    idle_limit_s: float = 1.0,
) -> sessionmaker[Session]:
    """Sessions whose every transaction first checks (and share-locks) ``term``'s lease; a transaction
    of a term that is over raises :class:`LeadershipLost` (and ends the term). A transaction left idle
    for ``idle_limit_s`` (a frozen process) is ended by the database, which frees the lease row."""
    sessions = make_session_factory(engine)
    connect_publisher(sessions, publisher)

    def check(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
        if not holds_lease(connection, term.pbx, holder, term.epoch, idle_limit_s):
            term.deadline = 0.0  # the leadership loop stops the link at its next tick
            on_fenced()
            raise LeadershipLost(f"lease of {term.pbx} (epoch {term.epoch}) no longer held")

    event.listen(sessions, "after_begin", check)
    return sessions
