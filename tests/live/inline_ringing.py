"""A ringing announcer that looks up in the caller's thread, for apps over the test's one connection.

The real announcer looks up in a worker thread concurrently with the telephony front's own writes; over
the single connection of a rolled-back test transaction that would interleave two sessions on one
connection, which a real connection pool never does.
"""

from __future__ import annotations

from callrouter.live.ringing import RingingAnnouncer
from callrouter.wiring import Container
from crm_core.services.screen_pop import Ringing


class InlineRingingAnnouncer(RingingAnnouncer):
    def notify(self, ring: Ringing) -> None:
        self._lookup_and_publish(ring)


def inline_ringing(container: Container) -> InlineRingingAnnouncer:
    """Install (and return) an inline announcer on ``container``."""
    announcer = InlineRingingAnnouncer(
        container.sessions, container.events, container.metrics, region=container.settings.default_region
    )
    container.ringing = announcer
    return announcer
