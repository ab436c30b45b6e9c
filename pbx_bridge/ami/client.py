"""The AMI client of one PBX: login, event filter, snapshot, ping watchdog, reconnect with backoff.

Built on our own asyncio streams and :mod:`pbx_bridge.ami.parser`, not on panoramisk 1.4, because the
things issue 4 requires are exactly what panoramisk's core gets wrong and cannot be fixed from outside
without replacing most of it: its ``AMIProtocol.data_received`` re-concatenates and re-splits the whole
pending buffer on every read (quadratic on a backlog) and splits only on CRLF CRLF; it decodes with
``errors="ignore"`` (silent loss, nothing counted); a failed Login resolves like any response and nothing
notices; pings are sent but their answers are never checked; actions sent during an outage stay pending and
are *re-sent* after reconnect (a click-to-call Originate could ring twice); events are dispatched to
callbacks synchronously inside the protocol. Our client keeps the same small surface (actions in, events
out) and makes each of those behaviours explicit and tested.

Lifecycle: connect (deadline) -> ``Login`` with the ``Events`` mask -> ``CoreShowChannels`` snapshot to
``sink.reconcile`` -> events stream to the bounded queue while a ``Ping`` every ``ping_interval`` must be
answered within ``ping_timeout`` -> on any failure the session is closed, waiting actions fail with
:class:`AmiDisconnected`, and we reconnect after an exponential backoff with full jitter. A refused login
sets ``state.login_failed`` (for ``/ready``), is logged as an error and backs off like any failure.

An action-only link (``event_mask="off"``, e.g. click-to-call on an instance that does not lead the PBX)
logs in with ``Events: off`` and takes no snapshots.

Snapshots (after every login, after a queue overflow or sink error, and every ``recheck_interval`` while
the link is up) are queued at the point of the stream where their reply ended: events read before the
``CoreShowChannelsComplete`` are handled before the snapshot, events read after it (even in the same TCP
read) after it. The periodic re-check closes calls whose end was lost (events dropped, a gap) although the
link stayed up.

Stopping: every task the client starts is cancelled and awaited, and no code path may swallow a
cancellation (no ``suppress(CancelledError)`` around awaits, no ``asyncio.wait_for`` on Python 3.11, see
:mod:`pbx_bridge.ami.connection`), so :meth:`AmiClient.stop` returns within milliseconds whether the link
is connecting, backing off, logged in, hung or closed by the peer.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from typing import Any

from crm_core.metrics import Metrics
from pbx_bridge.ami.connection import AmiConnection, AmiReply, Headers, Message
from pbx_bridge.ami.consumer import EventConsumer
from pbx_bridge.ami.errors import AmiActionFailed, AmiError, AmiLoginFailed, AmiNotConnected
from pbx_bridge.ami.link import AmiLinkConfig, LinkState
from pbx_bridge.ami.sink import AmiEventSink

log = logging.getLogger(__name__)


def backoff_delay(attempt: int, initial: float, maximum: float, rng: Callable[[], float]) -> float:
    """Exponential backoff with jitter: uniform in [d/2, d], d = min(maximum, initial * 2**attempt).

    >>> backoff_delay(0, 0.5, 30.0, lambda: 1.0), backoff_delay(3, 0.5, 30.0, lambda: 0.0)
    (0.5, 2.0)
    >>> backoff_delay(50, 0.5, 30.0, lambda: 1.0)
    30.0
    """
    delay = min(maximum, initial * 2 ** min(attempt, 32))
    return delay / 2 + rng() * delay / 2


async def cancel_and_wait(
    tasks: Collection[asyncio.Task[Any]], timeout: float | None = None
) -> set[asyncio.Task[Any]]:
    """Cancel ``tasks`` and wait until they have ended (at most ``timeout``); return those still running.

    The caller's own cancellation is never swallowed: it propagates once the (already cancelled) tasks
    have ended. The tasks' results and errors are consumed, they were asked to stop.
    """
    for task in tasks:
        task.cancel()
    if not tasks:
        return set()
    try:
        done, pending = await asyncio.wait(tasks, timeout=timeout)
    except asyncio.CancelledError:
        await asyncio.wait(tasks, timeout=timeout)
        raise
    for task in done:
        if not task.cancelled():
            task.exception()
    return pending


def _without_list_headers(event: Message) -> Message:
    return {k: v for k, v in event.items() if k not in ("Event", "ActionID")}


class AmiClient:
    """One PBX link. ``await start()``, ``await stop()``; ``state`` is always current."""

    def __init__(
        self,
        config: AmiLinkConfig,
        sink: AmiEventSink,
        metrics: Metrics,
        *,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.state = LinkState(pbx=config.pbx)
        self._rng, self._clock = rng, clock
        self._metrics = metrics
        self._events_metric = metrics.ami_events.labels(pbx=config.pbx)
        self._link_up = metrics.ami_link_up.labels(pbx=config.pbx)
        self._consumer = EventConsumer(
            sink, self.state, metrics, config.queue_size, self._resync, config.batch_size
        )
        self._conn: AmiConnection | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self._logged_in = asyncio.Event()
        self._was_logged_in = False  # the last session got past Login: restart the backoff
        self._ping_failure: AmiError | None = None

    async def start(self) -> None:
        """Start the link and the consumer in the background (idempotent)."""
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._run_link(), name=f"ami-link-{self.config.pbx}"),
                asyncio.create_task(self._consumer.run(), name=f"ami-consumer-{self.config.pbx}"),
            ]

    async def stop(self) -> None:
        """Close the link, cancel and await every task; queued events not yet handled are dropped.

        Returns within ``config.stop_timeout`` whatever the link is doing; only a sink that ignores
        cancellation (e.g. a database write in a thread) can outlive it, which is logged.
        """
        tasks, self._tasks = self._tasks, []  # from here on, no resync task is spawned
        if self._conn is not None:
            self._conn.close("client stopped")
        pending = await cancel_and_wait([*tasks, *self._background], self.config.stop_timeout)
        if pending:
            log.error("AMI client %s: tasks still running after stop: %s", self.config.pbx, pending)

    @property
    def running(self) -> bool:
        """``start`` was called and ``stop`` was not."""
        return bool(self._tasks)

    async def wait_logged_in(self, timeout: float) -> None:
        """Wait until the link is logged in (raises ``TimeoutError``)."""
        async with asyncio.timeout(timeout):
            await self._logged_in.wait()

    async def send_action(self, name: str, headers: Headers = (), timeout: float | None = None) -> AmiReply:
        """Send an action on the live link; fails at once when the link is down, never hangs."""
        conn = self._conn
        if conn is None or not self.state.logged_in:
            raise AmiNotConnected(f"AMI link to {self.config.pbx} is down ({self.state.last_error})")
        return await conn.send(name, headers, timeout=timeout or self.config.action_timeout)

    async def originate(
        self,
        channel: str,
        exten: str,
        context: str,
        *,
        caller_id: str | None = None,
        priority: int = 1,
        ring_timeout_ms: int = 30_000,
        variables: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Message:
        """Queue an asynchronous ``Originate`` (click-to-call); returns Asterisk's response.

        Raises :class:`AmiNotConnected`, :class:`AmiActionTimeout`, :class:`AmiDisconnected` or
        :class:`AmiActionFailed`; it is never re-sent on reconnect.
        """
        headers: list[tuple[str, str]] = [
            ("Channel", channel),
            ("Context", context),
            ("Exten", exten),
            ("Priority", str(priority)),
            ("Timeout", str(ring_timeout_ms)),
            ("Async", "true"),
        ]
        if caller_id is not None:
            headers.append(("CallerID", caller_id))
        headers += [("Variable", f"{k}={v}") for k, v in (variables or {}).items()]
        return (await self.send_action("Originate", headers, timeout)).response

    async def _run_link(self) -> None:
        attempt = 0
        while True:
            try:
                await self._session()
            except AmiLoginFailed as exc:
                self._fail("login_failed", f"login refused: {exc}", logging.ERROR)
                self.state.login_failed = True
            except (OSError, TimeoutError, AmiError) as exc:
                self._fail("link_down", f"{type(exc).__name__}: {exc}", logging.WARNING)
            finally:
                self._down()
            if self._was_logged_in:
                attempt, self._was_logged_in = 0, False
            delay = backoff_delay(attempt, self.config.backoff_initial, self.config.backoff_max, self._rng)
            attempt += 1
            await asyncio.sleep(delay)

    def _fail(self, kind: str, error: str, level: int) -> None:
        """Count and log a failed session; the same error again before a login is logged at DEBUG only
        (a PBX that is not there is not a new problem every 30 s)."""
        repeated = error == self.state.last_error
        self.state.last_error = error
        self._metrics.ami_faults.labels(pbx=self.config.pbx, kind=kind).inc()
        log.log(logging.DEBUG if repeated else level, "AMI link %s: %s", self.config.pbx, error)

    def _down(self) -> None:
        if self._conn is not None:
            self._conn.close("link closed")
            self._conn = None
        self.state.connected = self.state.logged_in = False
        self._logged_in.clear()
        self._link_up.set(0)

    async def _session(self) -> None:
        cfg = self.config
        async with asyncio.timeout(cfg.connect_timeout):
            reader, writer = await asyncio.open_connection(cfg.host, cfg.port, limit=cfg.read_size)
        conn = AmiConnection(reader, writer, self._on_events, self._on_faults, cfg.read_size)
        self._conn = conn
        self.state.connected = True
        self.state.connects += 1
        reading = asyncio.create_task(conn.read_loop(), name=f"ami-reader-{cfg.pbx}")
        children = [reading]
        try:
            await self._login(conn)
            if cfg.receives_events:
                await self._snapshot(conn)
            children.append(asyncio.create_task(self._ping_loop(conn), name=f"ami-ping-{cfg.pbx}"))
            if cfg.recheck_interval > 0 and cfg.receives_events:
                children.append(asyncio.create_task(self._recheck_loop(conn), name=f"ami-recheck-{cfg.pbx}"))
            await reading  # returns at end of stream (also when the watchdog closes the link)
            raise self._ping_failure or AmiError("connection closed by the PBX")
        finally:
            conn.close("session ended")
            await cancel_and_wait(children)

    async def _login(self, conn: AmiConnection) -> None:
        cfg = self.config
        headers = {"Username": cfg.username, "Secret": cfg.secret, "Events": cfg.event_mask}
        try:
            await conn.send("Login", headers, timeout=cfg.action_timeout)
        except AmiActionFailed as exc:
            raise AmiLoginFailed(str(exc)) from None
        self.state.logged_in = self._was_logged_in = True
        self.state.login_failed = False
        self.state.last_error = None
        self._link_up.set(1)
        self._logged_in.set()
        log.info("AMI link %s logged in as %s", cfg.pbx, cfg.username)

    async def _snapshot(self, conn: AmiConnection, continuous: bool = False) -> None:
        """Ask for the live channels; the reply is queued where it ended in the stream (see ``on_reply``).
        ``continuous``: a routine re-check on this session (no gap unless events were dropped meanwhile)."""

        def offer(reply: AmiReply) -> None:
            # the sink gets each channel's fields; Event and our ActionID are transport details
            channels = [_without_list_headers(e) for e in reply.events]
            self._consumer.offer_snapshot(channels, continuous and conn is self._conn)

        await conn.send("CoreShowChannels", timeout=self.config.action_timeout, on_reply=offer)

    def _resync(self) -> None:
        """Consumer asked for a fresh snapshot (after overflow or a sink error).

        When the link is not logged in, nothing is lost: every login is followed by a snapshot, queued
        after everything read before it.
        """
        conn = self._conn
        if conn is not None and self.state.logged_in and self._tasks:
            task = asyncio.create_task(self._resync_on(conn), name=f"ami-resync-{self.config.pbx}")
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _resync_on(self, conn: AmiConnection, continuous: bool = False) -> None:
        try:
            await self._snapshot(conn, continuous)
        except AmiError as exc:  # the reconnect will take a snapshot anyway
            log.warning("AMI resync snapshot of %s failed: %s", self.config.pbx, exc)

    async def _recheck_loop(self, conn: AmiConnection) -> None:
        """List the live channels every ``recheck_interval``: calls Asterisk no longer has get closed."""
        while True:
            await asyncio.sleep(self.config.recheck_interval)
            self.state.rechecks += 1
            await self._resync_on(conn, continuous=True)

    async def _ping_loop(self, conn: AmiConnection) -> None:
        """Close the session when a Ping is not answered in time (dead or hung link)."""
        self._ping_failure = None
        while True:
            await asyncio.sleep(self.config.ping_interval)
            try:
                await conn.send("Ping", timeout=self.config.ping_timeout)
            except AmiError as exc:
                self._metrics.ami_faults.labels(pbx=self.config.pbx, kind="ping_timeout").inc()
                self._ping_failure = AmiError(f"link dead or hung: {exc}")
                conn.close("ping not answered")
                return

    def _on_events(self, events: list[Message]) -> None:
        state = self.state
        state.events_received += len(events)
        state.last_event_at = self._clock()
        self._events_metric.inc(len(events))
        wanted = self.config.events
        self._consumer.offer(events if wanted is None else [e for e in events if e["Event"] in wanted])

    def _on_faults(self, faults: Counter[str]) -> None:
        for kind, count in faults.items():
            self._metrics.ami_faults.labels(pbx=self.config.pbx, kind=kind).inc(count)
        log.warning("AMI input faults from %s: %s", self.config.pbx, dict(faults))

    @property
    def queue_depth(self) -> int:
        return self._consumer.depth
