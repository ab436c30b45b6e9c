"""Announce ringing phones to their managers' live views, off the telephony fronts' hot path.

:meth:`RingingAnnouncer.notify` is called on the event loop by the AMI observer or the Twilio voice front
and returns at once; the lookup (manager, caller, card) and the publication run in a worker thread. A phone
rung twice in one call pops once; when too many lookups are pending (a database stall), new ones are
dropped and counted rather than queued without bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

from sqlalchemy.orm import Session, sessionmaker

from crm_core.events import EventPublisher
from crm_core.metrics import Metrics
from crm_core.models.base import utcnow
from crm_core.services.screen_pop import Ringing, ringing_event

log = logging.getLogger(__name__)


class RingingAnnouncer:
    """Looks up and publishes ``ringing`` events (see the module docstring)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        publisher: EventPublisher,
        metrics: Metrics,
        *,
        region: str = "RU",
        max_pending: int = 64,
        remember: int = 4096,
    ) -> None:
        self._sessions = sessions
        self._publisher = publisher
        self._metrics = metrics
        self._region = region
        self._max_pending = max_pending
        self._remember = remember
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def notify(self, ring: Ringing) -> None:
        """Schedule the announcement of ``ring`` (call on the running event loop)."""
        key = (ring.linkedid, ring.target)
        if key in self._seen:
            return
        self._seen[key] = None
        if len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        if len(self._tasks) >= self._max_pending:
            self._metrics.live_events.labels(name="ringing", result="dropped").inc()
            log.warning("ringing not announced: too many pending", extra={"linkedid": ring.linkedid})
            return
        task = asyncio.get_running_loop().create_task(self._announce(ring))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _announce(self, ring: Ringing) -> None:
        try:
            await asyncio.to_thread(self._lookup_and_publish, ring)
        except Exception:
            self._metrics.live_events.labels(name="ringing", result="error").inc()
            log.exception("ringing not announced", extra={"linkedid": ring.linkedid})

    def _lookup_and_publish(self, ring: Ringing) -> None:
        with self._sessions() as session:
            event = ringing_event(session, ring, self._region, utcnow())
        if event is not None:
            self._publisher.publish(event)

    async def drain(self) -> None:
        """Wait for the announcements in flight (tests, shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
